#include "models/family.hpp"

#include "base/error.hpp"

#include <array>

namespace relmoe {

namespace {

Family::Names llama_names() {
  Family::Names n;
  n.embed = "model.embed_tokens";
  n.final_norm = "model.norm";
  n.lm_head = "lm_head";
  n.attn_norm = "model.layers.{}.input_layernorm";
  n.q = "model.layers.{}.self_attn.q_proj";
  n.k = "model.layers.{}.self_attn.k_proj";
  n.v = "model.layers.{}.self_attn.v_proj";
  n.o = "model.layers.{}.self_attn.o_proj";
  n.ffn_norm = "model.layers.{}.post_attention_layernorm";
  n.gate = "model.layers.{}.mlp.gate_proj";
  n.up = "model.layers.{}.mlp.up_proj";
  n.down = "model.layers.{}.mlp.down_proj";
  return n;
}

std::array<Family, 5> make_families() {
  Family llama{.model_type = "llama", .names = llama_names()};

  Family qwen2 = llama;
  qwen2.model_type = "qwen2";
  qwen2.qkv_bias_always = true;

  Family qwen3 = llama;
  qwen3.model_type = "qwen3";
  qwen3.names.q_norm = "model.layers.{}.self_attn.q_norm";
  qwen3.names.k_norm = "model.layers.{}.self_attn.k_norm";

  // Gemma2 "sandwich" norms: post_attention_layernorm normalises the attention output,
  // pre/post_feedforward_layernorm surround the MLP.
  Family gemma2 = llama;
  gemma2.model_type = "gemma2";
  gemma2.names.attn_post_norm = "model.layers.{}.post_attention_layernorm";
  gemma2.names.ffn_norm = "model.layers.{}.pre_feedforward_layernorm";
  gemma2.names.ffn_post_norm = "model.layers.{}.post_feedforward_layernorm";
  gemma2.norm_offset = true;
  gemma2.scale_embedding = true;
  gemma2.sliding_pattern = 2;
  gemma2.default_tie_embeddings = true;
  gemma2.default_activation = Activation::GeluTanh;
  gemma2.activation_field = "hidden_activation";
  gemma2.query_scalar = true;
  gemma2.softcapping = true;

  // Gemma3: Gemma2's layout plus (1 + w) RMSNorms on q and k; five local layers to a global
  // one, the local ones with their own rope base; softcaps only when the config sets them.
  Family gemma3 = gemma2;
  gemma3.model_type = "gemma3_text";
  gemma3.names.q_norm = "model.layers.{}.self_attn.q_norm";
  gemma3.names.k_norm = "model.layers.{}.self_attn.k_norm";
  gemma3.sliding_pattern = 6;
  gemma3.local_rope = true;
  return {qwen2, llama, gemma2, qwen3, gemma3};
}

const std::array<Family, 5>& families() {
  static const auto table = make_families();
  return table;
}

}  // namespace

const Family* find_family(const std::string& model_type) {
  for (const auto& f : families())
    if (f.model_type == model_type) return &f;
  return nullptr;
}

std::string supported_model_types() {
  std::string out;
  for (const auto& f : families()) out += (out.empty() ? "" : ", ") + f.model_type;
  return out;
}

std::string layer_name(const std::string& pattern, std::int64_t layer) {
  std::string out = pattern;
  auto at = out.find("{}");
  if (at != std::string::npos) out.replace(at, 2, std::to_string(layer));
  return out;
}

}  // namespace relmoe
