// `relmoe expert train`: a relevance expert, either a small qwen2/llama/gemma2 decoder trained from
// scratch, or (--base) a pretrained checkpoint fine-tuned with LoRA or in full.
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "expert_training/expert_trainer.hpp"
#include "expert_training/finetune_trainer.hpp"
#include "runtime/compute.hpp"

#include <spdlog/spdlog.h>

#include <optional>

namespace relmoe::cli {
namespace {

// The options both kinds of training read; unset ones keep each trainer's own default.
struct SharedArgs {
  std::string data, out;
  PairInput pairs;
  std::vector<std::string> markets;
  std::optional<int> batch, max_tokens;
  std::optional<double> lr;
  std::optional<long> checkpoint_every;
  std::uint64_t seed = 1;
  int threads = 0;
  bool quiet = false;
};

struct TrainArgs {
  SharedArgs shared;
  ExpertTrainOptions scratch;
  std::string tokenizer, pretrain;
  FinetuneOptions finetune;
  std::string base, dev;
};

double mean_tail(const std::vector<float>& v) {
  const std::size_t n = std::min<std::size_t>(50, v.size());
  double sum = 0;
  for (std::size_t i = v.size() - n; i < v.size(); ++i) sum += v[i];
  return n ? sum / static_cast<double>(n) : 0.0;
}

template <class Options>
void apply_shared(const SharedArgs& s, Options& o) {
  o.data = s.data;
  o.out = s.out;
  o.columns = s.pairs.mapping();
  o.format = s.pairs.pair_format();
  o.markets = s.markets;
  o.seed = s.seed;
  o.progress = !s.quiet;
  if (s.batch) o.batch_size = *s.batch;
  if (s.max_tokens) o.max_tokens = *s.max_tokens;
  if (s.lr) o.lr = *s.lr;
  if (s.checkpoint_every) o.checkpoint_every = *s.checkpoint_every;
}

int run_finetune(TrainArgs& a) {
  auto& o = a.finetune;
  apply_shared(a.shared, o);
  o.base = a.base;
  o.dev = a.dev;
  const auto r = finetune_expert(o);
  std::string aucs;
  for (const auto& [step, auc] : r.dev_aucs) aucs += fmt::format(" {}:{:.4f}", step, auc);
  if (!r.dev_aucs.empty())
    spdlog::info("dev AUC by step:{}; kept step {} ({:.4f}){}", aucs, r.best_step, r.best_dev_auc,
                 r.stopped_early ? ", stopped early" : "");
  if (!r.losses.empty())
    spdlog::info("fine-tuning: {} steps, loss {:.4f} -> {:.4f} (mean of last 50)", r.losses.size(), r.losses.front(),
                 mean_tail(r.losses));
  spdlog::info("wrote expert {} ({} of {} on {} pairs) in {:.1f} s{}", o.out.string(), o.full ? "full fine-tuning" : "LoRA",
               o.base.string(), r.train_pairs, r.seconds, r.resumed ? " (resumed)" : "");
  return 0;
}

int run_scratch(TrainArgs& a) {
  auto& o = a.scratch;
  apply_shared(a.shared, o);
  o.tokenizer = a.tokenizer;
  o.pretrain_corpus = a.pretrain;
  auto result = train_expert(o);
  if (!result.pretrain_losses.empty())
    spdlog::info("pre-training: {} steps, loss {:.4f} -> {:.4f} (mean of last 50)", result.pretrain_losses.size(),
                 result.pretrain_losses.front(), mean_tail(result.pretrain_losses));
  if (!result.losses.empty())
    spdlog::info("fine-tuning: {} steps, loss {:.4f} -> {:.4f} (mean of last 50)", result.losses.size(),
                 result.losses.front(), mean_tail(result.losses));
  spdlog::info("wrote expert {} ({}, {}) in {:.1f} s{}", o.out.string(), o.arch, o.size, result.seconds,
               result.resumed ? " (resumed)" : "");
  return 0;
}

void add_shared(CLI::App& t, SharedArgs& s) {
  t.add_option("--data", s.data, "Labelled pairs (TSV/CSV/JSONL)")->required();
  s.pairs.add(t);
  t.add_option("--markets", s.markets, "Train on these markets' pairs only (comma-separated; default all)")->delimiter(',');
  t.add_option("--out", s.out, "Output expert directory")->required();
  t.add_option("--batch", s.batch, "Sequences per step (from scratch: 32; fine-tuning: 8 per micro-batch)");
  t.add_option("--max-tokens", s.max_tokens, "Longest prompt in tokens (from scratch: 96; fine-tuning: 128)");
  t.add_option("--lr", s.lr, "Peak learning rate, AdamW (from scratch: 3e-3; LoRA: 2e-4; full: 2e-5)");
  t.add_option("--checkpoint-every", s.checkpoint_every, "Steps between resumable checkpoints (200; fine-tuning: 20)");
  t.add_option("--seed", s.seed, "Random seed")->capture_default_str();
  add_threads_option(t, s.threads);
  t.add_flag("--quiet", s.quiet, "No progress bar");
}

void add_scratch(CLI::App& t, TrainArgs& a, CLI::Option* base) {
  auto& o = a.scratch;
  auto scratch_only = [&](CLI::Option* opt) { opt->excludes(base); };
  scratch_only(t.add_option("--arch", o.arch, "From scratch: qwen2, llama or gemma2")->capture_default_str());
  scratch_only(t.add_option("--size", o.size, "From scratch: tiny (hidden 128, 2 layers) or small (hidden 256, 4 layers)")
                   ->capture_default_str());
  auto* tok = t.add_option("--tokenizer", a.tokenizer, "From scratch: an existing tokenizer (tokenizer.json/.model or a directory)");
  scratch_only(tok);
  scratch_only(t.add_option("--train-tokenizer", o.train_tokenizer,
                            "From scratch: train a SentencePiece tokenizer, spm-bpe:V or spm-unigram:V")
                   ->excludes(tok));
  scratch_only(t.add_option("--pretrain", a.pretrain, "From scratch: text corpus (one text per line) for next-token pre-training"));
  scratch_only(t.add_option("--pretrain-steps", o.pretrain_steps, "From scratch: pre-training steps")->capture_default_str());
  scratch_only(t.add_option("--steps", o.steps, "From scratch: fine-tuning steps")->capture_default_str());
}

void add_finetune(CLI::App& t, TrainArgs& a, CLI::Option* base) {
  auto& o = a.finetune;
  auto needs_base = [&](CLI::Option* opt) { opt->needs(base); };
  needs_base(t.add_option("--dev", a.dev, "Labelled dev pairs: early stopping on their AUC"));
  needs_base(t.add_option("--max-pairs", o.max_pairs, "A seeded subsample of at most N training pairs, each market its share (0: all)")
                 ->capture_default_str());
  needs_base(t.add_option("--dev-pairs", o.dev_pairs, "The same for --dev")->capture_default_str());
  needs_base(t.add_flag("--full", o.full, "Fine-tune every weight instead of a LoRA adapter"));
  needs_base(t.add_option("--lora-rank", o.lora.rank, "LoRA rank r")->capture_default_str());
  needs_base(t.add_option("--lora-alpha", o.lora.alpha, "LoRA alpha (scale alpha / r, or alpha / sqrt(r) with --rslora)")
                 ->capture_default_str());
  needs_base(t.add_option("--lora-targets", o.lora.targets, "Projections to adapt (default all: q_proj,...,down_proj)")
                 ->delimiter(','));
  needs_base(t.add_flag("--rslora", o.lora.rslora, "Rank-stabilised LoRA (the paper's RSLoRA)"));
  needs_base(t.add_option("--epochs", o.epochs, "Passes over the training pairs")->capture_default_str());
  needs_base(t.add_option("--grad-accum", o.grad_accum, "Micro-batches per optimizer step")->capture_default_str());
  needs_base(t.add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str());
  needs_base(t.add_option("--dtype", o.dtype, "Compute dtype: f32 or bf16 (LoRA)")->capture_default_str());
  needs_base(t.add_flag("--gradient-checkpointing", o.checkpoint_layers,
                        "Keep one layer's activations at a time (less memory, about one more forward)"));
  needs_base(t.add_option("--eval-every", o.eval_every, "Steps between dev evaluations (0: four per run)")->capture_default_str());
  needs_base(t.add_option("--patience", o.patience, "Dev evaluations without progress before stopping")->capture_default_str());
  needs_base(t.add_flag("--merge", o.merge, "Also write the merged weights: OUT becomes a standalone checkpoint"));
}

const Register command{{"expert", "Train relevance experts: from scratch, or fine-tuned from a pretrained checkpoint", [](CLI::App& sub) {
  sub.require_subcommand(1);
  auto a = std::make_shared<TrainArgs>();
  auto* t = sub.add_subcommand("train", "Train a relevance expert: a small qwen2/llama/gemma2 from scratch, or fine-tune --base");
  auto* base = t->add_option("--base", a->base, "Fine-tune this pretrained checkpoint (a directory or a .gguf file)");
  add_shared(*t, a->shared);
  add_scratch(*t, *a, base);
  add_finetune(*t, *a, base);
  return std::function<int()>([a] {
    set_threads(a->shared.threads);
    return a->base.empty() ? run_scratch(*a) : run_finetune(*a);
  });
}}};

}  // namespace
}  // namespace relmoe::cli
