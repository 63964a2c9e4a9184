// last_hidden against ../shared/reference/models: llama.cpp and a float64 NumPy forward,
// both independent implementations of the Hugging Face models.
#include "base/error.hpp"
#include "io/checkpoint.hpp"
#include "models/expert.hpp"
#include "support.hpp"

#include <torch/cuda.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace {

struct Ref {
  std::vector<relmoe::TokenId> ids;
  std::vector<float> last_hidden, numpy_last_hidden;
  std::string text;
};

std::filesystem::path model_dir(const std::string& name) {
  return relmoe::test::shared_dir() / "reference/models" / name;
}

std::vector<Ref> read_refs(const std::string& name) {
  std::ifstream in(model_dir(name) / "refs.jsonl");
  std::vector<Ref> refs;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    refs.push_back({j["ids"], j["last_hidden"], j["numpy_last_hidden"], j.value("text", "")});
  }
  return refs;
}

float max_abs_diff(const torch::Tensor& row, const std::vector<float>& expected) {
  auto want = torch::tensor(expected);
  EXPECT_EQ(row.numel(), want.numel());
  return (row.to(torch::kFloat32).flatten() - want).abs().max().item<float>();
}

std::vector<std::vector<relmoe::TokenId>> all_ids(const std::vector<Ref>& refs) {
  std::vector<std::vector<relmoe::TokenId>> ids;
  for (const auto& r : refs) ids.push_back(r.ids);
  return ids;
}

torch::Tensor hidden(const relmoe::Transformer& model,
                     const std::vector<std::vector<relmoe::TokenId>>& ids,
                     relmoe::Padding padding = relmoe::Padding::Right) {
  torch::InferenceMode guard;
  return model.forward(relmoe::make_batch(ids, model.device(), padding)).last_hidden;
}

struct Case {
  std::string model;
  double tol_llama_cpp;  // against last_hidden
  double tol_numpy;      // against numpy_last_hidden
};

// Names the case in test output instead of gtest's byte dump.
void PrintTo(const Case& c, std::ostream* os) { *os << c.model; }

class Parity : public ::testing::TestWithParam<Case> {};

TEST_P(Parity, OnePromptAtATimeAndPaddedBatches) {
  const Case& c = GetParam();
  RELMOE_REQUIRE_SHARED("reference/models/" + c.model + "/refs.jsonl");
  auto refs = read_refs(c.model);
  ASSERT_FALSE(refs.empty());
  auto model = relmoe::Transformer::load(model_dir(c.model), torch::kFloat32, torch::kCPU);
  float single = 0, single_np = 0, right = 0, left = 0;
  auto batch_right = hidden(model, all_ids(refs), relmoe::Padding::Right);
  auto batch_left = hidden(model, all_ids(refs), relmoe::Padding::Left);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    auto one = hidden(model, {refs[i].ids})[0];
    single = std::max(single, max_abs_diff(one, refs[i].last_hidden));
    single_np = std::max(single_np, max_abs_diff(one, refs[i].numpy_last_hidden));
    right = std::max(right, max_abs_diff(batch_right[static_cast<long>(i)], refs[i].last_hidden));
    left = std::max(left, max_abs_diff(batch_left[static_cast<long>(i)], refs[i].last_hidden));
  }
  std::cout << c.model << ": max |diff| vs llama.cpp single " << single << ", right-padded "
            << right << ", left-padded " << left << "; vs numpy " << single_np << "\n";
  EXPECT_LE(single, c.tol_llama_cpp);
  EXPECT_LE(right, c.tol_llama_cpp);
  EXPECT_LE(left, c.tol_llama_cpp);
  EXPECT_LE(single_np, c.tol_numpy);
}

TEST_P(Parity, BatchCompositionDoesNotChangeResults) {
  const Case& c = GetParam();
  RELMOE_REQUIRE_SHARED("reference/models/" + c.model + "/refs.jsonl");
  auto refs = read_refs(c.model);
  auto model = relmoe::Transformer::load(model_dir(c.model), torch::kFloat32, torch::kCPU);
  auto ids = all_ids(refs);
  auto full = hidden(model, ids);
  // The same prompts in reverse order, and the first three alone, left-padded.
  std::vector<std::vector<relmoe::TokenId>> reversed(ids.rbegin(), ids.rend());
  auto rev = hidden(model, reversed);
  auto part = hidden(model, {ids.begin(), ids.begin() + 3}, relmoe::Padding::Left);
  const auto n = static_cast<long>(ids.size());
  // Batches of other shapes sum in other orders, so f32 results differ by their rounding errors.
  // Each batching's error is of the size of the batch's own error against the float64 NumPy
  // forward; two of them differ by at most the sum, with 2x headroom for another draw of the
  // rounding: 4x the largest error measured here, on this machine's kernels.
  float rounding = 0;
  for (long i = 0; i < n; ++i)
    rounding = std::max(rounding, max_abs_diff(full[i], refs[static_cast<std::size_t>(i)].numpy_last_hidden));
  const float bound = 4 * rounding;
  EXPECT_LT(rounding, c.tol_numpy);  // the reference parity itself
  EXPECT_LE((rev.flip(0) - full).abs().max().item<float>(), bound);
  EXPECT_LE((part - full.slice(0, 0, 3)).abs().max().item<float>(), bound);
  std::cout << "[ measured ] " << c.model << ": f32 error against float64 " << rounding << ", batch bound " << bound
            << "\n";
  EXPECT_EQ(full.size(0), n);
}

TEST_P(Parity, HalfPrecisionRunsStayClose) {
  const Case& c = GetParam();
  RELMOE_REQUIRE_SHARED("reference/models/" + c.model + "/refs.jsonl");
  auto refs = read_refs(c.model);
  for (auto dtype : {torch::kBFloat16, torch::kFloat16}) {
    const auto device = dtype == torch::kFloat16 ? torch::Device(torch::kCUDA) : torch::kCPU;
    if (device.is_cuda() && !torch::cuda::is_available()) {
      try {
        relmoe::Transformer::load(model_dir(c.model), dtype, torch::kCPU);
        ADD_FAILURE() << "f16 on CPU should be refused";
      } catch (const relmoe::Error& e) {
        EXPECT_NE(std::string(e.what()).find("f16"), std::string::npos);
      }
      continue;
    }
    auto model = relmoe::Transformer::load(model_dir(c.model), dtype, device);
    auto out = hidden(model, all_ids(refs)).cpu();
    ASSERT_EQ(out.scalar_type(), dtype);
    float worst = 0, scale = 0;
    for (std::size_t i = 0; i < refs.size(); ++i) {
      worst = std::max(worst, max_abs_diff(out[static_cast<long>(i)], refs[i].numpy_last_hidden));
      scale = std::max(scale, torch::tensor(refs[i].numpy_last_hidden).abs().max().item<float>());
    }
    std::cout << c.model << " " << c10::toString(dtype) << ": max |diff| " << worst
              << " (max |value| " << scale << ")\n";
    EXPECT_LT(worst, 0.05 * scale);
  }
}

// logit(yes) - logit(no) from the reference hidden state and two rows of the tied output
// matrix read straight from the checkpoint, with Gemma2's final softcap.
TEST_P(Parity, AnswerScoreFromTwoOutputRows) {
  const Case& c = GetParam();
  RELMOE_REQUIRE_SHARED("reference/models/" + c.model + "/refs.jsonl");
  auto refs = read_refs(c.model);
  auto model = relmoe::Transformer::load(model_dir(c.model), torch::kFloat32, torch::kCPU);
  auto head = relmoe::Checkpoint::open(model_dir(c.model))
                  .get("model.embed_tokens.weight", torch::kFloat64, torch::kCPU);
  const std::int64_t yes = 5, no = 9;
  const auto cap = model.config().final_logit_softcapping;
  torch::InferenceMode guard;
  auto out = model.forward(relmoe::make_batch(all_ids(refs), torch::kCPU),
                           {.answer_ids = std::array<std::int64_t, 2>{yes, no}});
  for (std::size_t i = 0; i < refs.size(); ++i) {
    auto h = torch::tensor(refs[i].numpy_last_hidden, torch::kFloat64);
    double l_yes = h.dot(head[yes]).item<double>(), l_no = h.dot(head[no]).item<double>();
    if (cap) {
      l_yes = *cap * std::tanh(l_yes / *cap);
      l_no = *cap * std::tanh(l_no / *cap);
    }
    EXPECT_NEAR(out.score[static_cast<long>(i)].item<float>(), l_yes - l_no, 1e-4) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Parity,
                         ::testing::Values(Case{"tiny-qwen2", 1e-4, 1e-4},
                                           Case{"tiny-llama", 1e-4, 1e-4},
                                           Case{"story-llama", 1e-4, 1e-4},
                                           Case{"tiny-gemma2", 1e-3, 1e-4}),
                         [](const auto& info) {
                           std::string name = info.param.model;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace

namespace {

// story-llama's "text" through its tokenizer (with BOS) gives the reference ids and hidden.
TEST(StoryLlama, TextThroughTokenizerGivesReferenceIdsAndHidden) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/refs.jsonl");
  auto refs = read_refs("story-llama");
  auto expert = relmoe::Expert::load(model_dir("story-llama"));
  ASSERT_NE(expert.tokenizer(), nullptr);
  std::vector<std::vector<relmoe::TokenId>> ids;
  for (const auto& r : refs) {
    ids.push_back(expert.tokenizer()->encode(r.text, true));
    EXPECT_EQ(ids.back(), r.ids) << r.text;
  }
  auto out = expert.hidden(ids);
  for (std::size_t i = 0; i < refs.size(); ++i)
    EXPECT_LE(max_abs_diff(out.last_hidden[static_cast<long>(i)], refs[i].last_hidden), 1e-4);
}

}  // namespace
