#pragma once
// The online student: a ColBERT late-interaction model over a BERT / XLM-R encoder. Queries are
// marked with [Q] and padded with the mask token to exactly `query_tokens` (ColBERT's query
// augmentation: the mask positions are attended and score like query tokens), items marked with
// [D] and cut to `item_tokens`; every token's final state is projected to `dim` and L2-normalised.
// The relevance score is MaxSim (student/maxsim.hpp); a learned calibration maps it to a
// probability, P = sigmoid(scale · MaxSim / query_tokens + bias), so the student can filter too.
//
// A student directory: student.json (this config and how it was trained), encoder/ (config.json
// + model.safetensors, loadable as any encoder checkpoint), tokenizer/ (the encoder's tokenizer
// files) and head.safetensors (projection and calibration).
#include "models/encoder.hpp"
#include "text/tokenizer.hpp"

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace relmoe {

struct StudentConfig {
  std::int64_t query_tokens = 32;
  std::int64_t item_tokens = 64;
  std::int64_t dim = 128;
  nlohmann::json info = nlohmann::json::object();  // teacher, training figures (written by the trainer)
};

// Item token vectors of a batch: [B, T, dim] (zero at padding) with mask [B, T] and real lengths.
struct ItemVectors {
  torch::Tensor vectors, mask;
  std::vector<std::int64_t> lengths;
};

class ColbertStudent {
 public:
  // A new student on the encoder in `base` (a BERT / XLM-R checkpoint directory with its
  // tokenizer), projection random.
  static ColbertStudent from_base(const std::filesystem::path& base, StudentConfig config, std::uint64_t seed);
  // A new student with a randomly initialised encoder of `arch` (bert | xlm-roberta) and `size`
  // (tiny: 2 layers x 128, small: 4 x 256) over the tokenizer at `tokenizer` (file or directory).
  static ColbertStudent from_scratch(const std::string& arch, const std::string& size,
                                     const std::filesystem::path& tokenizer, StudentConfig config, std::uint64_t seed);
  static ColbertStudent load(const std::filesystem::path& dir);
  // Identifies a saved student's weights (an index records the student that built it).
  static std::string fingerprint(const std::filesystem::path& dir);
  // Writes the student directory whole (staged, then published).
  void save(const std::filesystem::path& dir) const;

  // [B, query_tokens, dim], L2-normalised rows.
  torch::Tensor encode_queries(const std::vector<std::string>& queries) const;
  ItemVectors encode_items(const std::vector<std::string>& items) const;
  // The ids of an item as the student encodes it (the index's token budget counts these).
  std::vector<TokenId> item_ids(const std::string& item) const;

  // sigmoid(scale · maxsim / query_tokens + bias), differentiable in `maxsim`.
  torch::Tensor probability(const torch::Tensor& maxsim) const;
  double probability(double maxsim) const;

  // Encoder, projection and calibration tensors, made trainable (owned f32 copies).
  std::vector<torch::Tensor> make_trainable();

  const StudentConfig& config() const { return config_; }
  StudentConfig& config() { return config_; }
  const Encoder& encoder() const { return encoder_; }

 private:
  ColbertStudent(Encoder encoder, std::shared_ptr<const Tokenizer> tokenizer,
                 const std::vector<std::filesystem::path>& tokenizer_files, StudentConfig config);
  void resolve_special_ids();
  std::vector<TokenId> marked(const std::string& text, const std::vector<TokenId>& marker, std::int64_t limit) const;
  static constexpr std::size_t kBytesPerToken = 512;
  torch::Tensor project(const torch::Tensor& hidden) const;

  Encoder encoder_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  // The tokenizer's files (name, bytes), written into every saved student directory.
  std::vector<std::pair<std::string, std::string>> tokenizer_files_;
  StudentConfig config_;
  torch::Tensor projection_;             // [dim, hidden]
  torch::Tensor calibration_;            // [2]: scale, bias
  std::vector<TokenId> query_marker_, item_marker_;
  std::optional<TokenId> cls_, sep_;
  TokenId mask_id_ = 0;
};

}  // namespace relmoe
