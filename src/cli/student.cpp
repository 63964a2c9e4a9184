// `relmoe student train | index | eval`: the ColBERT student distilled from a teacher's scores
// (docs/STUDENT.md).
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "eval/student_comparison.hpp"
#include "expert_training/spm_train.hpp"
#include "io/item_list.hpp"
#include "io/json_file.hpp"
#include "io/scored_pairs.hpp"
#include "runtime/compute.hpp"
#include "student/item_index.hpp"
#include "student/pair_scoring.hpp"
#include "student/student_trainer.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace relmoe::cli {
namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  StudentTrainOptions options;
  StudentConfig config;
  std::string pairs, teacher, base, arch = "bert", size = "tiny", tokenizer, train_tokenizer, out, teacher_name;
  PairInput input;
  bool labels = false, quiet = false, probabilities = false;
  int threads = 0;
};

fs::path student_tokenizer(const TrainArgs& a, const std::vector<Pair>& pairs) {
  if (!a.tokenizer.empty()) return a.tokenizer;
  if (a.train_tokenizer.empty()) fail("student train", "give --base, --tokenizer or --train-tokenizer");
  std::vector<std::string> sentences;
  for (const auto& p : pairs) sentences.push_back(p.query), sentences.push_back(p.item);
  const auto path = fs::path(a.out).concat(".tokenizer") / "tokenizer.model";
  if (!fs::exists(path))
    train_sentencepiece(sentences, parse_spm_spec(a.train_tokenizer), {"[PAD]", "[CLS]", "[SEP]", "[MASK]", "[Q]", "[D]"},
                        path);
  return path;
}

int run_train(TrainArgs& a) {
  set_threads(a.threads);
  if (a.labels == !a.teacher.empty()) fail("student train", "give exactly one of --teacher-scores and --labels");
  const auto pairs = a.input.read(a.pairs);
  std::unordered_map<std::string, double> teacher;
  if (!a.labels) teacher = read_teacher_scores(a.teacher, !a.probabilities);
  const auto groups = group_candidates(pairs, a.labels ? nullptr : &teacher, a.pairs);
  a.config.info["teacher"] = a.labels ? "labels" : (a.teacher_name.empty() ? a.teacher : a.teacher_name);
  a.config.info["pairs"] = a.pairs;
  auto initial = [&] {
    if (!a.base.empty()) return ColbertStudent::from_base(a.base, a.config, a.options.seed);
    return ColbertStudent::from_scratch(a.arch, a.size, student_tokenizer(a, pairs), a.config, a.options.seed);
  };
  a.options.out = a.out;
  a.options.progress = !a.quiet;
  const auto r = train_student(initial, groups, a.options);
  if (!r.finished) {
    spdlog::info("student: stopped after step {} (resume with the same command)", r.steps_done);
    return 0;
  }
  spdlog::info("student: {} groups ({} held out), {} steps{}, best dev loss {:.4f} at step {}, {:.1f} s -> {}",
               r.train_groups + r.dev_groups, r.dev_groups, r.steps_done, r.stopped_early ? " (early stop)" : "",
               r.best_dev_loss, r.best_step, r.seconds, a.out);
  return 0;
}

struct IndexArgs {
  std::string student, items, out;
  int batch = 64, threads = 0;
  std::int64_t commit_every = 4096;
  bool quiet = false;
};

int run_index(const IndexArgs& a) {
  set_threads(a.threads);
  const auto student = ColbertStudent::load(a.student);
  std::vector<std::pair<std::string, std::string>> items;
  for (auto& item : read_items(a.items)) items.emplace_back(std::move(item.id), std::move(item.text));
  const auto stats = build_item_index(student, ColbertStudent::fingerprint(a.student), items, a.out, a.batch,
                                      a.commit_every, !a.quiet);
  spdlog::info("index {}: {} items added, {} already there, {} in the file", a.out, stats.added, stats.skipped,
               stats.total);
  return 0;
}

struct EvalArgs {
  std::vector<std::string> students;
  std::string pairs, out;
  std::vector<int> ks{1, 3, 5, 10};
  PairInput input;
  int batch = 128, threads = 0, resamples = 1000;
  bool quiet = false;
};

int run_eval(const EvalArgs& a) {
  set_threads(a.threads);
  const auto pairs = a.input.read(a.pairs);
  std::vector<NamedScores> scored;
  ScoredPairs out_scores;
  for (const auto& p : pairs) {
    out_scores.ids.push_back(p.id);
    out_scores.markets.push_back(p.market);
    out_scores.labels.push_back(p.label.value_or(-1));
  }
  fs::create_directories(fs::path(a.out) / "scores");
  for (const auto& spec : a.students) {
    const auto eq = spec.find('=');
    const auto name = eq == std::string::npos ? fs::path(spec).filename().string() : spec.substr(0, eq);
    const auto dir = eq == std::string::npos ? spec : spec.substr(eq + 1);
    const auto student = ColbertStudent::load(dir);
    scored.push_back({name, student_scores(student, pairs, a.batch, !a.quiet)});
    out_scores.scores = scored.back().scores;
    write_scored_pairs(fs::path(a.out) / "scores" / (name + ".tsv"), out_scores);
  }
  const auto comparison = compare_students(pairs, scored, a.ks, a.resamples);
  write_json_file(fs::path(a.out) / "students.json", comparison);
  const auto table = student_table_markdown(comparison);
  write_text_file(fs::path(a.out) / "students.md", table);
  std::cout << table;
  return 0;
}

const Register command{{"student", "The ColBERT student: train from teacher scores, index items, evaluate", [](CLI::App& sub) {
  sub.require_subcommand(1);
  auto which = std::make_shared<std::function<int()>>();

  auto t = std::make_shared<TrainArgs>();
  auto* train = sub.add_subcommand("train", "Distil a teacher's scores (or the labels) into a ColBERT student");
  train->add_option("--pairs", t->pairs, "candidate pairs (query, market, item; id to join the teacher scores)")->required();
  train->add_option("--teacher-scores", t->teacher, "teacher scores per pair id (`relmoe score` / `relmoe eval --scores` output)");
  train->add_flag("--teacher-probabilities", t->probabilities,
                  "the teacher scores are probabilities (default: relevance logits, as relmoe writes them)");
  train->add_flag("--labels", t->labels, "train on the pairs' labels instead of a teacher");
  train->add_option("--teacher-name", t->teacher_name, "how student.json names the teacher");
  auto* base = train->add_option("--base", t->base, "start from this BERT / XLM-R checkpoint directory");
  train->add_option("--arch", t->arch, "encoder of a student from scratch: bert or xlm-roberta")->capture_default_str();
  train->add_option("--size", t->size, "tiny (2 layers x 128) or small (4 x 256)")->capture_default_str();
  train->add_option("--tokenizer", t->tokenizer, "tokenizer of a student from scratch (file or directory)")->excludes(base);
  train->add_option("--train-tokenizer", t->train_tokenizer, "or train one on the pairs: spm-unigram:V or spm-bpe:V")
      ->excludes(base);
  t->input.add(*train);
  train->add_option("--out", t->out, "student directory")->required();
  auto& o = t->options;
  train->add_option("--steps", o.steps, "training steps")->capture_default_str();
  train->add_option("--batch", o.queries_per_batch, "query groups per step")->capture_default_str();
  train->add_option("--group-size", o.group_size, "candidates per query group (n-way)")->capture_default_str();
  train->add_option("--lr", o.lr, "peak learning rate (AdamW)")->capture_default_str();
  train->add_option("--in-batch-weight", o.in_batch_weight, "weight of the in-batch negatives term")->capture_default_str();
  train->add_option("--pointwise-weight", o.pointwise_weight, "weight of the calibrated pointwise term")->capture_default_str();
  train->add_option("--dev-fraction", o.dev_fraction, "share of query groups held out for early stopping")->capture_default_str();
  train->add_option("--eval-every", o.eval_every, "steps between dev evaluations")->capture_default_str();
  train->add_option("--patience", o.patience, "evaluations without improvement before stopping")->capture_default_str();
  train->add_option("--checkpoint-every", o.checkpoint_every, "steps between resumable checkpoints")->capture_default_str();
  train->add_option("--query-tokens", t->config.query_tokens, "query length after [MASK] padding")->capture_default_str();
  train->add_option("--item-tokens", t->config.item_tokens, "longest item in tokens")->capture_default_str();
  train->add_option("--dim", t->config.dim, "token vector width")->capture_default_str();
  train->add_option("--seed", o.seed, "random seed")->capture_default_str();
  add_threads_option(*train, t->threads);
  train->add_flag("--quiet", t->quiet, "no progress bar");
  train->callback([which, t] { *which = [t] { return run_train(*t); }; });

  auto x = std::make_shared<IndexArgs>();
  auto* index = sub.add_subcommand("index", "Build or extend a memory-mapped index of item token vectors");
  index->add_option("--student", x->student, "student directory")->required();
  index->add_option("--items", x->items, "TSV with an item (or title) column, optionally id and market")->required();
  index->add_option("--out", x->out, "index directory (created, resumed or extended)")->required();
  index->add_option("--batch", x->batch, "items per forward")->capture_default_str();
  index->add_option("--commit-every", x->commit_every, "items between durable commits")->capture_default_str();
  add_threads_option(*index, x->threads);
  index->add_flag("--quiet", x->quiet, "no progress bar");
  index->callback([which, x] { *which = [x] { return run_index(*x); }; });

  auto e = std::make_shared<EvalArgs>();
  auto* eval = sub.add_subcommand("eval", "AUC and bad-ratio@K of students on labelled pairs (Table 3)");
  eval->add_option("--student", e->students, "NAME=DIR (repeat; differences are taken from the first)")->required();
  eval->add_option("--pairs", e->pairs, "labelled pairs")->required();
  e->input.add(*eval);
  eval->add_option("--out", e->out, "directory for students.json, students.md and scores/")->required();
  eval->add_option("--k", e->ks, "K of bad-ratio@K")->delimiter(',')->capture_default_str();
  eval->add_option("--batch", e->batch, "pairs per forward")->capture_default_str();
  eval->add_option("--resamples", e->resamples, "bootstrap resamples")->capture_default_str();
  add_threads_option(*eval, e->threads);
  eval->add_flag("--quiet", e->quiet, "no progress bar");
  eval->callback([which, e] { *which = [e] { return run_eval(*e); }; });

  return std::function<int()>([which] { return (*which)(); });
}}};

}  // namespace
}  // namespace relmoe::cli
