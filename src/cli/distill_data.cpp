// `relmoe distill-data`: candidates for the student's teacher labels (each query's own pairs,
// trigram-mined items, random in-market items) and, with --model, the teacher's scores for them
// through the offline scorer (resumable: run the same command again).
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "io/item_list.hpp"
#include "io/pair_writer.hpp"
#include "pipeline/score_output.hpp"
#include "pipeline/scorer.hpp"
#include "runtime/compute.hpp"
#include "student/candidate_mining.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace relmoe::cli {
namespace {

namespace fs = std::filesystem;

struct DistillArgs {
  std::string queries, model, out;
  std::vector<std::string> items;
  MiningOptions mining;
  PairInput input;
  int threads = 0;
  bool quiet = false;
};

int run_distill(const DistillArgs& a) {
  set_threads(a.threads);
  const fs::path out(a.out);
  const auto candidates = out / "candidates.tsv";
  if (!fs::exists(candidates)) {
    const auto queries = a.input.read(a.queries);
    std::vector<Item> items;
    for (const auto& file : a.items) {
      auto more = read_items(file);
      items.insert(items.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    if (items.empty()) fail("--items", "no items to mine candidates from");
    const auto pairs = mine_candidates(queries, items, a.mining);
    fs::create_directories(out);
    write_pairs(candidates, pairs);
    spdlog::info("distill-data: {} candidate pairs ({} from the queries file, {} mined) -> {}", pairs.size(),
                 queries.size(), pairs.size() - queries.size(), candidates.string());
  } else {
    spdlog::info("distill-data: {} exists; keeping it", candidates.string());
  }
  if (a.model.empty()) return 0;
  ScoreJob job;
  job.model = a.model;
  job.input = candidates;
  job.output = out / "teacher.tsv";
  ScoreOptions o;
  o.threads = a.threads;
  o.progress = !a.quiet;
  o.resume = fs::exists(manifest_path(job.output));
  const auto stats = score_pairs(job, o);
  if (!stats.already_finished) std::cerr << stats.summary();
  spdlog::info("distill-data: teacher scores in {}", job.output.string());
  return 0;
}

const Register command{{"distill-data", "Candidates per query (own, trigram-mined, random) and the teacher's scores for them",
  [](CLI::App& app) {
    auto a = std::make_shared<DistillArgs>();
    app.add_option("--queries", a->queries, "pairs whose queries get candidates (their own pairs are kept)")->required();
    a->input.add(app);
    app.add_option("--items", a->items, "item collections: TSV with an item or title column (repeat)")->required();
    app.add_option("--mined", a->mining.mined, "trigram-overlap candidates per query")->capture_default_str();
    app.add_option("--random", a->mining.random, "random in-market candidates per query")->capture_default_str();
    app.add_option("--seed", a->mining.seed, "seed of the random candidates")->capture_default_str();
    app.add_option("--model", a->model, "MoE (or single-expert) model directory: score the candidates with it");
    app.add_option("--out", a->out, "directory for candidates.tsv and teacher.tsv")->required();
    app.add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str();
    app.add_flag("--quiet", a->quiet, "no progress bar");
    return [a] { return run_distill(*a); };
  }}};

}  // namespace
}  // namespace relmoe::cli
