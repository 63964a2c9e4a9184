#include "models/model_config.hpp"

#include "base/error.hpp"
#include "io/gguf_tensors.hpp"
#include "io/json_file.hpp"
#include "models/gguf_config.hpp"
#include "models/config_fields.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

namespace relmoe {

namespace {

using nlohmann::json;
using Fields = ConfigFields;

Activation parse_activation(const Fields& f, const Family& family) {
  std::string field = family.activation_field;
  if (!f.has(field) && f.has("hidden_act")) field = "hidden_act";
  if (!f.has(field)) return family.default_activation;
  std::string name = f.string_or(field, "");
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new") return Activation::GeluTanh;
  f.bad(field, "'" + name + "' is not supported (expected silu or gelu_pytorch_tanh)");
}

std::optional<RopeScaling> parse_rope_scaling(const json& j, const std::string& where,
                                              const std::string& key = "rope_scaling") {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_object()) Fields(j, where).bad(key, "must be an object");
  Fields f(j[key], where + ": " + key);
  RopeScaling r;
  r.type = f.string_or("rope_type", f.string_or("type", "default"));
  if (r.type == "default") return std::nullopt;
  if (r.type != "linear" && r.type != "llama3")
    f.bad(f.has("rope_type") ? "rope_type" : "type",
          "'" + r.type + "' is not supported (supported: linear, llama3)");
  if (!f.has("factor")) f.bad("factor", "is missing");
  r.factor = f.positive_number_or("factor", 1.0);
  if (r.type == "llama3") {
    r.low_freq_factor = f.positive_number_or("low_freq_factor", r.low_freq_factor);
    r.high_freq_factor = f.positive_number_or("high_freq_factor", r.high_freq_factor);
    if (r.high_freq_factor <= r.low_freq_factor) f.bad("high_freq_factor", "must exceed low_freq_factor");
    r.original_max_position_embeddings =
        f.positive_int_or("original_max_position_embeddings", r.original_max_position_embeddings);
  }
  return r;
}

// Which layers attend within sliding_window: config.json's layer_types when present, else every
// layer but each sliding_pattern-th (Hugging Face: sliding iff (layer + 1) % pattern != 0).
std::vector<bool> parse_sliding_layers(const json& j, const Fields& f, const Family& family, std::int64_t layers) {
  std::vector<bool> sliding(static_cast<std::size_t>(layers), false);
  if (family.sliding_pattern == 0) return sliding;
  if (f.has("layer_types")) {
    const auto& types = j["layer_types"];
    if (!types.is_array() || static_cast<std::int64_t>(types.size()) != layers)
      f.bad("layer_types", "must be an array of num_hidden_layers strings");
    for (std::size_t l = 0; l < types.size(); ++l) {
      const std::string type = types[l].is_string() ? types[l].get<std::string>() : types[l].dump();
      if (type != "sliding_attention" && type != "full_attention")
        f.bad("layer_types", "entry " + std::to_string(l) + " is '" + type +
                                 "' (expected sliding_attention or full_attention)");
      sliding[l] = type == "sliding_attention";
    }
    return sliding;
  }
  const std::int64_t pattern = f.positive_int_or("sliding_window_pattern", family.sliding_pattern);
  for (std::int64_t l = 0; l < layers; ++l) sliding[static_cast<std::size_t>(l)] = (l + 1) % pattern != 0;
  return sliding;
}

// transformers 5 writes rope settings as rope_parameters: {rope_theta, rope_type, factor, ...},
// or one such object per layer type ({full_attention: ..., sliding_attention: ...}, Gemma3).
void parse_rope_parameters(const json& j, const std::string& where, ModelConfig& c) {
  if (!j.contains("rope_parameters") || j["rope_parameters"].is_null()) return;
  const auto& params = j["rope_parameters"];
  if (!params.is_object()) Fields(j, where).bad("rope_parameters", "must be an object");
  const bool per_layer_type = params.contains("full_attention") || params.contains("sliding_attention");
  auto read = [&](const json& p, const std::string& name, double& theta) {
    if (!p.is_object()) Fields(params, where + ": rope_parameters").bad(name, "must be an object");
    theta = Fields(p, where + ": " + name).positive_number_or("rope_theta", theta);
  };
  if (!per_layer_type) {
    read(params, "rope_parameters", c.rope_theta);
    c.rope_scaling = parse_rope_scaling(j, where, "rope_parameters");
    return;
  }
  if (params.contains("full_attention")) {
    read(params["full_attention"], "rope_parameters.full_attention", c.rope_theta);
    c.rope_scaling = parse_rope_scaling(params, where + ": rope_parameters", "full_attention");
  }
  if (params.contains("sliding_attention")) {
    double local = c.rope_local_theta.value_or(c.rope_theta);
    read(params["sliding_attention"], "rope_parameters.sliding_attention", local);
    c.rope_local_theta = local;
  }
}

// Gemma3TextConfig's defaults: a multimodal Gemma 3 config.json (model_type "gemma3") names only
// what differs from them in its text_config, and transformers fills in the rest.
json gemma3_text_defaults() {
  return {{"model_type", "gemma3_text"}, {"vocab_size", 262208}, {"hidden_size", 2304}, {"intermediate_size", 9216},
          {"num_hidden_layers", 26}, {"num_attention_heads", 8}, {"num_key_value_heads", 4}, {"head_dim", 256},
          {"hidden_activation", "gelu_pytorch_tanh"}, {"max_position_embeddings", 131072}, {"rms_norm_eps", 1e-6},
          {"rope_theta", 1000000.0}, {"rope_local_base_freq", 10000.0}, {"query_pre_attn_scalar", 256},
          {"sliding_window", 4096}, {"sliding_window_pattern", 6}, {"tie_word_embeddings", true}};
}

}  // namespace

ModelConfig parse_model_config(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "expected a JSON object");
  if (j.value("model_type", json()) == "gemma3" && j.contains("text_config")) {
    if (!j["text_config"].is_object()) fail(where, "field 'text_config' must be an object");
    auto text = gemma3_text_defaults();
    text.update(j["text_config"]);
    return parse_model_config(text, where + ": text_config");
  }
  Fields f(j, where);
  ModelConfig c;
  if (!f.has("model_type")) f.bad("model_type", "is missing");
  c.model_type = f.string_or("model_type", "");
  const Family* family = find_family(c.model_type);
  if (!family)
    f.bad("model_type", "'" + c.model_type + "' is not supported (supported: " +
                            supported_model_types() + ")");
  c.vocab_size = f.positive_int("vocab_size");
  c.hidden_size = f.positive_int("hidden_size");
  c.intermediate_size = f.positive_int("intermediate_size");
  c.num_hidden_layers = f.positive_int("num_hidden_layers");
  c.num_attention_heads = f.positive_int("num_attention_heads");
  c.num_key_value_heads = f.positive_int_or("num_key_value_heads", c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    f.bad("num_key_value_heads", "must divide num_attention_heads");
  if (!f.has("head_dim") && c.hidden_size % c.num_attention_heads != 0)
    f.bad("head_dim", "is missing and hidden_size is not a multiple of num_attention_heads");
  c.head_dim = f.positive_int_or("head_dim", c.hidden_size / c.num_attention_heads);
  if (c.head_dim % 2 != 0) f.bad("head_dim", "must be even for rotary embeddings");
  c.rope_theta = f.positive_number_or("rope_theta", c.rope_theta);
  c.rms_norm_eps = f.positive_number_or("rms_norm_eps", c.rms_norm_eps);
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", family->default_tie_embeddings);
  c.max_position_embeddings = f.positive_int_or("max_position_embeddings", 0);
  const bool attention_bias = f.bool_or("attention_bias", false);
  c.qkv_bias = family->qkv_bias_always || attention_bias;
  c.o_bias = !family->qkv_bias_always && attention_bias;
  c.mlp_bias = f.bool_or("mlp_bias", false);
  c.activation = parse_activation(f, *family);
  c.query_pre_attn_scalar = static_cast<double>(c.head_dim);
  if (family->query_scalar) c.query_pre_attn_scalar = f.positive_number_or("query_pre_attn_scalar", 256.0);
  if (family->softcapping) {  // Hugging Face Gemma2Config defaults; Gemma3TextConfig has none
    const bool on = family->sliding_pattern == 2;  // Gemma2's defaults are on (50 / 30)
    c.attn_logit_softcapping = f.optional_positive_number("attn_logit_softcapping", on ? std::optional(50.0) : std::nullopt);
    c.final_logit_softcapping = f.optional_positive_number("final_logit_softcapping", on ? std::optional(30.0) : std::nullopt);
  }
  if (family->sliding_pattern > 0) c.sliding_window = f.positive_int_or("sliding_window", 4096);
  c.sliding_layers = parse_sliding_layers(j, f, *family, c.num_hidden_layers);
  if (family->local_rope) c.rope_local_theta = f.positive_number_or("rope_local_base_freq", 10000.0);
  if (f.bool_or("use_sliding_window", false))
    f.bad("use_sliding_window", "true is not supported");
  c.rope_scaling = parse_rope_scaling(j, where);
  parse_rope_parameters(j, where, c);
  return c;
}

std::int64_t max_prompt_tokens(const ModelConfig& config, std::int64_t limit) {
  return config.max_position_embeddings > 0 ? std::min(config.max_position_embeddings, limit) : limit;
}

const Family& family_of(const ModelConfig& config) {
  const Family* f = find_family(config.model_type);
  if (!f) fail("config.json", "model_type '" + config.model_type + "' is not supported");
  return *f;
}

ModelConfig load_model_config(const std::filesystem::path& path) {
  if (is_gguf_file(path)) return gguf_model_config(GgufTensors(path).file());
  auto file = std::filesystem::is_directory(path) ? path / "config.json" : path;
  return parse_model_config(read_json_file(file), file.string());
}

json ModelConfig::to_json() const {
  const Family& family = family_of(*this);
  json j = {{"model_type", model_type},
            {"vocab_size", vocab_size},
            {"hidden_size", hidden_size},
            {"intermediate_size", intermediate_size},
            {"num_hidden_layers", num_hidden_layers},
            {"num_attention_heads", num_attention_heads},
            {"num_key_value_heads", num_key_value_heads},
            {"head_dim", head_dim},
            {"rope_theta", rope_theta},
            {"rms_norm_eps", rms_norm_eps},
            {"tie_word_embeddings", tie_word_embeddings},
            {"mlp_bias", mlp_bias},
            {"torch_dtype", "float32"}};
  if (max_position_embeddings > 0) j["max_position_embeddings"] = max_position_embeddings;
  if (!family.qkv_bias_always) j["attention_bias"] = qkv_bias;
  j[family.activation_field] = activation == Activation::Silu ? "silu" : "gelu_pytorch_tanh";
  if (family.softcapping) {
    j["attn_logit_softcapping"] = attn_logit_softcapping ? json(*attn_logit_softcapping) : json();
    j["final_logit_softcapping"] =
        final_logit_softcapping ? json(*final_logit_softcapping) : json();
  }
  if (family.query_scalar) j["query_pre_attn_scalar"] = query_pre_attn_scalar;
  if (sliding_window) j["sliding_window"] = *sliding_window;
  if (family.sliding_pattern > 0) {
    j["layer_types"] = json::array();
    for (bool sliding : sliding_layers) j["layer_types"].push_back(sliding ? "sliding_attention" : "full_attention");
  }
  if (rope_local_theta) j["rope_local_base_freq"] = *rope_local_theta;
  if (rope_scaling) {
    j["rope_scaling"] = {{"rope_type", rope_scaling->type}, {"factor", rope_scaling->factor}};
    if (rope_scaling->type == "llama3") {
      j["rope_scaling"]["low_freq_factor"] = rope_scaling->low_freq_factor;
      j["rope_scaling"]["high_freq_factor"] = rope_scaling->high_freq_factor;
      j["rope_scaling"]["original_max_position_embeddings"] =
          rope_scaling->original_max_position_embeddings;
    }
  }
  return j;
}

}  // namespace relmoe
