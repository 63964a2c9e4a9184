#include "expert_training/expert_recipe.hpp"

#include "base/error.hpp"

namespace relmoe {

ModelConfig expert_config(const std::string& arch, const std::string& size, std::int64_t vocab_size,
                          std::int64_t max_tokens) {
  if (arch != "qwen2" && arch != "llama" && arch != "gemma2")
    fail("--arch", "expected qwen2, llama or gemma2, got '" + arch + "'");
  if (size != "tiny" && size != "small") fail("--size", "expected tiny or small, got '" + size + "'");
  const bool tiny = size == "tiny";
  nlohmann::json j{
      {"model_type", arch},
      {"vocab_size", vocab_size},
      {"hidden_size", tiny ? 128 : 256},
      {"intermediate_size", tiny ? 384 : 768},
      {"num_hidden_layers", tiny ? 2 : 4},
      {"num_attention_heads", tiny ? 4 : 8},
      {"num_key_value_heads", tiny ? 2 : 4},
      {"head_dim", 32},
      {"rope_theta", 10000.0},
      {"rms_norm_eps", 1e-6},
      {"max_position_embeddings", std::max<std::int64_t>(128, max_tokens)},
      // Llama keeps a separate output head (as Llama 2/3 do); Qwen2 and Gemma2 tie it.
      {"tie_word_embeddings", arch != "llama"},
  };
  if (arch == "gemma2") {
    j["hidden_activation"] = "gelu_pytorch_tanh";
    j["query_pre_attn_scalar"] = 32;
    j["sliding_window"] = 4096;
  }
  return parse_model_config(j, "expert config (" + arch + ", " + size + ")");
}

nlohmann::json expert_manifest(const nlohmann::json& provenance) {
  return {{"prompt_template", kExpertPromptTemplate},
          {"answer_tokens", {{"yes", kAnswerYes}, {"no", kAnswerNo}}},
          {"add_special_tokens", true},
          {"trained_by", provenance}};
}

}  // namespace relmoe
