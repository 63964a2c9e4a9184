#include "expert_training/spm_train.hpp"

#include "expert_training/expert_recipe.hpp"
#include "expert_training/expert_trainer.hpp"
#include "io/checkpoint.hpp"
#include "models/token_batch.hpp"
#include "models/transformer.hpp"
#include "text/expert_text_config.hpp"

#include "base/error.hpp"
#include "synth/synth.hpp"
#include "support.hpp"
#include "text/tokenizer.hpp"

#include <fstream>
#include <sstream>

namespace {

std::vector<std::string> synth_sentences(std::size_t n) {
  relmoe::synth::Options o;
  o.pairs = n;
  o.seed = 2;
  return relmoe::synth::generate(o).corpus;
}

// Ids from SentencePiece's own `spm_encode` tool: the reference for relmoe's tokenizer.
std::vector<relmoe::TokenId> spm_encode(const std::filesystem::path& model, const std::string& text) {
  auto in = relmoe::test::scratch_dir() / "relmoe_spm_in.txt";
  auto out = relmoe::test::scratch_dir() / "relmoe_spm_out.txt";
  std::ofstream(in) << text << "\n";
  std::string cmd = "spm_encode --model=" + model.string() + " --output_format=id < " + in.string() + " > " +
                    out.string();
  if (std::system(cmd.c_str()) != 0) return {};
  std::ifstream result(out);
  std::vector<relmoe::TokenId> ids;
  for (relmoe::TokenId id; result >> id;) ids.push_back(id);
  return ids;
}

}  // namespace

TEST(SpmTrain, ParsesSpecs) {
  auto bpe = relmoe::parse_spm_spec("spm-bpe:2000");
  EXPECT_EQ(bpe.model_type, "bpe");
  EXPECT_EQ(bpe.vocab_size, 2000);
  EXPECT_EQ(relmoe::parse_spm_spec("spm-unigram:500").model_type, "unigram");
  for (const char* bad : {"spm-bpe", "spm-bpe:", "spm-bpe:12x", "bpe:1000", "spm-bpe:10"})
    EXPECT_THROW(relmoe::parse_spm_spec(bad), relmoe::Error) << bad;
}

TEST(SpmTrain, TrainsBpeAndUnigramWithSingleAnswerTokens) {
  if (std::system("spm_encode --help > /dev/null 2>&1") != 0) GTEST_SKIP() << "spm_encode not installed";
  auto sentences = synth_sentences(3000);
  auto path = relmoe::test::scratch_dir() / "relmoe_spm_test.model";
  relmoe::train_sentencepiece(sentences, relmoe::parse_spm_spec("spm-unigram:800"), {"▁yes", "▁no"}, path);
  EXPECT_EQ(spm_encode(path, " yes").size(), 1u);
  EXPECT_EQ(spm_encode(path, "no").size(), 1u);
  const auto unigram = relmoe::load_tokenizer(path);
  for (const std::string text : {"รองเท้าผ้าใบ เซนโต สีดำ", "query: x | relevant: yes", "ẞ€漢"})
    EXPECT_EQ(unigram->encode(text, false), spm_encode(path, text)) << text;

  relmoe::train_sentencepiece(sentences, relmoe::parse_spm_spec("spm-bpe:800"), {"▁yes", "▁no"}, path);
  auto tokenizer = relmoe::load_tokenizer(path);
  EXPECT_LE(tokenizer->vocab_size(), 800u);
  EXPECT_GT(tokenizer->vocab_size(), 300u);
  for (const char* answer : {" yes", " no"}) EXPECT_TRUE(tokenizer->single_token_id(answer)) << answer;
  EXPECT_EQ(tokenizer->single_token_id(" yes"), tokenizer->token_to_id("▁yes"));
  // Thai, Vietnamese and unseen characters (byte fallback) as the reference tool encodes them.
  for (const std::string text : {"รองเท้าผ้าใบ เซนโต สีดำ", "giày thể thao Zento đen", "query: x | relevant: yes",
                                 "ẞ€漢"}) {
    auto expected = spm_encode(path, text);
    ASSERT_FALSE(expected.empty()) << text;
    EXPECT_EQ(tokenizer->encode(text, false), expected) << text;
  }
}

TEST(SpmTrain, ReportsAMissingTool) {
  setenv("RELMOE_SPM_TRAIN", "/nonexistent/spm_train", 1);
  auto path = relmoe::test::scratch_dir() / "relmoe_spm_missing.model";
  try {
    relmoe::train_sentencepiece({"a b c"}, relmoe::parse_spm_spec("spm-bpe:600"), {}, path);
    ADD_FAILURE() << "no error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run '/nonexistent/spm_train'"), std::string::npos) << e.what();
  }
  unsetenv("RELMOE_SPM_TRAIN");
}

namespace {

struct TinyRun {
  std::filesystem::path dir, train, corpus;
};

// 600 synthetic pairs and a small corpus in a fresh directory.
TinyRun tiny_data(const std::string& name) {
  TinyRun run;
  run.dir = relmoe::test::scratch_dir() / name;
  std::filesystem::remove_all(run.dir);
  relmoe::synth::Options o;
  o.pairs = 600;
  o.seed = 8;
  o.corpus_lines = 2000;
  relmoe::synth::write_dataset(relmoe::synth::generate(o), run.dir / "data");
  run.train = run.dir / "data/train.tsv";
  run.corpus = run.dir / "data/corpus.txt";
  return run;
}

relmoe::ExpertTrainOptions tiny_options(const TinyRun& run, const std::string& arch) {
  relmoe::ExpertTrainOptions o;
  o.arch = arch;
  o.train_tokenizer = "spm-bpe:600";
  o.data = run.train;
  o.out = run.dir / ("expert-" + arch);
  o.pretrain_steps = 0;
  o.steps = 30;
  o.batch_size = 8;
  o.max_tokens = 64;
  o.progress = false;
  return o;
}

double mean(const std::vector<float>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

}  // namespace

TEST(ExpertTrain, LossDecreasesAndSavedExpertMatchesInMemoryModel) {
  auto run = tiny_data("relmoe_expert_train");
  for (const std::string arch : {"qwen2", "llama", "gemma2"}) {
    auto o = tiny_options(run, arch);
    if (arch == "qwen2") {
      o.pretrain_corpus = run.corpus;
      o.pretrain_steps = 30;
      o.steps = 60;
    }
    auto result = relmoe::train_expert(o);
    ASSERT_TRUE(result.finished) << arch;
    if (arch == "qwen2") {
      ASSERT_EQ(result.pretrain_losses.size(), 30u);
      EXPECT_LT(mean(result.pretrain_losses, 20, 30), mean(result.pretrain_losses, 0, 10));
      ASSERT_EQ(result.losses.size(), 60u);
      // Below chance (ln 2) by the end; whether it also falls within these 60 noisy steps
      // depends on the CPU's kernels (it does on 1.13 here, not on 2.11).
      EXPECT_LT(mean(result.losses, 40, 60), 0.69);
    }
    for (const char* file : {"config.json", "model.safetensors", "tokenizer.model", "relmoe.json"})
      EXPECT_TRUE(std::filesystem::exists(o.out / file)) << arch << " " << file;
    EXPECT_FALSE(std::filesystem::exists(o.out / ".train-state")) << arch;

    // The saved directory, loaded by the runtime, scores like the in-memory model.
    auto text = relmoe::load_expert_text_config(o.out);
    auto tokenizer = relmoe::load_tokenizer(o.out);
    auto answers = relmoe::resolve_answer_tokens(text.answers, *tokenizer);
    ASSERT_TRUE(answers) << arch;
    EXPECT_EQ(answers->yes, result.answer_ids[0]);
    auto pairs = relmoe::read_pairs(run.train);
    std::vector<std::vector<relmoe::TokenId>> seqs;
    for (std::size_t i = 0; i < 6; ++i)
      seqs.push_back(tokenizer->encode(
          text.prompt.render({pairs[i].query, pairs[i].market, pairs[i].item, pairs[i].item_desc}), true));
    auto batch = relmoe::make_batch(seqs, torch::kCPU, relmoe::Padding::Left);
    relmoe::ForwardOptions fo;
    fo.answer_ids = std::array<std::int64_t, 2>{answers->yes, answers->no};
    torch::NoGradGuard no_grad;
    auto loaded = relmoe::Transformer::load(o.out, torch::kFloat32, torch::kCPU);
    EXPECT_EQ(loaded.config().model_type, arch);
    auto a = loaded.forward(batch, fo), b = result.model->forward(batch, fo);
    EXPECT_TRUE(torch::allclose(a.last_hidden, b.last_hidden, 1e-5, 1e-5)) << arch;
    EXPECT_TRUE(torch::allclose(a.score, b.score, 1e-5, 1e-5)) << arch;
    EXPECT_GT(a.score.abs().max().item<float>(), 0.0f);
  }
}

TEST(ExpertTrain, ResumesFromCheckpointToTheSameWeights) {
  auto run = tiny_data("relmoe_expert_resume");
  auto whole = tiny_options(run, "llama");
  whole.checkpoint_every = 10;
  whole.out = run.dir / "whole";
  relmoe::train_expert(whole);

  auto parts = whole;
  parts.out = run.dir / "parts";
  parts.stop_after = 20;
  auto first = relmoe::train_expert(parts);
  EXPECT_FALSE(first.finished);
  EXPECT_FALSE(std::filesystem::exists(parts.out / "config.json"));  // nothing looks complete
  EXPECT_TRUE(std::filesystem::exists(parts.out / ".train-state/latest"));
  parts.stop_after = 0;
  auto rest = relmoe::train_expert(parts);
  EXPECT_TRUE(rest.resumed);
  EXPECT_TRUE(rest.finished);
  EXPECT_EQ(rest.losses.size(), 10u);

  auto a = relmoe::Checkpoint::open(whole.out), b = relmoe::Checkpoint::open(parts.out);
  ASSERT_EQ(a.names(), b.names());
  for (const auto& name : a.names())
    EXPECT_TRUE(torch::allclose(a.get(name, torch::kFloat32, torch::kCPU), b.get(name, torch::kFloat32, torch::kCPU),
                                1e-5, 1e-6))
        << name;

  // A state from other options is not silently continued.
  parts.stop_after = 10;
  relmoe::train_expert(parts);
  parts.stop_after = 0;
  parts.lr = 1e-3;
  EXPECT_THROW(relmoe::train_expert(parts), relmoe::Error);
}

TEST(ExpertTrain, RejectsBadOptions) {
  auto run = tiny_data("relmoe_expert_bad");
  auto o = tiny_options(run, "qwen2");
  o.tokenizer = "/some/tokenizer.json";
  EXPECT_THROW(relmoe::train_expert(o), relmoe::Error);  // both tokenizer options
  o = tiny_options(run, "mistral");
  EXPECT_THROW(relmoe::train_expert(o), relmoe::Error);
  o = tiny_options(run, "qwen2");
  o.markets = {"syn-en", "syn-xx"};
  try {
    relmoe::train_expert(o);
    ADD_FAILURE() << "a market without pairs was accepted";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--markets: no pairs of market 'syn-xx'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("syn-fil"), std::string::npos) << "lists the markets it has: " << e.what();
  }
}
