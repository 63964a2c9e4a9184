#include "models/expert.hpp"

#include "io/checkpoint_tokenizer.hpp"
#include "io/expert_base.hpp"
#include "models/lora.hpp"

namespace relmoe {

Expert::Expert(std::shared_ptr<const Transformer> model, std::shared_ptr<const Tokenizer> tokenizer,
               ExpertTextConfig text)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), text_(std::move(text)) {
  if (tokenizer_) answer_ids_ = resolve_answer_tokens(text_.answers, *tokenizer_);
}

Expert Expert::load(const std::filesystem::path& dir, const ExpertOptions& options) {
  // The tokenizer first: what building a large one allocates on the way is freed before the
  // weights arrive, so the two peaks do not add up.
  const auto checkpoint = expert_checkpoint(dir);
  std::shared_ptr<const Tokenizer> tokenizer = find_checkpoint_tokenizer(checkpoint);
  auto config = load_model_config(checkpoint);
  auto weights = options.random_weights_seed
                     ? random_weights(config, options.dtype, options.device, *options.random_weights_seed)
                     : load_weights(Checkpoint::open(checkpoint), config, options.dtype, options.device,
                                    options.allow_unused_tensors);
  if (auto adapter = find_adapter(dir)) merge_lora(weights, *adapter);
  auto model = std::make_shared<const Transformer>(std::move(config), std::move(weights));
  return Expert(std::move(model), std::move(tokenizer), load_expert_text_config(dir));
}

std::int64_t first_non_finite_row(const ExpertOutput& output) {
  auto bad = torch::isfinite(output.last_hidden).all(1).logical_not();
  if (output.score.defined()) bad |= torch::isfinite(output.score).logical_not();
  const auto rows = bad.nonzero();
  return rows.numel() > 0 ? rows[0][0].item<std::int64_t>() : -1;
}

ExpertOutput Expert::hidden(const std::vector<std::vector<TokenId>>& ids, bool pre_norm) const {
  return hidden(make_batch(ids, model_->device()), pre_norm);
}

ExpertOutput Expert::hidden(const TokenBatch& batch, bool pre_norm) const {
  torch::InferenceMode guard;
  ForwardOptions options;
  options.pre_norm = pre_norm;
  if (answer_ids_) options.answer_ids = std::array<std::int64_t, 2>{answer_ids_->yes, answer_ids_->no};
  auto out = model_->forward(batch, options);
  return {out.last_hidden.to(torch::kFloat32), out.score};
}

}  // namespace relmoe
