#include "models/gguf_config.hpp"

#include "base/error.hpp"
#include "io/gguf_tensors.hpp"

namespace relmoe {

nlohmann::json gguf_config_json(const GgufFile& file) {
  const std::string arch_name = file.string("general.architecture").value_or("");
  const GgufArchitecture& arch = gguf_architecture(arch_name, file.file());
  const std::string p = arch_name + ".";
  auto required = [&](const std::string& key) {
    auto v = file.uint(p + key);
    if (!v) fail(file.file(), "lacks the metadata key '" + p + key + "'");
    return *v;
  };
  const auto* embed = file.tensor("token_embd.weight");
  if (!embed || embed->dims.size() != 2) fail(file.file(), "lacks a two-dimensional token_embd.weight");
  if (file.tensor("rope_freqs.weight"))
    fail(file.file(), "holds rope_freqs.weight (Llama 3.1 rope scaling), which relmoe does not read from GGUF yet");

  nlohmann::json j = {{"model_type", arch.model_type},
                      {"architectures", {arch.hf_class}},
                      {"vocab_size", embed->dims[1]},
                      {"hidden_size", required("embedding_length")},
                      {"intermediate_size", required("feed_forward_length")},
                      {"num_hidden_layers", required("block_count")},
                      {"num_attention_heads", required("attention.head_count")},
                      {"tie_word_embeddings", file.tensor("output.weight") == nullptr}};
  const auto heads = required("attention.head_count");
  j["num_key_value_heads"] = file.uint(p + "attention.head_count_kv").value_or(heads);
  if (auto v = file.uint(p + "attention.key_length")) j["head_dim"] = *v;
  if (auto v = file.number(p + "rope.freq_base")) j["rope_theta"] = *v;
  if (auto v = file.number(p + "attention.layer_norm_rms_epsilon")) j["rms_norm_eps"] = *v;
  if (auto v = file.uint(p + "context_length")) j["max_position_embeddings"] = *v;
  if (auto v = file.uint(p + "attention.sliding_window")) j["sliding_window"] = *v;
  if (arch_name != "qwen2") j["attention_bias"] = file.tensor("blk.0.attn_q.bias") != nullptr;
  const std::int64_t head_dim = j.contains("head_dim") ? j["head_dim"].get<std::int64_t>()
                                                        : j["hidden_size"].get<std::int64_t>() / static_cast<std::int64_t>(heads);
  if (auto rotary = file.uint(p + "rope.dimension_count"); rotary && static_cast<std::int64_t>(*rotary) != head_dim)
    fail(file.file(), "rotates " + std::to_string(*rotary) + " of " + std::to_string(head_dim) +
                          " head dimensions (partial rotary), which relmoe does not support");
  if (auto type = file.string(p + "rope.scaling.type"); type && *type != "none") {
    if (*type != "linear") fail(file.file(), "rope scaling '" + *type + "' is not supported (linear is)");
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", file.number(p + "rope.scaling.factor").value_or(1.0)}};
  }
  if (arch_name == "gemma2" || arch_name == "gemma3") {
    // llama.cpp scales queries by 1/sqrt(head_dim), except for the 27B models (46 and 62 layers),
    // whose Hugging Face configs give query_pre_attn_scalar = hidden_size / heads.
    const auto layers = j["num_hidden_layers"].get<std::int64_t>();
    const bool big = (arch_name == "gemma2" && layers == 46) || (arch_name == "gemma3" && layers == 62);
    j["query_pre_attn_scalar"] = big ? j["hidden_size"].get<std::int64_t>() / static_cast<std::int64_t>(heads) : head_dim;
  }
  if (arch_name == "gemma2") {
    j["attn_logit_softcapping"] = file.number(p + "attn_logit_softcapping").value_or(50.0);
    j["final_logit_softcapping"] = file.number(p + "final_logit_softcapping").value_or(30.0);
  }
  if (arch_name == "gemma3") {
    j["rope_local_base_freq"] = 10000.0;
    j["sliding_window_pattern"] = 6;
  }
  return j;
}

ModelConfig gguf_model_config(const GgufFile& file) {
  return parse_model_config(gguf_config_json(file), file.file() + " (its metadata as config.json)");
}

}  // namespace relmoe
