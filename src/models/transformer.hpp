#pragma once
// One forward pass for every decoder family in family.hpp: returns, per sequence, the
// final-layer hidden state at its last real token and optionally the answer-token score
// logit(yes) - logit(no), computed from just those two rows of the output projection.
//
// Usable under autograd (training small experts): nothing here disables gradients; inference
// callers wrap calls in torch::InferenceMode, which also lets the forward work in place.
#include "models/family.hpp"
#include "models/lora.hpp"
#include "models/model_config.hpp"
#include "models/token_batch.hpp"
#include "models/weights.hpp"

#include <torch/utils.h>

#include <array>
#include <filesystem>
#include <optional>
#include <vector>

namespace relmoe {

struct ForwardOptions {
  bool pre_norm = false;  // last_hidden before the final norm (the score always uses after)
  std::optional<std::array<std::int64_t, 2>> answer_ids;  // {yes, no} token ids
  // Also return the final-normed hidden state of every position (next-token training); the
  // last layer then runs over all tokens instead of the last ones only.
  bool all_positions = false;
  // Attention scores computed at once, in elements: longer batches run their query rows in
  // blocks, so attention memory grows linearly with the batch's tokens (same results).
  std::int64_t attention_block = std::int64_t{1} << 24;
  // Gradient checkpointing (under autograd only): each layer keeps just its input and is run
  // again in the backward pass, so activation memory is one layer's instead of all of them.
  bool checkpoint_layers = false;
};

struct ForwardResult {
  torch::Tensor last_hidden;  // [B, hidden] in the model dtype
  torch::Tensor score;        // [B] float32, defined only when answer_ids were given
  torch::Tensor hidden;       // [B, T, hidden] after the final norm, only with all_positions
};

class Transformer {
 public:
  // Checks every tensor of tensor_specs(config) is present with its shape.
  Transformer(ModelConfig config, Weights weights);

  // config.json + checkpoint in `dir`, weights in `dtype` on `device`.
  static Transformer load(const std::filesystem::path& dir, torch::ScalarType dtype,
                          torch::Device device);

  // Results do not depend on padding side or batch composition. Ids outside the
  // vocabulary throw relmoe::Error.
  ForwardResult forward(const TokenBatch& batch, const ForwardOptions& options = {}) const;

  const ModelConfig& config() const { return config_; }
  const Weights& weights() const { return weights_; }
  torch::ScalarType dtype() const;
  torch::Device device() const;
  void save(const std::filesystem::path& dir) const { save_model(dir, config_, weights_); }

  // Applies `adapter` unmerged from now on: each adapted projection computes
  // x W^T + scale (x A^T) B^T, so gradients reach A and B (training them) while the base weights
  // stay as loaded. Every module must name a projection of this model with matching shapes.
  void attach_lora(const LoraAdapter& adapter);

 private:
  // One linear map: weight and optional bias (handles into weights_), and an attached
  // low-rank adapter when there is one.
  struct Projection {
    std::string module;  // its Hugging Face name, "model.layers.0.self_attn.q_proj"
    torch::Tensor weight, bias, lora_a, lora_b;
    double lora_scale = 0;
    torch::Tensor operator()(const torch::Tensor& x) const;
  };
  // Handles into weights_ for one layer; undefined tensors are absent in this family.
  struct Layer {
    torch::Tensor attn_norm, q_norm, k_norm, attn_post_norm, ffn_norm, ffn_post_norm;
    Projection q, k, v, o, gate, up, down;
    bool sliding = false;
  };
  struct Context;
  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos,
                     const torch::Tensor& sin) const;
  torch::Tensor attention(const Layer& layer, const torch::Tensor& h_query,
                          const torch::Tensor& h, const Context& ctx, bool last_only) const;
  // Softmax attention of q [B, heads, Tq, hd] over k, v [B, kv_heads, T, hd] under an
  // additive mask [B, 1, 1, Tq, T]; returns [B, heads, Tq, hd].
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask) const;
  torch::Tensor mlp(const Layer& layer, const torch::Tensor& h) const;
  torch::Tensor layer(const Layer& layer, torch::Tensor x, const Context& ctx,
                      bool last_only) const;
  // The tensors of `layer` that require gradients (adapters, or every weight when all train).
  static std::vector<torch::Tensor> trainable(const Layer& layer);
  Context context(const TokenBatch& batch, std::int64_t attention_block) const;

  ModelConfig config_;
  const Family* family_;
  Weights weights_;
  std::vector<Layer> layers_;
  torch::Tensor embed_, final_norm_, head_;
  std::vector<double> inv_freq_, inv_freq_local_;  // rotary bases: global, and local (Gemma3)
};

}  // namespace relmoe
