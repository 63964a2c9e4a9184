#include "student/colbert_student.hpp"

#include "base/error.hpp"
#include "base/hash.hpp"
#include "text/read_file.hpp"
#include "text/utf8.hpp"
#include "io/checkpoint.hpp"
#include "io/durable_file.hpp"
#include "io/json_file.hpp"
#include "models/config_fields.hpp"

#include <torch/utils.h>
#include <torch/nn/functional.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

const char* const kTokenizerFiles[] = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json"};

std::vector<fs::path> tokenizer_files_at(const fs::path& path) {
  if (fs::is_regular_file(path)) return {path};
  std::vector<fs::path> files;
  for (const char* name : kTokenizerFiles)
    if (fs::exists(path / name)) files.push_back(path / name);
  if (files.empty()) fail(path.string(), "holds no tokenizer.json or tokenizer.model");
  return files;
}

std::optional<TokenId> first_token(const Tokenizer& tokenizer, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (auto id = tokenizer.token_to_id(name)) return id;
  return std::nullopt;
}

// The encoder of a student trained from scratch.
EncoderConfig scratch_config(const std::string& arch, const std::string& size, const Tokenizer& tokenizer,
                             const StudentConfig& student) {
  EncoderConfig c;
  c.model_type = arch;
  if (!find_encoder_family(arch)) fail("--arch", "'" + arch + "' is not an encoder (bert or xlm-roberta)");
  if (size == "tiny") {
    c.hidden_size = 128, c.num_hidden_layers = 2, c.num_attention_heads = 4;
  } else if (size == "small") {
    c.hidden_size = 256, c.num_hidden_layers = 4, c.num_attention_heads = 4;
  } else {
    fail("--size", "'" + size + "' is not a student size (tiny or small)");
  }
  c.intermediate_size = 4 * c.hidden_size;
  c.vocab_size = static_cast<std::int64_t>(tokenizer.vocab_size());
  c.pad_token_id = first_token(tokenizer, {"[PAD]", "<pad>"}).value_or(0);
  c.type_vocab_size = arch == "bert" ? 2 : 1;
  const auto longest = std::max(student.query_tokens, student.item_tokens);
  c.max_position_embeddings = longest + (c.family().positions_from_padding ? c.pad_token_id + 2 : 0);
  return c;
}

void check_config(const StudentConfig& c, const std::string& where) {
  if (c.query_tokens < 4 || c.query_tokens > 512) fail(where, "query_tokens must be in [4, 512]");
  if (c.item_tokens < 4 || c.item_tokens > 512) fail(where, "item_tokens must be in [4, 512]");
  if (c.dim < 1 || c.dim > 4096) fail(where, "dim must be in [1, 4096]");
}

StudentConfig read_student_config(const fs::path& file) {
  const auto j = read_json_file(file, "is this a student directory from `relmoe student train`?");
  ConfigFields f(j, file.string());
  StudentConfig c;
  c.query_tokens = f.positive_int("query_tokens");
  c.item_tokens = f.positive_int("item_tokens");
  c.dim = f.positive_int("dim");
  if (j.contains("info")) c.info = j["info"];
  check_config(c, file.string());
  return c;
}

}  // namespace

ColbertStudent::ColbertStudent(Encoder encoder, std::shared_ptr<const Tokenizer> tokenizer,
                               const std::vector<fs::path>& tokenizer_files, StudentConfig config)
    : encoder_(std::move(encoder)), tokenizer_(std::move(tokenizer)), config_(std::move(config)) {
  for (const auto& file : tokenizer_files) tokenizer_files_.emplace_back(file.filename().string(), read_file(file));
  check_config(config_, "student");
  if (static_cast<std::int64_t>(tokenizer_->vocab_size()) > encoder_.config().vocab_size)
    fail("student", "the tokenizer has " + std::to_string(tokenizer_->vocab_size()) + " ids but the encoder only " +
                        std::to_string(encoder_.config().vocab_size) + " embeddings");
  // RoBERTa-style encoders number positions from pad_token_id + 1.
  const auto& ec = encoder_.config();
  const auto longest = std::max(config_.query_tokens, config_.item_tokens);
  const auto positions = longest + (ec.family().positions_from_padding ? ec.pad_token_id + 1 : 0);
  if (positions > ec.max_position_embeddings)
    fail("student", "query_tokens / item_tokens of " + std::to_string(longest) + " need " + std::to_string(positions) +
                        " positions; the encoder has " + std::to_string(ec.max_position_embeddings));
  resolve_special_ids();
  const auto hidden = encoder_.config().hidden_size;
  projection_ = torch::randn({config_.dim, hidden}) / std::sqrt(static_cast<double>(hidden));
  calibration_ = torch::tensor({8.0f, -4.0f});
}

void ColbertStudent::resolve_special_ids() {
  const auto& t = *tokenizer_;
  cls_ = first_token(t, {"[CLS]", "<s>"});
  sep_ = first_token(t, {"[SEP]", "</s>"});
  mask_id_ = first_token(t, {"[MASK]", "<mask>"}).value_or(static_cast<TokenId>(encoder_.config().pad_token_id));
  // [Q] / [D] when the vocabulary has them, BERT's reserved [unused0] / [unused1] (as ColBERT
  // does), else the words "query:" / "item:".
  auto marker = [&](std::initializer_list<const char*> names, const char* words) {
    if (auto id = first_token(t, names)) return std::vector<TokenId>{*id};
    return t.encode(words, false);
  };
  query_marker_ = marker({"[Q]", "[unused0]"}, "query:");
  item_marker_ = marker({"[D]", "[unused1]"}, "item:");
  const auto overhead = std::max(query_marker_.size(), item_marker_.size()) + 2;
  if (static_cast<std::int64_t>(overhead) >= std::min(config_.query_tokens, config_.item_tokens))
    fail("student", "query_tokens and item_tokens leave no room for text after the markers");
}

ColbertStudent ColbertStudent::from_base(const fs::path& base, StudentConfig config, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto encoder = Encoder::load(base, torch::kFloat32, torch::kCPU, true);
  return ColbertStudent(std::move(encoder), load_tokenizer(base), tokenizer_files_at(base), std::move(config));
}

ColbertStudent ColbertStudent::from_scratch(const std::string& arch, const std::string& size,
                                            const fs::path& tokenizer_path, StudentConfig config,
                                            std::uint64_t seed) {
  torch::manual_seed(seed);
  std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(tokenizer_path);
  auto encoder = Encoder::random(scratch_config(arch, size, *tokenizer, config), torch::kCPU, seed);
  return ColbertStudent(std::move(encoder), std::move(tokenizer), tokenizer_files_at(tokenizer_path),
                        std::move(config));
}

ColbertStudent ColbertStudent::load(const fs::path& dir) {
  auto config = read_student_config(dir / "student.json");
  auto encoder = Encoder::load(dir / "encoder", torch::kFloat32, torch::kCPU);
  ColbertStudent student(std::move(encoder), load_tokenizer(dir / "tokenizer"), tokenizer_files_at(dir / "tokenizer"),
                         std::move(config));
  const auto head = Checkpoint::open(dir / "head.safetensors");
  student.projection_ = head.get("projection", torch::kFloat32, torch::kCPU, student.projection_.sizes().vec()).clone();
  student.calibration_ = head.get("calibration", torch::kFloat32, torch::kCPU, std::vector<std::int64_t>{2}).clone();
  return student;
}

std::string ColbertStudent::fingerprint(const fs::path& dir) {
  // The tokenizer is part of the student: an index built with other token ids is another index.
  std::uint64_t h = hash64(read_file(dir / "head.safetensors")) ^ hash64(read_file(dir / "encoder" / "model.safetensors"));
  for (const auto& file : tokenizer_files_at(dir / "tokenizer"))
    h = h * 0x100000001b3ULL ^ hash64(file.filename().string() + '\0' + read_file(file));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

void ColbertStudent::save(const fs::path& dir) const {
  StagingDirectory stage(dir);
  encoder_.save(stage.path() / "encoder");
  fs::create_directories(stage.path() / "tokenizer");
  for (const auto& [name, bytes] : tokenizer_files_) write_text_file(stage.path() / "tokenizer" / name, bytes);
  save_tensors(stage.path() / "head.safetensors", {{"projection", projection_}, {"calibration", calibration_}});
  write_json_file(stage.path() / "student.json", {{"query_tokens", config_.query_tokens},
                                                  {"item_tokens", config_.item_tokens},
                                                  {"dim", config_.dim},
                                                  {"info", config_.info}});
  stage.publish();
}

std::vector<TokenId> ColbertStudent::marked(const std::string& text, const std::vector<TokenId>& marker,
                                            std::int64_t limit) const {
  // Only the first `limit` tokens are kept, so a huge text is cut before it is tokenised: to
  // kBytesPerToken bytes per token kept, which cuts nothing those tokens need unless they average
  // more (WordPiece makes a word of over 100 characters one [UNK]).
  auto body = tokenizer_->encode(std::string(utf8::prefix(text, static_cast<std::size_t>(limit) * kBytesPerToken)), false);
  std::vector<TokenId> ids;
  if (cls_) ids.push_back(*cls_);
  ids.insert(ids.end(), marker.begin(), marker.end());
  const auto room = static_cast<std::size_t>(limit) - ids.size() - (sep_ ? 1 : 0);
  ids.insert(ids.end(), body.begin(), body.begin() + static_cast<std::ptrdiff_t>(std::min(room, body.size())));
  if (sep_) ids.push_back(*sep_);
  return ids;
}

std::vector<TokenId> ColbertStudent::item_ids(const std::string& item) const {
  return marked(item, item_marker_, config_.item_tokens);
}

torch::Tensor ColbertStudent::project(const torch::Tensor& hidden) const {
  return torch::nn::functional::normalize(torch::matmul(hidden, projection_.t()),
                                          torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

torch::Tensor ColbertStudent::encode_queries(const std::vector<std::string>& queries) const {
  const auto rows = static_cast<std::int64_t>(queries.size()), width = config_.query_tokens;
  auto ids = torch::full({rows, width}, static_cast<std::int64_t>(mask_id_), torch::kInt64);
  auto ia = ids.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < rows; ++b) {
    const auto q = marked(queries[static_cast<std::size_t>(b)], query_marker_, width);
    for (std::size_t t = 0; t < q.size(); ++t) ia[b][static_cast<std::int64_t>(t)] = q[t];
  }
  EncoderBatch batch{ids, torch::ones({rows, width}, torch::kBool), torch::zeros({rows, width}, torch::kInt64)};
  return project(encoder_.forward(batch));
}

ItemVectors ColbertStudent::encode_items(const std::vector<std::string>& items) const {
  std::vector<Encoding> encodings;
  std::vector<std::int64_t> lengths;
  for (const auto& item : items) {
    encodings.push_back({item_ids(item), {}});
    lengths.push_back(static_cast<std::int64_t>(encodings.back().ids.size()));
  }
  const auto batch = make_encoder_batch(encodings, encoder_.config().pad_token_id, torch::kCPU);
  auto vectors = project(encoder_.forward(batch)) * batch.mask.unsqueeze(-1).to(torch::kFloat32);
  return {vectors, batch.mask, std::move(lengths)};
}

torch::Tensor ColbertStudent::probability(const torch::Tensor& maxsim) const {
  return torch::sigmoid(calibration_[0] * maxsim / static_cast<double>(config_.query_tokens) + calibration_[1]);
}

double ColbertStudent::probability(double maxsim) const {
  const float* c = calibration_.data_ptr<float>();
  return 1.0 / (1.0 + std::exp(-(c[0] * maxsim / static_cast<double>(config_.query_tokens) + c[1])));
}

std::vector<torch::Tensor> ColbertStudent::make_trainable() {
  auto params = encoder_.make_trainable();
  projection_ = projection_.detach().clone().requires_grad_(true);
  calibration_ = calibration_.detach().clone().requires_grad_(true);
  params.push_back(projection_);
  params.push_back(calibration_);
  return params;
}

}  // namespace relmoe
