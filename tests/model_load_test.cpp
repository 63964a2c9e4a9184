// Config parsing, loading errors, save/load round trip and autograd through the forward.
#include "base/error.hpp"
#include "io/safetensors_writer.hpp"
#include "models/decoder_tensors.hpp"
#include "models/expert.hpp"
#include "models/random_expert.hpp"
#include "models/transformer.hpp"
#include "support.hpp"

#include <fstream>

namespace {

using nlohmann::json;

json tiny_config(const std::string& type) {
  return {{"model_type", type},       {"vocab_size", 32},       {"hidden_size", 16},
          {"intermediate_size", 24},  {"num_hidden_layers", 2}, {"num_attention_heads", 4},
          {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-6},   {"tie_word_embeddings", true}};
}

std::string config_error(const json& j) {
  try {
    relmoe::parse_model_config(j, "config.json");
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "";
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = relmoe::test::scratch_dir() / ("relmoe_model_load_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string load_error(const std::filesystem::path& dir) {
  try {
    relmoe::Transformer::load(dir, torch::kFloat32, torch::kCPU);
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "";
}

// Writes config.json and a model.safetensors holding `specs` (random F32 data).
void write_model(const std::filesystem::path& dir, const json& config,
                 const std::vector<relmoe::TensorSpec>& specs) {
  std::ofstream(dir / "config.json") << config.dump();
  std::vector<relmoe::SafetensorsEntry> entries;
  for (const auto& s : specs) entries.push_back({s.name, "F32", s.shape});
  relmoe::SafetensorsWriter writer(dir / "model.safetensors", entries);
  for (const auto& s : specs) {
    auto t = torch::randn(s.shape);
    writer.write(t.data_ptr(), t.numel() * sizeof(float));
  }
  writer.finish();
}

TEST(ModelConfig, ReadsFamilyDefaults) {
  auto qwen = relmoe::parse_model_config(tiny_config("qwen2"), "config.json");
  EXPECT_EQ(qwen.head_dim, 4);
  EXPECT_TRUE(qwen.qkv_bias);
  EXPECT_FALSE(qwen.o_bias);
  auto llama = relmoe::parse_model_config(tiny_config("llama"), "config.json");
  EXPECT_FALSE(llama.qkv_bias);
  auto g = tiny_config("gemma2");
  g["head_dim"] = 8;
  g["final_logit_softcapping"] = nullptr;
  auto gemma = relmoe::parse_model_config(g, "config.json");
  EXPECT_EQ(gemma.head_dim, 8);
  EXPECT_EQ(gemma.activation, relmoe::Activation::GeluTanh);
  EXPECT_EQ(gemma.attn_logit_softcapping, 50.0);
  EXPECT_FALSE(gemma.final_logit_softcapping.has_value());
  EXPECT_EQ(gemma.query_pre_attn_scalar, 256.0);
  EXPECT_EQ(gemma.sliding_window, 4096);
}

TEST(ModelConfig, ErrorsNameFileAndField) {
  EXPECT_NE(config_error(tiny_config("mamba")).find("config.json: field 'model_type' 'mamba' is "
                                                    "not supported"),
            std::string::npos);
  auto missing = tiny_config("llama");
  missing.erase("hidden_size");
  EXPECT_NE(config_error(missing).find("config.json: field 'hidden_size' is missing"),
            std::string::npos);
  auto ill = tiny_config("llama");
  ill["num_attention_heads"] = "4";
  EXPECT_NE(config_error(ill).find("field 'num_attention_heads' must be a positive integer"),
            std::string::npos);
  auto flag = tiny_config("llama");
  flag["tie_word_embeddings"] = 1;
  EXPECT_NE(config_error(flag).find("'tie_word_embeddings'"), std::string::npos);
  auto rope = tiny_config("llama");
  rope["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_NE(config_error(rope).find("rope_scaling: field 'rope_type' 'yarn' is not supported"),
            std::string::npos);
  auto llama3 = tiny_config("llama");
  llama3["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_EQ(config_error(llama3), "");
}

TEST(ModelLoad, UnknownModelTypeNamesConfigFile) {
  auto dir = temp_dir("unknown");
  std::ofstream(dir / "config.json") << tiny_config("mamba").dump();
  auto message = load_error(dir);
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("mamba"), std::string::npos) << message;
}

TEST(ModelLoad, MissingTensorNamesFileAndTensor) {
  auto dir = temp_dir("missing");
  auto config = tiny_config("llama");
  auto specs = relmoe::tensor_specs(relmoe::parse_model_config(config, "config.json"));
  specs.erase(specs.begin() + 3);  // a layer-0 projection
  write_model(dir, config, specs);
  auto message = load_error(dir);  // the checkpoint (directory) lacks it
  EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
  EXPECT_NE(message.find("model.layers.0.self_attn.k_proj.weight"), std::string::npos) << message;
}

TEST(ModelLoad, ShapeMismatchNamesFileAndTensor) {
  auto dir = temp_dir("shape");
  auto config = tiny_config("qwen2");
  auto specs = relmoe::tensor_specs(relmoe::parse_model_config(config, "config.json"));
  for (auto& s : specs)
    if (s.name == "model.layers.1.mlp.up_proj.weight") s.shape = {16, 24};
  write_model(dir, config, specs);
  auto message = load_error(dir);
  EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << message;
}

TEST(ModelLoad, SavedRandomModelLoadsBackIdentically) {
  for (const std::string type : {"qwen2", "llama", "gemma2", "qwen3"}) {
    auto config = relmoe::parse_model_config(tiny_config(type), "config.json");
    relmoe::Transformer model(config, relmoe::random_weights(config, torch::kFloat32,
                                                              torch::kCPU, 7));
    auto dir = temp_dir("roundtrip_" + type);
    model.save(dir);
    auto back = relmoe::Transformer::load(dir, torch::kFloat32, torch::kCPU);
    EXPECT_EQ(back.config().to_json(), config.to_json()) << type;
    for (const auto& [name, tensor] : model.weights())
      EXPECT_TRUE(torch::equal(back.weights().at(name), tensor)) << type << " " << name;
  }
}

// What bench_pipeline's real-size experts rely on: weights drawn from a seed at load time are the
// ones a checkpoint written from that seed holds, and a config without weights says so.
TEST(ModelLoad, RandomWeightsFromAConfigAloneEqualTheCheckpointWrittenFromTheSeed) {
  for (const std::string arch : {"qwen2", "gemma2"}) {
    relmoe::RandomExpertOptions o;
    o.arch = arch;
    o.hidden = 48, o.heads = 2, o.kv_heads = 1, o.head_dim = 32, o.vocab = 300, o.seed = 5;
    const auto written = temp_dir("random_written_" + arch), config_only = temp_dir("random_config_" + arch);
    relmoe::write_random_expert(written, o);
    o.weights = false;
    relmoe::write_random_expert(config_only, o);
    EXPECT_FALSE(std::filesystem::exists(config_only / "model.safetensors"));
    try {
      relmoe::Expert::load(config_only);
      ADD_FAILURE() << "a config without weights loaded";
    } catch (const relmoe::Error& e) {
      EXPECT_NE(std::string(e.what()).find(config_only.string()), std::string::npos) << e.what();
    }
    relmoe::ExpertOptions drawn;
    drawn.random_weights_seed = 5;
    const auto a = relmoe::Expert::load(written), b = relmoe::Expert::load(config_only, drawn);
    EXPECT_EQ(b.model().config().head_dim, 32);
    EXPECT_EQ(b.model().config().vocab_size, 300);
    const std::vector<std::vector<relmoe::TokenId>> ids{{1, 2, 3, 299}, {7, 8}};
    EXPECT_TRUE(torch::equal(a.hidden(ids).last_hidden, b.hidden(ids).last_hidden)) << arch;
  }
  relmoe::RandomExpertOptions small;
  small.vocab = 100;
  EXPECT_THROW(relmoe::write_random_expert(temp_dir("random_small_vocab"), small), relmoe::Error);
}

TEST(ModelForward, GradientsFlowToEveryWeight) {
  auto config = relmoe::parse_model_config(tiny_config("gemma2"), "config.json");
  auto weights = relmoe::random_weights(config, torch::kFloat32, torch::kCPU, 3);
  for (auto& [name, t] : weights) t.requires_grad_(true);
  relmoe::Transformer model(config, weights);
  auto batch = relmoe::make_batch({{1, 2, 3}, {4, 5}}, torch::kCPU);
  auto out = model.forward(batch, {.answer_ids = std::array<std::int64_t, 2>{7, 9}});
  (out.last_hidden.square().sum() + out.score.sum()).backward();
  for (const auto& [name, t] : weights) {
    ASSERT_TRUE(t.grad().defined()) << name;
    EXPECT_GT(t.grad().abs().sum().item<float>(), 0) << name;
  }
}

TEST(ModelForward, RejectsIdsOutsideVocabulary) {
  auto config = relmoe::parse_model_config(tiny_config("llama"), "config.json");
  relmoe::Transformer model(config, relmoe::random_weights(config, torch::kFloat32,
                                                            torch::kCPU, 1));
  torch::InferenceMode guard;
  EXPECT_THROW(model.forward(relmoe::make_batch({{1, 32}}, torch::kCPU)), relmoe::Error);
}

}  // namespace
