// `relmoe distill-data`: candidates for the student's teacher labels (each query's own pairs,
// trigram-mined items, random in-market items) and, with --model, the teacher's scores for them
// through the offline scorer (resumable: run the same command again; shardable with --shard, the
// shards joined by `relmoe merge` into teacher.tsv).
#include "base/error.hpp"
#include "base/hash.hpp"
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "io/item_list.hpp"
#include "io/json_file.hpp"
#include "io/pair_writer.hpp"
#include "pipeline/score_output.hpp"
#include "pipeline/scorer.hpp"
#include "pipeline/shard.hpp"
#include "runtime/compute.hpp"
#include "student/candidate_mining.hpp"
#include "text/read_file.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

namespace relmoe::cli {
namespace {

namespace fs = std::filesystem;

struct DistillArgs {
  std::string queries, model, out, shard;
  std::vector<std::string> items;
  MiningOptions mining;
  PairInput input;
  int threads = 0;
  bool quiet = false;
};

// What the candidates are built from: the input files' bytes and the options that shape them.
std::string inputs_fingerprint(const DistillArgs& a) {
  std::uint64_t h = hash64(read_file(a.queries));
  for (const auto& file : a.items) h = hash64(read_file(file), h);
  const auto options = a.input.columns + "|" + a.input.format + "|" + std::to_string(a.mining.mined) + "|" +
                       std::to_string(a.mining.random) + "|" + std::to_string(a.mining.seed);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash64(options, h)));
  return hex;
}

int run_distill(DistillArgs a) {
  set_threads(a.threads);
  const fs::path out(a.out);
  const auto candidates = out / "candidates.tsv", record = out / "candidates.json";
  a.mining.run = inputs_fingerprint(a).substr(0, 8);
  if (fs::exists(candidates)) {
    // A candidates.tsv is reused only for the inputs it was built from (teacher.tsv resumes on it).
    const auto kept = read_json_file_or_null(record);
    const auto kept_run = kept.is_object() && kept.contains("run") && kept["run"].is_string()
                              ? kept["run"].get<std::string>() : std::string("(none recorded)");
    if (kept_run != a.mining.run)
      fail(candidates.string(), "was built from other inputs (run " + kept_run + ", these inputs are run " +
                                    a.mining.run + "); give another --out, or delete it to rebuild");
  }
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
    write_json_file(record, {{"format", "relmoe-candidates"}, {"version", 1}, {"run", a.mining.run},
                             {"queries", a.queries}, {"items", a.items}, {"mined", a.mining.mined},
                             {"random", a.mining.random}, {"seed", a.mining.seed}});
    write_pairs(candidates, pairs);  // last: candidates.tsv existing means the record is there
    spdlog::info("distill-data: {} candidate pairs ({} from the queries file, {} mined) -> {}", pairs.size(),
                 queries.size(), pairs.size() - queries.size(), candidates.string());
  } else {
    spdlog::info("distill-data: {} exists; keeping it", candidates.string());
  }
  if (a.model.empty()) return 0;
  ScoreJob job;
  job.model = a.model;
  job.input = candidates;
  ScoreOptions o;
  o.shard = parse_shard(a.shard);
  job.output = shard_output_path(out / "teacher.tsv", o.shard);
  o.threads = a.threads;
  o.progress = !a.quiet;
  o.resume = fs::exists(manifest_path(job.output));
  const auto stats = score_pairs(job, o);
  if (!stats.already_finished) std::cerr << stats.summary();
  spdlog::info("distill-data: teacher scores in {}", job.output.string());
  if (o.shard.count > 1)
    spdlog::info("distill-data: when every shard is done: relmoe merge {}/teacher.shard-*-of-{}.tsv --output {}",
                 out.string(), o.shard.count, (out / "teacher.tsv").string());
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
    app.add_option("--shard", a->shard, "I/N: score only this shard of the candidates (teacher.shard-I-of-N.tsv), or auto");
    add_threads_option(app, a->threads);
    app.add_flag("--quiet", a->quiet, "no progress bar");
    return [a] { return run_distill(*a); };
  }}};

}  // namespace
}  // namespace relmoe::cli
