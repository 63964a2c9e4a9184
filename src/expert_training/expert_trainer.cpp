#include "expert_training/expert_trainer.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"
#include "io/durable_file.hpp"
#include "io/training_state.hpp"
#include "io/json_file.hpp"
#include "io/pair_reader.hpp"
#include "text/truncation.hpp"
#include "base/progress.hpp"
#include "base/schedule.hpp"
#include "expert_training/expert_recipe.hpp"
#include "base/rng.hpp"
#include "expert_training/spm_train.hpp"
#include "models/prompt_encoding.hpp"
#include "models/weights.hpp"
#include "text/expert_text_config.hpp"
#include "text/tokenizer.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <set>

namespace relmoe {
namespace {

namespace fs = std::filesystem;
using Sequences = std::vector<std::vector<TokenId>>;

constexpr long kMaxCorpusLines = 200000;

std::vector<std::string> read_lines(const fs::path& path, long limit) {
  std::ifstream in(path);
  if (!in) fail(path.string(), "cannot open corpus");
  std::vector<std::string> lines;
  for (std::string line; static_cast<long>(lines.size()) < limit && std::getline(in, line);)
    if (!line.empty()) lines.push_back(std::move(line));
  if (lines.empty()) fail(path.string(), "corpus has no lines");
  return lines;
}

// The options that must match for a saved state to be resumed.
nlohmann::json fingerprint(const ExpertTrainOptions& o) {
  return {{"arch", o.arch},
          {"size", o.size},
          {"tokenizer", o.tokenizer.string()},
          {"train_tokenizer", o.train_tokenizer},
          {"pretrain_corpus", o.pretrain_corpus.string()},
          {"data", fs::absolute(o.data).string()},
          {"markets", o.markets},
          {"pretrain_steps", o.pretrain_steps},
          {"steps", o.steps},
          {"batch_size", o.batch_size},
          {"max_tokens", o.max_tokens},
          {"lr", o.lr},
          {"seed", o.seed}};
}

// Copies the tokenizer files of an existing tokenizer (file or directory) into `dir`.
void copy_tokenizer(const fs::path& source, const fs::path& dir) {
  if (!fs::exists(source)) fail(source.string(), "tokenizer not found");
  std::vector<fs::path> files;
  const fs::path base = fs::is_directory(source) ? source : source.parent_path();
  if (!fs::is_directory(source)) files.push_back(source);
  for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::is_directory(source) || source.filename() == "tokenizer.json")
      if (fs::exists(base / name) && (files.empty() || files.front() != base / name)) files.push_back(base / name);
  for (const auto& f : files) fs::copy_file(f, dir / f.filename(), fs::copy_options::overwrite_existing);
}

// Creates the tokenizer in `dir` (once; a resumed run reuses it).
void prepare_tokenizer(const ExpertTrainOptions& o, const std::vector<Pair>& pairs,
                       const std::vector<std::string>& corpus, const fs::path& dir) {
  fs::create_directories(dir);
  if (!o.tokenizer.empty()) return copy_tokenizer(o.tokenizer, dir);
  std::vector<std::string> sentences = corpus;
  for (const auto& p : pairs) {
    sentences.push_back(p.query);
    sentences.push_back(p.item);
    if (!p.item_desc.empty()) sentences.push_back(p.item_desc);
  }
  // The template's own words, so they become whole pieces.
  sentences.push_back(PromptTemplate(kExpertPromptTemplate).render({}) + kAnswerYes);
  auto start = std::chrono::steady_clock::now();
  train_sentencepiece(sentences, parse_spm_spec(o.train_tokenizer), {"▁yes", "▁no"}, dir / "tokenizer.model");
  spdlog::info("trained {} tokenizer on {} sentences in {:.1f} s", o.train_tokenizer, sentences.size(),
               seconds_since(start));
}

std::array<std::int64_t, 2> answer_ids(const Tokenizer& tokenizer, const fs::path& where) {
  auto ids = resolve_answer_tokens({kAnswerYes, kAnswerNo}, tokenizer);
  if (!ids)
    fail(where.string(), std::string("answers '") + kAnswerYes + "' / '" + kAnswerNo +
                             "' are not single tokens of this tokenizer");
  return {ids->yes, ids->no};
}

// Prompt ids; prompts over `max_tokens` are cut as scoring cuts them (text/truncation.hpp).
Sequences encode_prompts(const Tokenizer& tokenizer, const std::vector<Pair>& pairs, int max_tokens,
                         std::int64_t& truncated) {
  const PromptEncoder prompts(tokenizer, PromptTemplate(kExpertPromptTemplate), static_cast<std::size_t>(max_tokens),
                              "in training");
  Sequences out;
  out.reserve(pairs.size());
  for (const auto& p : pairs) out.push_back(prompts.encode(p, truncated));
  return out;
}

Sequences encode_corpus(const Tokenizer& tokenizer, const std::vector<std::string>& lines, int max_tokens) {
  Sequences out;
  for (const auto& line : lines) {
    auto ids = tokenizer.encode(line, true);
    if (ids.size() > static_cast<std::size_t>(max_tokens)) ids.resize(max_tokens);
    if (ids.size() >= 2) out.push_back(std::move(ids));
  }
  return out;
}

// Phases in order; a saved state names the phase and the steps done in it.
enum class Phase { Pretrain, Finetune };
const char* phase_name(Phase p) { return p == Phase::Pretrain ? "pretrain" : "finetune"; }

fs::path tokenizer_dir(const TrainingState& state) { return state.root() / "tokenizer"; }

// Saves model + optimizer as the newest step of `state`.
void save_step(const TrainingState& state, const ModelConfig& config, const Weights& weights,
               const torch::optim::Optimizer& optimizer, const nlohmann::json& info) {
  const std::string name = info["phase"].get<std::string>() + "-" + std::to_string(info["step"].get<long>());
  state.save(name, info, [&](const fs::path& step) {
    save_model(step, config, weights);
    torch::save(optimizer, (step / "optimizer.pt").string());
  });
}

Weights trainable(Weights weights) {
  for (auto& [name, w] : weights) w = w.detach().clone().requires_grad_(true);
  return weights;
}

std::vector<torch::Tensor> parameters(const Weights& weights) {
  std::vector<torch::Tensor> out;
  for (const auto& [name, w] : weights) out.push_back(w);
  return out;
}

// The next-token loss over every position of a batch of sampled corpus lines.
torch::Tensor pretrain_loss(const Transformer& model, const torch::Tensor& head, const Sequences& corpus,
                            Rng& rng, int batch_size) {
  Sequences lines;
  for (int b = 0; b < batch_size; ++b) lines.push_back(corpus[rng.below(corpus.size())]);
  auto batch = make_batch(lines, model.device());
  ForwardOptions fo;
  fo.all_positions = true;
  auto hidden = model.forward(batch, fo).hidden;  // [B, T, H]
  const auto T = batch.ids.size(1);
  // Position t predicts token t + 1 wherever that token is real.
  auto predicts = batch.mask.narrow(1, 1, T - 1).to(torch::kBool);
  auto inputs = hidden.narrow(1, 0, T - 1).index({predicts});
  auto targets = batch.ids.narrow(1, 1, T - 1).index({predicts});
  auto logits = torch::matmul(inputs, head.t()).to(torch::kFloat32);
  if (auto cap = model.config().final_logit_softcapping) logits = torch::tanh(logits / *cap) * *cap;
  return torch::nn::functional::cross_entropy(logits, targets);
}

torch::Tensor finetune_loss(const Transformer& model, const Sequences& prompts, const std::vector<float>& labels,
                            const std::array<std::int64_t, 2>& answers, Rng& rng, int batch_size) {
  Sequences inputs;
  std::vector<float> y;
  for (int b = 0; b < batch_size; ++b) {
    auto i = rng.below(prompts.size());
    inputs.push_back(prompts[i]);
    y.push_back(labels[i]);
  }
  ForwardOptions fo;
  fo.answer_ids = answers;
  auto score = model.forward(make_batch(inputs, model.device()), fo).score;
  return torch::binary_cross_entropy_with_logits(score, torch::tensor(y).to(score.device()));
}

std::vector<Pair> only_markets(std::vector<Pair> pairs, const std::vector<std::string>& markets,
                               const fs::path& source) {
  if (markets.empty()) return pairs;
  std::set<std::string> present;
  for (const auto& p : pairs) present.insert(p.market);
  for (const auto& m : markets)
    if (!present.count(m)) {
      std::string have;
      for (const auto& p : present) have += (have.empty() ? "" : ", ") + p;
      fail("--markets", "no pairs of market '" + m + "' in " + source.string() + " (it has: " + have + ")");
    }
  const std::set<std::string> wanted(markets.begin(), markets.end());
  std::erase_if(pairs, [&](const Pair& p) { return !wanted.count(p.market); });
  return pairs;
}

void check(const ExpertTrainOptions& o) {
  if (o.tokenizer.empty() == o.train_tokenizer.empty())
    fail("expert train", "give exactly one of --tokenizer and --train-tokenizer");
  if (o.steps <= 0) fail("--steps", "must be positive");
  if (o.pretrain_steps < 0) fail("--pretrain-steps", "must be >= 0");
  if (o.batch_size <= 0) fail("--batch", "must be positive");
  if (o.max_tokens < 2 * static_cast<int>(kPromptTailTokens)) fail("--max-tokens", "must be at least 16");
  if (o.checkpoint_every <= 0) fail("--checkpoint-every", "must be positive");
  if (!(o.lr > 0)) fail("--lr", "must be positive");
  expert_config(o.arch, o.size, 256, o.max_tokens);  // rejects an unknown --arch / --size early
  if (!o.train_tokenizer.empty() && parse_spm_spec(o.train_tokenizer).model_type != "bpe")
    fail("--train-tokenizer", "relmoe's tokenizer.model reader supports BPE models only; use spm-bpe:V");
}

// The labelled pairs of the chosen markets and their labels.
std::vector<Pair> training_pairs(const ExpertTrainOptions& o, std::vector<float>& labels) {
  auto pairs = only_markets(read_pairs(o.data, o.columns, o.format), o.markets, o.data);
  for (const auto& p : pairs) {
    if (!p.label) fail(o.data.string(), "pair '" + p.id + "' has no label");
    labels.push_back(*p.label);
  }
  if (pairs.empty()) fail(o.data.string(), "no pairs");
  return pairs;
}

// Continues the state a killed run left (same options only), or starts a fresh one with its
// tokenizer; returns the saved state's info (null when fresh).
nlohmann::json open_state(const ExpertTrainOptions& o, const TrainingState& state, const std::vector<Pair>& pairs,
                          const std::vector<std::string>& corpus) {
  if (state.exists()) {
    state.require_options(fingerprint(o));
    return state.info();
  }
  fs::remove_all(state.root());
  prepare_tokenizer(o, pairs, corpus, tokenizer_dir(state));
  return nullptr;
}

// One model under training: its weights as leaf tensors, the forward over them and the LM head.
struct TrainingModel {
  ModelConfig config;
  Weights weights;
  Transformer model;
  torch::Tensor head;

  TrainingModel(const ModelConfig& c, Weights w)
      : config(c), weights(trainable(std::move(w))), model(config, weights) {
    const auto& names = family_of(config).names;
    head = weights.at((config.tie_word_embeddings ? names.embed : names.lm_head) + ".weight");
  }
};

// What one phase trains on.
struct PhaseData {
  Sequences prompts, lm_lines;
  std::vector<float> labels;
};

// Runs `phase` from its saved step (or 0) to its end; false when stopped early by stop_after.
bool run_phase(Phase phase, long total, const ExpertTrainOptions& o, TrainingModel& m, const PhaseData& data,
               const TrainingState& state, const nlohmann::json& resume, long& run_steps, ExpertTrainResult& result) {
  long step = 0;
  torch::optim::AdamW optimizer(parameters(m.weights), torch::optim::AdamWOptions(o.lr).weight_decay(0.01));
  if (!resume.is_null() && resume["phase"] == phase_name(phase)) {
    step = resume["step"].get<long>();
    torch::load(optimizer, (state.latest() / "optimizer.pt").string());
  }
  std::optional<Progress> bar;
  if (o.progress && total > 0) {
    bar.emplace(phase_name(phase), static_cast<std::size_t>(total));
    bar->resume_from(static_cast<std::size_t>(step));
  }
  double smooth = 0;
  auto& losses = phase == Phase::Pretrain ? result.pretrain_losses : result.losses;
  for (; step < total; ++step) {
    if (o.stop_after > 0 && run_steps == o.stop_after) return false;
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(warmup_linear_decay(step, total, o.lr));
    // Batches depend only on (seed, phase, step), so a resumed run sees the same ones.
    Rng rng(o.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(step) * 2 + (phase == Phase::Finetune));
    optimizer.zero_grad();
    auto loss = phase == Phase::Pretrain
                    ? pretrain_loss(m.model, m.head, data.lm_lines, rng, o.batch_size)
                    : finetune_loss(m.model, data.prompts, data.labels, result.answer_ids, rng, o.batch_size);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters(m.weights), 1.0);
    optimizer.step();
    float value = loss.item<float>();
    losses.push_back(value);
    smooth = losses.size() == 1 ? value : 0.95 * smooth + 0.05 * value;
    if (bar) {
      bar->status(fmt::format("loss {:.4f}", smooth));
      bar->set(static_cast<std::size_t>(step + 1));
    }
    ++run_steps;
    if ((step + 1) % o.checkpoint_every == 0 && step + 1 < total)
      save_step(state, m.config, m.weights, optimizer,
                {{"phase", phase_name(phase)}, {"step", step + 1}, {"options", fingerprint(o)}});
  }
  if (bar) bar->finish();
  // Entering fine-tuning is a checkpoint too: a resumed run skips pre-training.
  if (phase == Phase::Pretrain && total > 0) {
    torch::optim::AdamW fresh(parameters(m.weights), torch::optim::AdamWOptions(o.lr).weight_decay(0.01));
    save_step(state, m.config, m.weights, fresh, {{"phase", "finetune"}, {"step", 0}, {"options", fingerprint(o)}});
  }
  return true;
}

// The final directory: weights, tokenizer and relmoe.json staged, then moved into `out` with
// config.json last (a directory with a config.json is complete); the training state goes.
void publish_expert(const ExpertTrainOptions& o, const TrainingModel& m, const TrainingState& state, std::int64_t truncated) {
  StagingDirectory staging(o.out);
  save_model(staging.path(), m.config, m.weights);
  copy_tokenizer(tokenizer_dir(state), staging.path());
  nlohmann::json provenance = fingerprint(o);
  provenance["truncated_prompts"] = truncated;
  write_json_file(staging.path() / "relmoe.json", expert_manifest(provenance));
  staging.publish_into("config.json");
  fs::remove_all(state.root());
}

}  // namespace

ExpertTrainResult train_expert(const ExpertTrainOptions& o) {
  check(o);
  const auto start = std::chrono::steady_clock::now();
  ExpertTrainResult result;
  PhaseData data;
  const auto pairs = training_pairs(o, data.labels);
  const bool pretrain = !o.pretrain_corpus.empty() && o.pretrain_steps > 0;
  const auto corpus = pretrain ? read_lines(o.pretrain_corpus, kMaxCorpusLines) : std::vector<std::string>{};

  fs::create_directories(o.out);
  const TrainingState state(o.out / ".train-state");
  const nlohmann::json resume = open_state(o, state, pairs, corpus);
  result.resumed = !resume.is_null();
  const auto tokenizer = load_tokenizer(tokenizer_dir(state));
  result.answer_ids = answer_ids(*tokenizer, tokenizer_dir(state));
  const auto config = expert_config(o.arch, o.size, static_cast<std::int64_t>(tokenizer->vocab_size()), o.max_tokens);
  const torch::Device device(torch::kCPU);
  TrainingModel m(config, result.resumed ? load_weights(Checkpoint::open(state.latest()), config, torch::kFloat32, device)
                                         : random_weights(config, torch::kFloat32, device, o.seed));
  data.prompts = encode_prompts(*tokenizer, pairs, o.max_tokens, result.truncated);
  data.lm_lines = encode_corpus(*tokenizer, corpus, o.max_tokens);
  if (result.truncated > 0)
    spdlog::warn("{} of {} prompts exceed {} tokens and were shortened", result.truncated, pairs.size(), o.max_tokens);

  long run_steps = 0;
  const long pretrain_total = pretrain && !data.lm_lines.empty() ? o.pretrain_steps : 0;
  const bool skip_pretrain = result.resumed && resume["phase"] == "finetune";
  if (!skip_pretrain && !run_phase(Phase::Pretrain, pretrain_total, o, m, data, state, resume, run_steps, result))
    return result;
  if (!run_phase(Phase::Finetune, o.steps, o, m, data, state, resume, run_steps, result)) return result;

  publish_expert(o, m, state, result.truncated);
  result.finished = true;
  result.seconds = seconds_since(start);
  result.model.emplace(std::move(m.model));
  return result;
}

}  // namespace relmoe
