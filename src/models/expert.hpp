#pragma once
// An expert: a frozen decoder (LoRA merged) with its tokenizer, prompt template and yes/no
// answer-token ids, read from one Hugging Face directory (docs/ARCHITECTURE.md).
#include "models/transformer.hpp"
#include "text/expert_text_config.hpp"
#include "text/tokenizer.hpp"

#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace relmoe {

struct ExpertOptions {
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  bool allow_unused_tensors = false;  // load a checkpoint holding tensors the config does not use
  // Weights drawn at random from this seed (random_weights, models/weights.hpp) instead of read:
  // benchmarks of real shapes from a config.json alone, without writing tens of GB of files.
  std::optional<std::uint64_t> random_weights_seed;
};

struct ExpertOutput {
  torch::Tensor last_hidden;  // [B, hidden] float32 on the expert's device
  torch::Tensor score;        // [B] logit(yes) - logit(no); undefined without answer tokens
};

// The first row of `output` whose hidden state or score is not finite (NaN, inf), or -1.
// Callers turn it into an error naming their row: a non-finite value is never written out.
std::int64_t first_non_finite_row(const ExpertOutput& output);

class Expert {
 public:
  static Expert load(const std::filesystem::path& dir, const ExpertOptions& options = {});

  // One forward (under InferenceMode) over a right-padded batch of id sequences.
  ExpertOutput hidden(const std::vector<std::vector<TokenId>>& ids, bool pre_norm = false) const;
  // The same over a batch already made (e.g. staged onto the device by a lane's stream).
  ExpertOutput hidden(const TokenBatch& batch, bool pre_norm = false) const;

  const Transformer& model() const { return *model_; }
  // Null when the directory has no tokenizer.json / tokenizer.model.
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const ExpertTextConfig& text() const { return text_; }
  // Set when the tokenizer encodes both answer strings as single tokens.
  const std::optional<AnswerTokenIds>& answer_ids() const { return answer_ids_; }

 private:
  Expert(std::shared_ptr<const Transformer> model, std::shared_ptr<const Tokenizer> tokenizer,
         ExpertTextConfig text);

  std::shared_ptr<const Transformer> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  ExpertTextConfig text_;
  std::optional<AnswerTokenIds> answer_ids_;
};

}  // namespace relmoe
