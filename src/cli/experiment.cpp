// relmoe experiment: the quickstart flow on user data: pairs -> experts (trained here with the
// default recipes, optionally with existing tokenizers, or given as checkpoints; plus the
// built-in lexical expert) -> feature
// store -> MoE + baselines grid -> report.json + report.html. Resumable by stage.
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/train_options.hpp"

#include "base/error.hpp"
#include "flow/experiment_data.hpp"
#include "flow/run_flow.hpp"
#include "io/expert_base.hpp"
#include "models/open_expert.hpp"
#include "runtime/compute.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace relmoe::cli {
namespace {

struct ExperimentArgs {
  std::string train, dev, test, out;
  PairInput pairs;
  std::vector<std::string> corpus, experts, tokenizers;
  ExperimentData data;
  long expert_steps = 0, pretrain_steps = -1;
  int max_tokens = 0, resamples = 1000, tsne_points = 1000;
  bool lexical = true, student = true;
  long student_steps = 300;
  FinetuneOptions finetune;  // how --expert checkpoints that are not experts yet are fine-tuned
  ModelFlags flags;
  GridFlags grid;
};

// --tokenizer NAME=PATH: an existing tokenizer for the default expert NAME instead of training one.
void apply_tokenizers(std::vector<FlowExpert>& experts, const std::vector<std::string>& specs) {
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) fail("--tokenizer", "'" + spec + "' is not NAME=PATH");
    const auto name = spec.substr(0, eq);
    auto it = std::find_if(experts.begin(), experts.end(), [&](const auto& e) { return e.name == name; });
    if (it == experts.end()) fail("--tokenizer", "no default expert '" + name + "' (qwen2-tiny, llama-tiny, gemma2-small)");
    it->recipe->tokenizer = spec.substr(eq + 1);
    it->recipe->train_tokenizer.clear();
  }
}

std::vector<FlowExpert> experts_for(const ExperimentArgs& a, const RunLayout& layout) {
  std::vector<FlowExpert> experts;
  for (const auto& spec : a.experts) {
    FlowExpert e{parse_expert_record(spec), std::nullopt, std::nullopt};
    const bool pretrained = e.dir != kBuiltinLexical && expert_kind(e.dir) == ExpertKind::Decoder && !is_trained_expert(e.dir);
    if (a.finetune.max_pairs > 0 && pretrained) {
      e.finetune = a.finetune;
      e.finetune->base = e.dir;
      e.finetune->seed = a.flags.train.seed;
      e.finetune->progress = a.flags.train.progress;
    }
    experts.push_back(std::move(e));
  }
  if (!experts.empty()) {
    if (!a.tokenizers.empty()) fail("--tokenizer", "applies to experts trained here, not to --expert checkpoints");
    return experts;
  }
  experts = default_experts(layout, a.flags.train.seed);
  apply_tokenizers(experts, a.tokenizers);
  for (auto& e : experts) {
    if (a.expert_steps > 0) e.recipe->steps = a.expert_steps;
    if (a.pretrain_steps >= 0 && !e.recipe->pretrain_corpus.empty()) e.recipe->pretrain_steps = a.pretrain_steps;
    if (a.max_tokens > 0) e.recipe->max_tokens = a.max_tokens;
    e.recipe->progress = a.flags.train.progress;
  }
  return experts;
}

int run(ExperimentArgs& a) {
  set_threads(a.flags.threads);
  auto& d = a.data;
  d.train = a.train;
  d.dev = a.dev;
  d.test = a.test;
  d.corpus.assign(a.corpus.begin(), a.corpus.end());
  d.columns = a.pairs.mapping();
  d.format = a.pairs.pair_format();
  d.seed = a.flags.train.seed;
  FlowOptions flow;
  flow.out = a.out;
  flow.title = "relmoe experiment: " + std::filesystem::path(a.train).filename().string() + " → " +
               std::filesystem::path(a.test).filename().string();
  flow.source = a.train + (a.dev.empty() ? " (dev split off by query)" : " + " + a.dev) + " → " + a.test +
                (d.max_pairs > 0 ? ", at most " + std::to_string(d.max_pairs) + " pairs per split" : "");
  flow.prepare_data = [&](const RunLayout& layout) { prepare_experiment_data(d, layout); };
  flow.experts = experts_for(a, RunLayout{a.out});
  flow.lexical = a.lexical;
  if (a.student) flow.students->steps = a.student_steps;
  else flow.students.reset();
  flow.ablation = a.grid.resolve(a.flags, a.resamples);
  flow.report.tsne_points = a.tsne_points;
  flow.report.progress = flow.embed.progress = a.flags.train.progress;
  run_flow(flow);
  spdlog::info("experiment: done; report {}/report.html", a.out);
  return 0;
}

const Register command{{"experiment", "Run the quickstart flow (experts, feature store, MoE grid, report) on your own pairs",
  [](CLI::App& app) {
    auto a = std::make_shared<ExperimentArgs>();
    app.add_option("--train", a->train, "labelled training pairs (TSV/CSV/JSONL)")->required();
    app.add_option("--dev", a->dev, "labelled dev pairs (default: 10% of train's queries)");
    app.add_option("--test", a->test, "labelled test pairs (every AUC in the report)")->required();
    app.add_option("--corpus", a->corpus, "pre-training text: a TSV with a 'title' column or one text per line (repeatable)");
    app.add_option("--out", a->out, "run directory (resumed when it exists)")->required();
    app.add_option("--expert", a->experts,
                   "NAME=PATH: a checkpoint directory or GGUF file (repeatable; replaces the default experts); "
                   "pretrained ones are fine-tuned first (--finetune-pairs), experts are used as they are");
    a->finetune.max_pairs = 4000;
    app.add_option("--finetune-pairs", a->finetune.max_pairs,
                   "fine-tune each pretrained --expert with LoRA on a seeded per-market subsample of N train pairs "
                   "(0: use it frozen)")
        ->capture_default_str();
    app.add_option("--finetune-dev-pairs", a->finetune.dev_pairs, "dev pairs for the fine-tuning's early stopping")
        ->capture_default_str();
    app.add_option("--finetune-epochs", a->finetune.epochs, "passes over the fine-tuning pairs")->capture_default_str();
    app.add_option("--finetune-dtype", a->finetune.dtype, "fine-tuning compute dtype: f32 or bf16")->capture_default_str();
    app.add_option("--tokenizer", a->tokenizers,
                   "NAME=PATH: an existing tokenizer for default expert NAME (qwen2-tiny, llama-tiny, gemma2-small)");
    app.add_option("--expert-steps", a->expert_steps, "fine-tuning steps per trained expert (default: the recipe's)");
    app.add_option("--pretrain-steps", a->pretrain_steps, "pre-training steps of the experts that pre-train");
    app.add_option("--max-tokens", a->max_tokens, "longest expert prompt in tokens (default: the recipe's)");
    a->pairs.add(app);
    app.add_option("--max-pairs", a->data.max_pairs, "use a seeded random subset of at most N pairs per split");
    app.add_option("--dev-fraction", a->data.dev_fraction, "share of train queries split off as dev without --dev")
        ->capture_default_str();
    app.add_option("--resamples", a->resamples, "bootstrap resamples")->capture_default_str();
    app.add_option("--tsne-points", a->tsne_points, "test pairs in each t-SNE map")->capture_default_str();
    app.add_flag("!--no-lexical", a->lexical, "leave out the built-in lexical expert (fitted on --train)");
    app.add_flag("!--no-student", a->student, "skip the ColBERT students (Table 3)");
    app.add_option("--student-steps", a->student_steps, "training steps of each student")->capture_default_str();
    a->grid.add(app);
    a->flags.add(app, false);
    return [a] { return run(*a); };
  }}};

}  // namespace
}  // namespace relmoe::cli
