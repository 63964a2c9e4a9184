#pragma once
// The architecture hyper-parameters of a Hugging Face decoder checkpoint (config.json).
#include "models/family.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {


// RoPE frequency scaling. "linear" divides every frequency by `factor`; "llama3" divides
// only the low frequencies, blending in between (Llama 3.1 style).
struct RopeScaling {
  std::string type;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type;  // qwen2 | llama | gemma2 | qwen3 | gemma3_text
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;
  std::int64_t head_dim = 0;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  std::int64_t max_position_embeddings = 2048;
  bool qkv_bias = false;     // q/k/v projections have biases (always for qwen2)
  bool o_bias = false;       // o_proj has a bias (llama/gemma2/qwen3 attention_bias)
  bool mlp_bias = false;
  Activation activation = Activation::Silu;
  std::optional<double> attn_logit_softcapping;
  std::optional<double> final_logit_softcapping;
  double query_pre_attn_scalar = 0;  // attention scores are scaled by this^-0.5
  std::optional<std::int64_t> sliding_window;
  std::vector<bool> sliding_layers;            // per layer: attends within sliding_window
  std::optional<double> rope_local_theta;      // sliding layers' rope base (Gemma3)
  std::optional<RopeScaling> rope_scaling;

  // The config.json fields that reproduce this config (for saving a model).
  nlohmann::json to_json() const;
};

// Parses a config.json object; `where` (the file name) prefixes every error, which also
// names the offending field.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& where);

// The longest prompt this model is given: `limit` (the run's prompt-token limit, which bounds
// what one row costs whatever the input holds), lowered to the model's positions
// (max_position_embeddings) when the config gives them. Longer prompts are cut by
// truncate_prompt (text/truncation.hpp).
std::int64_t max_prompt_tokens(const ModelConfig& config, std::int64_t limit);

// Reads `dir`/config.json (or `path` itself when it is a file); a GGUF file gives its metadata
// (models/gguf_config.hpp).
ModelConfig load_model_config(const std::filesystem::path& path);

// The family table row of config.model_type; an unsupported type is an error.
const Family& family_of(const ModelConfig& config);

}  // namespace relmoe
