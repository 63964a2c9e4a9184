#pragma once
// Model families as data (in the spirit of llama.cpp's per-architecture tables): each
// supported model_type is a table of tensor names plus the flags that distinguish its
// forward pass. One shared forward (transformer.hpp) reads these; adding a family that
// fits the pattern means adding a row, not code.
#include <cstdint>
#include <string>
#include <vector>

namespace relmoe {

enum class Activation { Silu, GeluTanh };

struct Family {
  std::string model_type;

  // Module names (without ".weight"/".bias"); "{}" is the layer index; "" = not in this family.
  struct Names {
    std::string embed, final_norm, lm_head;
    std::string attn_norm, q, k, v, o, q_norm, k_norm, attn_post_norm;
    std::string ffn_norm, gate, up, down, ffn_post_norm;
  } names;

  bool norm_offset = false;        // RMSNorm scale is (1 + w) (Gemma)
  bool scale_embedding = false;    // embeddings are multiplied by sqrt(hidden_size) (Gemma)
  // Every sliding_pattern-th layer attends globally, the others within sliding_window (Gemma2: 2,
  // Gemma3: 6; config.json's layer_types, when present, says it per layer); 0 = no sliding layers.
  std::int64_t sliding_pattern = 0;
  bool local_rope = false;         // sliding layers rotate with rope_local_base_freq (Gemma3)

  // config.json defaults that differ between families (Hugging Face's per-model defaults).
  bool default_tie_embeddings = false;
  Activation default_activation = Activation::Silu;
  std::string activation_field = "hidden_act";
  bool qkv_bias_always = false;  // qwen2: q/k/v biases regardless of attention_bias
  bool query_scalar = false;     // reads query_pre_attn_scalar (Gemma2, Gemma3)
  bool softcapping = false;      // reads attn/final logit softcaps (Gemma2)
};

// The family of a model_type, or nullptr when unsupported.
const Family* find_family(const std::string& model_type);
// "qwen2, llama, gemma2, qwen3" for error messages.
std::string supported_model_types();

// `pattern` with "{}" replaced by the layer index.
std::string layer_name(const std::string& pattern, std::int64_t layer);

enum class TensorRole { Matrix, Bias, Norm, Embedding };

struct TensorSpec {
  std::string name;  // full checkpoint name, e.g. model.layers.0.self_attn.q_proj.weight
  std::vector<std::int64_t> shape;
  TensorRole role;
};

}  // namespace relmoe
