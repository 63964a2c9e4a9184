#include "models/random_expert.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "models/weights.hpp"
#include "text/byte_level.hpp"

#include <nlohmann/json.hpp>


namespace relmoe {

void write_random_expert(const std::filesystem::path& dir, const RandomExpertOptions& o) {
  if (o.vocab < 256) fail("random expert", "vocab " + std::to_string(o.vocab) + " is below the byte tokenizer's 256");
  nlohmann::json config_json = {{"model_type", o.arch},
                                {"vocab_size", o.vocab},
                                {"hidden_size", o.hidden},
                                {"intermediate_size", o.intermediate},
                                {"num_hidden_layers", o.layers},
                                {"num_attention_heads", o.heads},
                                {"num_key_value_heads", o.kv_heads},
                                {"max_position_embeddings", o.max_positions},
                                {"rms_norm_eps", 1e-6},
                                {"tie_word_embeddings", true}};
  if (o.head_dim > 0) config_json["head_dim"] = o.head_dim;
  const auto config = parse_model_config(config_json, "random expert");
  std::filesystem::create_directories(dir);
  if (o.weights)
    save_model(dir, config, random_weights(config, torch::kFloat32, torch::kCPU, o.seed));
  else
    write_json_file(dir / "config.json", config.to_json());
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, static_cast<char>(b)))] = b;
  const nlohmann::json tokenizer = {
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  write_text_file(dir / "tokenizer.json", tokenizer.dump());
}

}  // namespace relmoe
