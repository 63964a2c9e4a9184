#include "models/decoder_tensors.hpp"

namespace relmoe {

std::vector<TensorSpec> tensor_specs(const ModelConfig& c) {
  const Family& f = family_of(c);
  const auto& n = f.names;
  const std::int64_t h = c.hidden_size, q_out = c.num_attention_heads * c.head_dim,
                     kv_out = c.num_key_value_heads * c.head_dim, ffn = c.intermediate_size;
  std::vector<TensorSpec> specs;
  auto add = [&](const std::string& module, std::int64_t layer, const char* suffix,
                 std::vector<std::int64_t> shape, TensorRole role) {
    if (!module.empty())
      specs.push_back({layer_name(module, layer) + suffix, std::move(shape), role});
  };
  auto matrix = [&](const std::string& m, std::int64_t l, std::int64_t out, std::int64_t in,
                    bool bias) {
    add(m, l, ".weight", {out, in}, TensorRole::Matrix);
    if (bias) add(m, l, ".bias", {out}, TensorRole::Bias);
  };
  add(n.embed, 0, ".weight", {c.vocab_size, h}, TensorRole::Embedding);
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    add(n.attn_norm, l, ".weight", {h}, TensorRole::Norm);
    matrix(n.q, l, q_out, h, c.qkv_bias);
    matrix(n.k, l, kv_out, h, c.qkv_bias);
    matrix(n.v, l, kv_out, h, c.qkv_bias);
    add(n.q_norm, l, ".weight", {c.head_dim}, TensorRole::Norm);
    add(n.k_norm, l, ".weight", {c.head_dim}, TensorRole::Norm);
    matrix(n.o, l, h, q_out, c.o_bias);
    add(n.attn_post_norm, l, ".weight", {h}, TensorRole::Norm);
    add(n.ffn_norm, l, ".weight", {h}, TensorRole::Norm);
    matrix(n.gate, l, ffn, h, c.mlp_bias);
    matrix(n.up, l, ffn, h, c.mlp_bias);
    matrix(n.down, l, h, ffn, c.mlp_bias);
    add(n.ffn_post_norm, l, ".weight", {h}, TensorRole::Norm);
  }
  add(n.final_norm, 0, ".weight", {h}, TensorRole::Norm);
  if (!c.tie_word_embeddings) add(n.lm_head, 0, ".weight", {c.vocab_size, h}, TensorRole::Matrix);
  return specs;
}

}  // namespace relmoe
