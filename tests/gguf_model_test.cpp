// Real pretrained GGUF models through relmoe's decoder: last-token hidden states against Hugging
// Face transformers loading the same GGUF file (scripts/gguf_hidden_reference.py, run by
// scripts/models.sh), on 24 real relevance prompts, each alone and all in one padded batch; and
// Gemma 3 also from the safetensors checkpoint transformers saved from it; the prompts' ids from
// the file's own tokenizer.
#include "io/checkpoint.hpp"
#include "io/checkpoint_tokenizer.hpp"
#include "models/model_config.hpp"
#include "models/transformer.hpp"
#include "support.hpp"
#include "text/prompt_template.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace relmoe {
namespace {

namespace fs = std::filesystem;

struct Prompt {
  std::string market, text;
  std::vector<TokenId> ids;
  torch::Tensor hidden;
};

fs::path reference_dir() { return fs::path(test_paths::source_dir()) / ".models" / "reference"; }

std::vector<Prompt> read_prompts(const fs::path& file) {
  std::vector<Prompt> prompts;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    prompts.push_back({j["market"], j["text"], j["ids"].get<std::vector<TokenId>>(),
                       torch::tensor(j["last_hidden"].get<std::vector<float>>())});
  }
  return prompts;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  const double diff = (got - want).abs().max().item<double>();
  const double cosine = torch::cosine_similarity(got.to(torch::kFloat64), want.to(torch::kFloat64), 0).item<double>();
  EXPECT_LE(diff, 1e-3) << what;
  EXPECT_GE(cosine, 0.99999) << what;
}

// max |diff| over prompts alone, then the same prompts as one right-padded batch.
void check_model(const fs::path& model_path, const std::vector<Prompt>& prompts) {
  const auto model = Transformer::load(model_path, torch::kFloat32, torch::kCPU);
  torch::InferenceMode guard;
  double worst = 0;
  std::vector<std::vector<TokenId>> all;
  for (const auto& p : prompts) {
    const auto got = model.forward(make_batch({p.ids}, torch::kCPU)).last_hidden[0];
    expect_close(got, p.hidden, p.market + ": " + p.text);
    worst = std::max(worst, (got - p.hidden).abs().max().item<double>());
    all.push_back(p.ids);
  }
  const auto batch = model.forward(make_batch(all, torch::kCPU)).last_hidden;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    expect_close(batch[static_cast<std::int64_t>(i)], prompts[i].hidden, "batched " + prompts[i].market);
  std::printf("%s: %zu prompts, max |diff| alone %.2e\n", model_path.filename().c_str(), prompts.size(), worst);
}

struct Case {
  const char* stem;
  const char* model_type;
};

class GgufModel : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    gguf_ = fs::path(test_paths::source_dir()) / ".models" / (std::string(GetParam().stem) + ".gguf");
    reference_ = reference_dir() / (std::string(GetParam().stem) + ".hidden.jsonl");
    if (!fs::exists(gguf_) || !fs::exists(reference_))
      GTEST_SKIP() << gguf_ << " or " << reference_ << " is missing: run scripts/models.sh";
    prompts_ = read_prompts(reference_);
  }
  fs::path gguf_, reference_;
  std::vector<Prompt> prompts_;
};

TEST_P(GgufModel, ConfigComesFromTheMetadata) {
  const auto config = load_model_config(gguf_);
  EXPECT_EQ(config.model_type, GetParam().model_type);
  const auto saved = reference_dir() / (std::string(GetParam().stem) + ".hf");
  if (!fs::exists(saved)) GTEST_SKIP() << saved << " is missing: run scripts/models.sh";
  // transformers' own reading of the same metadata, saved as config.json.
  const auto hf = load_model_config(saved);
  EXPECT_EQ(config.hidden_size, hf.hidden_size);
  EXPECT_EQ(config.num_hidden_layers, hf.num_hidden_layers);
  EXPECT_EQ(config.num_key_value_heads, hf.num_key_value_heads);
  EXPECT_EQ(config.head_dim, hf.head_dim);
  EXPECT_EQ(config.vocab_size, hf.vocab_size);
  EXPECT_DOUBLE_EQ(config.rope_theta, hf.rope_theta);
  EXPECT_NEAR(config.rms_norm_eps, hf.rms_norm_eps, 1e-12);
  EXPECT_EQ(config.sliding_window, hf.sliding_window);
  EXPECT_EQ(config.sliding_layers, hf.sliding_layers);
  EXPECT_EQ(config.rope_local_theta, hf.rope_local_theta);
  EXPECT_DOUBLE_EQ(config.query_pre_attn_scalar, hf.query_pre_attn_scalar);
}

TEST_P(GgufModel, PromptsRenderAsTheReferenceRenderedThem) {
  const PromptTemplate tmpl;
  std::ifstream dev(test::shared_dir() / "data/relevance/dev.tsv");
  if (!dev) GTEST_SKIP() << "../shared not found";
  ASSERT_EQ(prompts_.size(), 24u);
  for (const auto& p : prompts_) EXPECT_NE(p.text.find("Market: " + p.market + "\n"), std::string::npos);
  EXPECT_EQ(prompts_[0].text, tmpl.render({"outdoor locks", prompts_[0].market,
                                           "Westek 1000-Watt Outdoor Twist-Lock Light Control", ""}));
}

// The prompts as text: the file's own tokenizer (what `hidden`, `embed` and `score` use for a
// GGUF expert) gives the ids transformers gave them, BOS included.
TEST_P(GgufModel, ItsOwnTokenizerGivesTheReferenceIds) {
  const auto tokenizer = find_checkpoint_tokenizer(gguf_);
  ASSERT_NE(tokenizer, nullptr);
  for (const auto& p : prompts_) EXPECT_EQ(tokenizer->encode(p.text, true), p.ids) << p.market << ": " << p.text;
}

TEST_P(GgufModel, LastHiddenMatchesTransformersOnRealPrompts) { check_model(gguf_, prompts_); }

TEST_P(GgufModel, SafetensorsSavedByTransformersMatchToo) {
  const auto saved = reference_dir() / (std::string(GetParam().stem) + ".hf");
  if (!fs::exists(saved)) GTEST_SKIP() << saved << " is missing: run scripts/models.sh";
  check_model(saved, prompts_);
}

INSTANTIATE_TEST_SUITE_P(Real, GgufModel,
                         ::testing::Values(Case{"SmolLM2-135M-Instruct.Q4_1", "llama"},
                                           Case{"gemma-3-270m-q4_k_m", "gemma3_text"}),
                         [](const auto& info) {
                           return std::string(info.param.model_type);
                         });

// `relmoe convert` writes a checkpoint that relmoe loads to the same states and that transformers
// loads too (scripts/hf_load_check.py, run in .venv when it is there). SmolLM2 only: Gemma's f32
// copy is 1 GB; docs/RESULTS.md has the same check on it, run by hand.
TEST(GgufConvert, SmolLM2BecomesACheckpointRelmoeAndTransformersLoad) {
  const auto gguf = fs::path(test_paths::source_dir()) / ".models" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  const auto reference = reference_dir() / "SmolLM2-135M-Instruct.Q4_1.hidden.jsonl";
  if (!fs::exists(gguf) || !fs::exists(reference))
    GTEST_SKIP() << gguf << " or " << reference << " is missing: run scripts/models.sh";
  const auto prompts = read_prompts(reference);
  const auto out = test::scratch_dir() / "converted";
  const auto convert = test::run_command(std::string(test::binary()) + " convert " + gguf.string() + " --out " + out.string());
  ASSERT_EQ(convert.status, 0) << convert.output;
  check_model(out, prompts);
  const auto tokenizer = find_checkpoint_tokenizer(out);
  ASSERT_NE(tokenizer, nullptr);
  for (const auto& p : prompts) EXPECT_EQ(tokenizer->encode(p.text, true), p.ids) << p.text;
  const auto again = test::run_command(std::string(test::binary()) + " convert " + gguf.string() + " --out " + out.string());
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;

  const auto python = fs::path(test_paths::source_dir()) / ".venv" / "bin" / "python";
  if (!fs::exists(python)) GTEST_SKIP() << python << " is missing (bash scripts/python_env.sh): transformers' check skipped";
  const auto hf = test::run_command("HF_HUB_OFFLINE=1 " + python.string() + " " + test_paths::source_dir() +
                                    "/scripts/hf_load_check.py " + out.string() + " " + reference.string() + " 4");
  ASSERT_EQ(hf.status, 0) << hf.output;
  const auto line = hf.output.substr(hf.output.rfind('{'));
  const auto result = nlohmann::json::parse(line);
  EXPECT_TRUE(result["ids_equal"].get<bool>()) << line;
  EXPECT_LE(result["max_abs_diff"].get<double>(), 1e-3) << line;
  std::printf("transformers on the converted checkpoint: %s", line.c_str());
}

// The text part of a multimodal Gemma 3 checkpoint (config.json text_config, tensors under
// language_model.model., a vision tower set aside), against transformers' Gemma3Model on the same
// random weights (scripts/gemma3_multimodal_reference.py).
TEST(Gemma3Multimodal, TextModelMatchesTransformers) {
  const auto dir = reference_dir() / "tiny-gemma3-multimodal";
  const auto reference = reference_dir() / "tiny-gemma3-multimodal.hidden.jsonl";
  if (!fs::exists(dir) || !fs::exists(reference)) GTEST_SKIP() << dir << " is missing: run scripts/models.sh";
  const auto config = load_model_config(dir);
  EXPECT_EQ(config.model_type, "gemma3_text");
  EXPECT_EQ(config.num_hidden_layers, 7);
  EXPECT_EQ(config.sliding_layers, (std::vector<bool>{true, true, true, true, true, false, true}));
  std::vector<Prompt> prompts;
  std::ifstream in(reference);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    prompts.push_back({"", "", j["ids"].get<std::vector<TokenId>>(), torch::tensor(j["last_hidden"].get<std::vector<float>>())});
  }
  ASSERT_EQ(prompts.size(), 3u);
  check_model(dir, prompts);
}

// google/gemma-3-4b-it's config.json names only what differs from Gemma3TextConfig's defaults
// in its text_config; the rest comes from those defaults, as in transformers.
TEST(Gemma3Multimodal, SparseTextConfigTakesTransformersDefaults) {
  const auto config = parse_model_config(nlohmann::json::parse(R"({"architectures": ["Gemma3ForConditionalGeneration"],
      "model_type": "gemma3", "mm_tokens_per_image": 256, "text_config": {"hidden_size": 2560,
      "intermediate_size": 10240, "model_type": "gemma3_text", "num_hidden_layers": 34,
      "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024},
      "vision_config": {"hidden_size": 1152, "model_type": "siglip_vision_model"}})"), "config.json");
  EXPECT_EQ(config.model_type, "gemma3_text");
  EXPECT_EQ(config.hidden_size, 2560);
  EXPECT_EQ(config.num_attention_heads, 8);
  EXPECT_EQ(config.num_key_value_heads, 4);
  EXPECT_EQ(config.head_dim, 256);
  EXPECT_EQ(config.vocab_size, 262208);
  EXPECT_DOUBLE_EQ(config.query_pre_attn_scalar, 256);
  EXPECT_DOUBLE_EQ(config.rope_theta, 1e6);
  EXPECT_EQ(config.rope_local_theta, 10000.0);
  EXPECT_EQ(config.sliding_window, 1024);
  ASSERT_EQ(config.sliding_layers.size(), 34u);
  EXPECT_FALSE(config.sliding_layers[5]);
  EXPECT_TRUE(config.sliding_layers[6]);
  ASSERT_TRUE(config.rope_scaling.has_value());
  EXPECT_DOUBLE_EQ(config.rope_scaling->factor, 8.0);
}

}  // namespace
}  // namespace relmoe
