// LoRA merge against a merge computed independently here (float64, explicit formula).
#include "base/error.hpp"
#include "io/safetensors_writer.hpp"
#include "models/expert.hpp"
#include "models/lora.hpp"
#include "support.hpp"

#include <cmath>
#include <fstream>

namespace {

using nlohmann::json;

const relmoe::ModelConfig& config() {
  static const auto c = relmoe::parse_model_config(
      {{"model_type", "qwen2"}, {"vocab_size", 40}, {"hidden_size", 16},
       {"intermediate_size", 24}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
       {"num_key_value_heads", 2}, {"tie_word_embeddings", false}},
      "config.json");
  return c;
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = relmoe::test::scratch_dir() / ("relmoe_lora_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct Adapter {
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> ab;  // module -> (A, B)
  double alpha = 12;
  std::int64_t rank = 4;
  bool rslora = false;
};

Adapter random_adapter(const relmoe::Weights& base, bool rslora) {
  Adapter adapter;
  adapter.rslora = rslora;
  for (const std::string module : {"model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
                                   "model.layers.0.mlp.down_proj", "model.layers.1.mlp.gate_proj"}) {
    const auto& w = base.at(module + ".weight");
    adapter.ab[module] = {torch::randn({adapter.rank, w.size(1)}) * 0.3,
                          torch::randn({w.size(0), adapter.rank}) * 0.3};
  }
  return adapter;
}

void write_adapter(const std::filesystem::path& dir, const Adapter& adapter) {
  std::filesystem::create_directories(dir);
  json cfg = {{"peft_type", "LORA"}, {"r", adapter.rank}, {"lora_alpha", adapter.alpha},
              {"use_rslora", adapter.rslora}, {"bias", "none"},
              {"target_modules", {"q_proj", "v_proj", "down_proj", "gate_proj"}}};
  std::ofstream(dir / "adapter_config.json") << cfg.dump();
  std::vector<relmoe::SafetensorsEntry> entries;
  std::vector<torch::Tensor> data;
  for (const auto& [module, ab] : adapter.ab) {
    for (const auto& [part, t] : {std::pair{"lora_A", ab.first}, std::pair{"lora_B", ab.second}}) {
      entries.push_back({"base_model.model." + module + "." + part + ".weight", "F32",
                         t.sizes().vec()});
      data.push_back(t.contiguous());
    }
  }
  relmoe::SafetensorsWriter writer(dir / "adapter_model.safetensors", entries);
  for (const auto& t : data) writer.write(t.data_ptr(), t.numel() * sizeof(float));
  writer.finish();
}

// W + scale * B A, element by element in float64.
relmoe::Weights merged_by_hand(relmoe::Weights weights, const Adapter& adapter) {
  const double scale = adapter.alpha / (adapter.rslora ? std::sqrt(double(adapter.rank))
                                                        : double(adapter.rank));
  for (const auto& [module, ab] : adapter.ab) {
    auto w = weights.at(module + ".weight").to(torch::kFloat64).clone();
    auto a = ab.first.to(torch::kFloat64), b = ab.second.to(torch::kFloat64);
    auto wa = w.accessor<double, 2>();
    auto aa = a.accessor<double, 2>();
    auto ba = b.accessor<double, 2>();
    for (std::int64_t i = 0; i < w.size(0); ++i)
      for (std::int64_t j = 0; j < w.size(1); ++j)
        for (std::int64_t k = 0; k < adapter.rank; ++k) wa[i][j] += scale * ba[i][k] * aa[k][j];
    weights[module + ".weight"] = w.to(torch::kFloat32);
  }
  return weights;
}

torch::Tensor hidden_of(const relmoe::Transformer& model) {
  torch::InferenceMode guard;
  return model.forward(relmoe::make_batch({{3, 1, 4, 1, 5}, {9, 2, 6}}, torch::kCPU)).last_hidden;
}

void check_merge(bool rslora, bool separate_dir) {
  const auto base = relmoe::random_weights(config(), torch::kFloat32, torch::kCPU, 11);
  const auto adapter = random_adapter(base, rslora);
  auto dir = fresh_dir(std::string("expert_") + (rslora ? "rs" : "plain"));
  relmoe::save_model(dir, config(), base);
  if (separate_dir) {
    write_adapter(dir / "adapters" / "v1", adapter);
    std::ofstream(dir / "relmoe.json") << json{{"adapter", "adapters/v1"}}.dump();
  } else {
    write_adapter(dir, adapter);
  }
  auto expert = relmoe::Expert::load(dir);
  auto got = expert.hidden({{3, 1, 4, 1, 5}, {9, 2, 6}}).last_hidden;
  auto want = hidden_of(relmoe::Transformer(config(), merged_by_hand(base, adapter)));
  auto unmerged = hidden_of(relmoe::Transformer(config(), base));
  EXPECT_LT((got - want).abs().max().item<float>(), 1e-5);
  EXPECT_GT((got - unmerged).abs().max().item<float>(), 1e-2);  // the adapter mattered
}

TEST(Lora, MergesAdapterInExpertDir) { check_merge(false, false); }

TEST(Lora, MergesRsLoraAdapterNamedByRelmoeJson) { check_merge(true, true); }

TEST(Lora, AdapterForUnknownModuleNamesFileAndTensor) {
  auto base = relmoe::random_weights(config(), torch::kFloat32, torch::kCPU, 2);
  Adapter adapter = random_adapter(base, false);
  adapter.ab["model.layers.7.self_attn.q_proj"] = adapter.ab.begin()->second;
  auto dir = fresh_dir("unknown_module");
  write_adapter(dir, adapter);
  try {
    relmoe::merge_lora(base, dir);
    FAIL() << "expected an error";
  } catch (const relmoe::Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("adapter_model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("model.layers.7.self_attn.q_proj"), std::string::npos) << message;
  }
}

TEST(Lora, RefusesUnsupportedAdapterOptions) {
  auto base = relmoe::random_weights(config(), torch::kFloat32, torch::kCPU, 2);
  auto dir = fresh_dir("dora");
  write_adapter(dir, random_adapter(base, false));
  std::ofstream(dir / "adapter_config.json") << R"({"r": 4, "lora_alpha": 8, "use_dora": true})";
  EXPECT_THROW(relmoe::merge_lora(base, dir), relmoe::Error);
}

}  // namespace
