// `relmoe expert train`: a small qwen2/llama/gemma2 expert trained from scratch on relevance
// pairs, saved as a Hugging Face-format directory.
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "expert_training/expert_trainer.hpp"
#include "runtime/compute.hpp"

#include <spdlog/spdlog.h>

namespace relmoe::cli {
namespace {

struct TrainArgs {
  ExpertTrainOptions options;
  std::string tokenizer, pretrain, data, out;
  PairInput pairs;
  int threads = 0;
  bool quiet = false;
};

int run_train(TrainArgs& a) {
  set_threads(a.threads);
  auto& o = a.options;
  o.tokenizer = a.tokenizer;
  o.pretrain_corpus = a.pretrain;
  o.data = a.data;
  o.out = a.out;
  o.columns = a.pairs.mapping();
  o.format = a.pairs.pair_format();
  o.progress = !a.quiet;
  auto result = train_expert(o);
  auto mean_tail = [](const std::vector<float>& v) {
    std::size_t n = std::min<std::size_t>(50, v.size());
    double sum = 0;
    for (std::size_t i = v.size() - n; i < v.size(); ++i) sum += v[i];
    return n ? sum / static_cast<double>(n) : 0.0;
  };
  if (!result.pretrain_losses.empty())
    spdlog::info("pre-training: {} steps, loss {:.4f} -> {:.4f} (mean of last 50)", result.pretrain_losses.size(),
                 result.pretrain_losses.front(), mean_tail(result.pretrain_losses));
  if (!result.losses.empty())
    spdlog::info("fine-tuning: {} steps, loss {:.4f} -> {:.4f} (mean of last 50)", result.losses.size(),
                 result.losses.front(), mean_tail(result.losses));
  spdlog::info("wrote expert {} ({}, {}) in {:.1f} s{}", a.out, o.arch, o.size, result.seconds,
               result.resumed ? " (resumed)" : "");
  return 0;
}

const Register command{{"expert", "Train small decoder experts", [](CLI::App& sub) {
  sub.require_subcommand(1);
  auto a = std::make_shared<TrainArgs>();
  auto& o = a->options;
  auto* t = sub.add_subcommand("train", "Train a small qwen2/llama/gemma2 relevance expert from scratch");
  t->add_option("--arch", o.arch, "qwen2, llama or gemma2")->capture_default_str();
  t->add_option("--size", o.size, "tiny (hidden 128, 2 layers) or small (hidden 256, 4 layers)")
      ->capture_default_str();
  auto* tok = t->add_option("--tokenizer", a->tokenizer, "Existing tokenizer (tokenizer.json/.model or a directory)");
  t->add_option("--train-tokenizer", o.train_tokenizer, "Train a SentencePiece tokenizer: spm-bpe:V or spm-unigram:V")
      ->excludes(tok);
  t->add_option("--pretrain", a->pretrain, "Text corpus (one text per line) for next-token pre-training");
  t->add_option("--pretrain-steps", o.pretrain_steps, "Pre-training steps")->capture_default_str();
  t->add_option("--data", a->data, "Labelled pairs (TSV/CSV/JSONL)")->required();
  a->pairs.add(*t);
  t->add_option("--markets", o.markets, "Fine-tune on these markets' pairs only (comma-separated; default all)")
      ->delimiter(',');
  t->add_option("--out", a->out, "Output expert directory")->required();
  t->add_option("--steps", o.steps, "Fine-tuning steps")->capture_default_str();
  t->add_option("--batch", o.batch_size, "Sequences per step")->capture_default_str();
  t->add_option("--max-tokens", o.max_tokens, "Longest prompt in tokens")->capture_default_str();
  t->add_option("--lr", o.lr, "Peak learning rate (AdamW)")->capture_default_str();
  t->add_option("--checkpoint-every", o.checkpoint_every, "Steps between resumable checkpoints")
      ->capture_default_str();
  t->add_option("--seed", o.seed, "Random seed")->capture_default_str();
  add_threads_option(*t, a->threads);
  t->add_flag("--quiet", a->quiet, "No progress bar");
  return std::function<int()>([a] { return run_train(*a); });
}}};

}  // namespace
}  // namespace relmoe::cli
