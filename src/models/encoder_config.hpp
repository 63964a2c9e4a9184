#pragma once
// Bidirectional encoder checkpoints (BERT, XLM-RoBERTa / RoBERTa) as data beside the decoder
// families: the config.json fields, one tensor-name table shared by the families, and the flags
// that tell them apart. The forward is models/encoder.hpp.
#include "models/family.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct EncoderFamily {
  std::string model_type;           // bert | xlm-roberta | roberta
  std::string task_prefix;          // "bert." / "roberta.": how task-head checkpoints nest the encoder
  bool positions_from_padding = false;  // position ids count from pad_token_id + 1 over real tokens
};

// Module names (without .weight / .bias), "{}" the layer; the same in every family.
struct EncoderNames {
  static constexpr const char* word = "embeddings.word_embeddings";
  static constexpr const char* position = "embeddings.position_embeddings";
  static constexpr const char* token_type = "embeddings.token_type_embeddings";
  static constexpr const char* embed_norm = "embeddings.LayerNorm";
  static constexpr const char* q = "encoder.layer.{}.attention.self.query";
  static constexpr const char* k = "encoder.layer.{}.attention.self.key";
  static constexpr const char* v = "encoder.layer.{}.attention.self.value";
  static constexpr const char* o = "encoder.layer.{}.attention.output.dense";
  static constexpr const char* attn_norm = "encoder.layer.{}.attention.output.LayerNorm";
  static constexpr const char* up = "encoder.layer.{}.intermediate.dense";
  static constexpr const char* down = "encoder.layer.{}.output.dense";
  static constexpr const char* ffn_norm = "encoder.layer.{}.output.LayerNorm";
};

// The family of a model_type, or nullptr when it is not an encoder relmoe runs.
const EncoderFamily* find_encoder_family(const std::string& model_type);

struct EncoderConfig {
  std::string model_type;
  std::int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0, max_position_embeddings = 0, type_vocab_size = 1;
  std::int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  bool gelu_tanh = false;  // hidden_act gelu_new / gelu_pytorch_tanh instead of erf-GELU

  const EncoderFamily& family() const;
  // The config.json fields parse_encoder_config reads.
  nlohmann::json to_json() const;
  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// Parses config.json; errors name `where` and the field.
EncoderConfig parse_encoder_config(const nlohmann::json& json, const std::string& where);
EncoderConfig load_encoder_config(const std::filesystem::path& dir);

// True when `dir`/config.json names an encoder model_type (bert, xlm-roberta, roberta).
bool is_encoder_directory(const std::filesystem::path& dir);

// Every tensor the encoder reads, names under `prefix` ("" or the family's task prefix).
std::vector<TensorSpec> encoder_tensor_specs(const EncoderConfig& config, const std::string& prefix);

// Stored tensors an encoder leaves alone: pooler, MLM / task heads, the position-id buffer.
bool ignorable_encoder_tensor(const std::string& name);

}  // namespace relmoe
