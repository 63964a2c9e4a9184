// The BERT and XLM-RoBERTa encoder forward against Hugging Face's last_hidden_state
// (../shared/reference/encoders/{tiny-bert,tiny-xlm-roberta}/refs.jsonl): float32 and float64
// references, one sequence at a time, all of them in one padded batch, and the reference's own
// padded batch (unmasked positions only).
#include "io/checkpoint.hpp"
#include "io/safetensors_writer.hpp"
#include "models/encoder.hpp"
#include "support.hpp"

#include <torch/utils.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Reference {
  std::vector<relmoe::Encoding> inputs;
  std::vector<torch::Tensor> f32, f64;  // [T, H] each
  json batch;                           // the padded-batch line
};

torch::Tensor tensor_of(const json& rows) {
  std::vector<torch::Tensor> out;
  for (const auto& row : rows) out.push_back(torch::tensor(row.get<std::vector<double>>(), torch::kFloat64));
  return torch::stack(out);
}

Reference read_reference(const fs::path& path) {
  Reference r;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto j = json::parse(line);
    if (j.contains("batch")) {
      r.batch = j;
      continue;
    }
    relmoe::Encoding e{j["ids"].get<std::vector<relmoe::TokenId>>(), {}};
    if (j.contains("token_type_ids")) e.type_ids = j["token_type_ids"].get<std::vector<std::int32_t>>();
    r.inputs.push_back(e);
    r.f32.push_back(tensor_of(j["last_hidden_state"]));
    r.f64.push_back(tensor_of(j["f64_last_hidden_state"]));
  }
  return r;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b).abs().max().item<double>();
}

class EncoderParity : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(EncoderParity, MatchesHuggingFaceAloneAndInAPaddedBatch) {
  const auto dir = fs::path("reference/encoders") / GetParam();
  RELMOE_REQUIRE_SHARED(dir / "refs.jsonl");
  const auto model_dir = relmoe::test::shared_dir() / dir;
  const auto encoder = relmoe::Encoder::load(model_dir, torch::kFloat32, torch::kCPU);
  const auto ref = read_reference(model_dir / "refs.jsonl");
  ASSERT_GE(ref.inputs.size(), 10u);
  ASSERT_TRUE(ref.batch.is_object());
  torch::InferenceMode guard;
  const auto pad = encoder.config().pad_token_id;
  double single32 = 0, single64 = 0, batched64 = 0;
  const auto all = encoder.forward(relmoe::make_encoder_batch(ref.inputs, pad, torch::kCPU));
  for (std::size_t i = 0; i < ref.inputs.size(); ++i) {
    const auto one = encoder.forward(relmoe::make_encoder_batch({ref.inputs[i]}, pad, torch::kCPU))[0];
    single32 = std::max(single32, max_diff(one, ref.f32[i]));
    single64 = std::max(single64, max_diff(one, ref.f64[i]));
    const auto length = static_cast<std::int64_t>(ref.inputs[i].ids.size());
    batched64 = std::max(batched64, max_diff(all[static_cast<std::int64_t>(i)].narrow(0, 0, length), ref.f64[i]));
  }
  EXPECT_LE(single32, 1e-4) << GetParam();
  EXPECT_LE(single64, 1e-5) << GetParam();
  EXPECT_LE(batched64, 1e-5) << GetParam();

  // The reference's own right-padded batch: compare where attention_mask is 1.
  std::vector<relmoe::Encoding> rows;
  const auto masks = ref.batch["attention_mask"];
  for (std::size_t b = 0; b < masks.size(); ++b) {
    relmoe::Encoding e;
    for (std::size_t t = 0; t < masks[b].size(); ++t)
      if (masks[b][t].get<int>() == 1) e.ids.push_back(ref.batch["ids"][b][t].get<relmoe::TokenId>());
    rows.push_back(e);
  }
  const auto out = encoder.forward(relmoe::make_encoder_batch(rows, pad, torch::kCPU));
  double padded64 = 0;
  for (std::size_t b = 0; b < rows.size(); ++b) {
    const auto length = static_cast<std::int64_t>(rows[b].ids.size());
    const auto want = tensor_of(ref.batch["f64_last_hidden_state"][b]).narrow(0, 0, length);
    padded64 = std::max(padded64, max_diff(out[static_cast<std::int64_t>(b)].narrow(0, 0, length), want));
  }
  EXPECT_LE(padded64, 1e-5) << GetParam();
  std::cout << "[ measured ] " << GetParam() << ": max |diff| single vs f32 " << single32 << ", vs f64 " << single64
            << ", in one padded batch vs f64 " << batched64 << ", reference batch vs f64 " << padded64 << "\n";
}

INSTANTIATE_TEST_SUITE_P(Encoders, EncoderParity, ::testing::Values("tiny-bert", "tiny-xlm-roberta"));

TEST(EncoderLoad, TaskHeadPrefixesAndPoolerAreHandledAndLiesAreErrors) {
  RELMOE_REQUIRE_SHARED("reference/encoders/tiny-bert/config.json");
  const auto dir = relmoe::test::scratch_dir() / "encoder_config_lie";
  fs::remove_all(dir);
  fs::copy(relmoe::test::shared_dir() / "reference/encoders/tiny-bert", dir);
  auto config = json::parse(std::ifstream(dir / "config.json"));
  config["num_hidden_layers"] = 1;
  std::ofstream(dir / "config.json") << config.dump();
  try {
    relmoe::Encoder::load(dir, torch::kFloat32, torch::kCPU);
    ADD_FAILURE() << "a 2-layer checkpoint loaded as 1 layer";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("not used by the config.json model (bert, 1 layers): encoder.layer.1."),
              std::string::npos)
        << e.what();
  }
  config["num_hidden_layers"] = 2;
  std::ofstream(dir / "config.json", std::ios::trunc) << config.dump();

  // The same weights as a task-head checkpoint: under "bert.", with a pooler and an MLM bias.
  const auto original = relmoe::Checkpoint::open(dir);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& name : original.stored_names())
    tensors.emplace_back("bert." + name, original.get(name, torch::kFloat32, torch::kCPU).contiguous());
  tensors.emplace_back("bert.pooler.dense.weight", torch::ones({64, 64}));
  tensors.emplace_back("cls.predictions.bias", torch::ones({8000}));
  std::vector<relmoe::SafetensorsEntry> entries;
  for (const auto& [name, t] : tensors) entries.push_back({name, "F32", t.sizes().vec()});
  const auto nested = relmoe::test::scratch_dir() / "encoder_nested";
  fs::remove_all(nested);
  fs::create_directories(nested);
  fs::copy_file(dir / "config.json", nested / "config.json");
  {
    relmoe::SafetensorsWriter writer(nested / "model.safetensors", entries, {{"format", "pt"}});
    for (const auto& [name, t] : tensors) writer.write(t.data_ptr(), t.numel() * t.element_size());
    writer.finish();
  }
  torch::InferenceMode guard;
  const relmoe::Encoding input{{2, 69, 6040, 2609, 3}, {}};
  const auto plain = relmoe::Encoder::load(dir, torch::kFloat32, torch::kCPU);
  const auto headed = relmoe::Encoder::load(nested, torch::kFloat32, torch::kCPU);
  EXPECT_TRUE(torch::equal(plain.forward(relmoe::make_encoder_batch({input}, 0, torch::kCPU)),
                           headed.forward(relmoe::make_encoder_batch({input}, 0, torch::kCPU))));

  config["layer_norm_eps"] = 0;
  std::ofstream(dir / "config.json", std::ios::trunc) << config.dump();
  try {
    relmoe::Encoder::load(dir, torch::kFloat32, torch::kCPU);
    ADD_FAILURE() << "layer_norm_eps 0 accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("field 'layer_norm_eps' must be a positive number"), std::string::npos) << e.what();
  }
}

TEST(EncoderCli, HiddenPrintsEveryTokenAndTokenizePrintsTypeIds) {
  RELMOE_REQUIRE_SHARED("reference/encoders/tiny-bert/refs.jsonl");
  const auto model = relmoe::test::shared_dir() / "reference/encoders/tiny-bert";
  const auto ref = read_reference(model / "refs.jsonl");
  const auto dir = relmoe::test::scratch_dir();
  std::ofstream(dir / "encoder_in.jsonl") << json{{"ids", ref.inputs[0].ids}}.dump() << "\n"
                                          << json{{"text", "central air units"}, {"pair", "exterior screws"}}.dump() << "\n";
  // --batch 1: each line alone, so equal ids give equal bits by construction (rows of one batch
  // may round differently by their position in it on some CPUs' kernels).
  const auto hidden = relmoe::test::run_command(relmoe::test::binary().string() + " hidden --batch 1 --threads 1 --model " +
                                                model.string() + " < " + (dir / "encoder_in.jsonl").string() + " 2>/dev/null");
  ASSERT_EQ(hidden.status, 0) << hidden.output;
  std::istringstream lines(hidden.output);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  const auto got = tensor_of(json::parse(first)["hidden"]);
  EXPECT_LE((got - ref.f64[0]).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(json::parse(second)["hidden"].size(), 11u);  // [CLS] 6 pieces [SEP] 2 pieces [SEP]

  const auto tokenized = relmoe::test::run_command(
      "echo '" + json{{"text", "central air units"}, {"pair", "exterior screws"}}.dump() + "' | " +
      relmoe::test::binary().string() + " tokenize --add-special --tokenizer " + model.string());
  ASSERT_EQ(tokenized.status, 0) << tokenized.output;
  const auto line = json::parse(tokenized.output);
  EXPECT_EQ(line["ids"], json::parse("[2, 69, 6040, 2609, 3070, 2718, 4072, 3, 3848, 6900, 3]"));
  EXPECT_EQ(line["type_ids"], json::parse("[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]"));
}

TEST(EncoderCli, ALongPairLosesTheMiddleOfItsIdsAndTypeIdsAlike) {
  RELMOE_REQUIRE_SHARED("reference/encoders/tiny-bert/tokenizer.json");
  const auto model = relmoe::test::shared_dir() / "reference/encoders/tiny-bert";
  std::string item;
  for (int i = 0; i < 60; ++i) item += "exterior screws ";
  const json pair = {{"text", item}, {"pair", "central air units"}};  // the cut falls in the first text
  const auto tokenized = relmoe::test::run_command("echo '" + pair.dump() + "' | " + relmoe::test::binary().string() +
                                                   " tokenize --add-special --tokenizer " + model.string());
  ASSERT_EQ(tokenized.status, 0) << tokenized.output;
  const auto full = json::parse(tokenized.output);
  ASSERT_GT(full["ids"].size(), 128u);  // tiny-bert has 128 positions
  json ids = json::array(), types = json::array();
  for (std::size_t i = 0; i < full["ids"].size(); ++i)
    if (i < 120 || i >= full["ids"].size() - 8) {
      ids.push_back(full["ids"][i]);
      types.push_back(full["type_ids"][i]);
    }
  const auto dir = relmoe::test::scratch_dir();
  std::ofstream(dir / "long_pair.jsonl") << pair.dump() << "\n" << json{{"ids", ids}, {"type_ids", types}}.dump() << "\n";
  // --batch 1: each line alone, so equal ids give equal bits by construction (rows of one batch
  // may round differently by their position in it on some CPUs' kernels).
  const auto hidden = relmoe::test::run_command(relmoe::test::binary().string() + " hidden --batch 1 --threads 1 --model " +
                                                model.string() + " < " + (dir / "long_pair.jsonl").string() + " 2>/dev/null");
  ASSERT_EQ(hidden.status, 0) << hidden.output;
  std::istringstream lines(hidden.output);
  std::string cut, explicit_cut;
  std::getline(lines, cut);
  std::getline(lines, explicit_cut);
  EXPECT_EQ(json::parse(cut)["hidden"].size(), 128u);
  EXPECT_EQ(cut, explicit_cut);
}
