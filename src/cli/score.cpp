// relmoe score: offline batch scoring of a pairs file with a trained MoE (docs/PIPELINE.md).
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "pipeline/scorer.hpp"
#include "runtime/compute.hpp"

#include <iostream>
#include <optional>

namespace relmoe::cli {
namespace {

struct ScoreArgs {
  std::string model, input, output, shard, mode = "parallel", cache;
  PairInput pairs;
  std::string dtype, feature_dtype = "f16", device = "cpu";
  std::vector<std::string> experts;
  std::int64_t token_budget = 4096, max_batch = 256, chunk = 2048;
  int threads = 0, in_flight = 2;
  bool resume = false, restart = false, skip_bad = false, with_experts = false, no_bucketing = false, quiet = false;
  bool allow_unused = false, batch_invariant = false;
  std::optional<double> budget;
};

std::vector<torch::Device> parse_devices(const std::string& spec) {
  std::vector<torch::Device> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const auto comma = spec.find(',', start);
    out.push_back(parse_device(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run(const ScoreArgs& a) {
  set_threads(a.threads);
  ScoreJob job;
  job.model = a.model;
  for (const auto& e : a.experts) job.expert_dirs.push_back(parse_expert_record(e));
  job.input = a.input;
  job.columns = a.pairs.mapping();
  job.format = a.pairs.pair_format();
  ScoreOptions o;
  o.shard = parse_shard(a.shard);
  job.output = shard_output_path(a.output, o.shard);
  o.mode = parse_lane_mode(a.mode);
  o.batching = {a.token_budget, a.max_batch, !a.no_bucketing};
  check_batch_plan(o.batching);
  if (a.resume && a.restart) fail("--restart", "cannot be combined with --resume");
  o.chunk = a.chunk;
  o.in_flight = std::max(1, a.in_flight);
  o.threads = a.threads;
  if (!a.dtype.empty()) o.run_dtype = parse_dtype(a.dtype);
  o.feature_dtype = parse_dtype(a.feature_dtype);
  if (o.feature_dtype == torch::kBFloat16) fail("--feature-dtype", "must be f16 or f32");
  o.devices = parse_devices(a.device);
  o.cache = a.cache;
  o.resume = a.resume;
  o.restart = a.restart;
  o.allow_unused_tensors = a.allow_unused;
  o.skip_bad = a.skip_bad;
  o.with_experts = a.with_experts;
  o.budget = a.budget;
  o.batch_invariant = a.batch_invariant;
  o.progress = !a.quiet;
  if (o.shard.count > 1)
    std::cerr << "score: shard " << o.shard.index << " of " << o.shard.count << " -> " << job.output.string() << "\n";
  const auto stats = score_pairs(job, o);
  if (stats.already_finished) {
    std::cerr << "score: " << job.output.string() << " is already complete\n";
    return 0;
  }
  std::cerr << stats.summary();
  if (stats.rejected > 0)
    std::cerr << "score: " << stats.rejected << " rows rejected, listed with line numbers in "
              << job.output.string() << ".rejects\n";
  return 0;
}

const Register command{{"score", "Score a pairs file with a trained MoE: bulk routing, expert lanes, late fusion (resumable, shardable)",
  [](CLI::App& app) {
    auto a = std::make_shared<ScoreArgs>();
    app.add_option("--model", a->model, "MoE model directory from `relmoe train`")->required();
    app.add_option("--input", a->input, "pairs file (.tsv, .csv, .jsonl)")->required();
    app.add_option("--output", a->output, "scores TSV (id, score); sharded runs insert .shard-I-of-N")->required();
    app.add_option("--expert", a->experts, "NAME=DIR: where expert NAME lives (overrides the model's experts.json)");
    a->pairs.add(app);
    app.add_option("--shard", a->shard, "I/N, or auto (Open MPI rank, Slurm task or array index)");
    app.add_flag("--resume", a->resume, "continue an interrupted run from its last committed chunk");
    app.add_flag("--restart", a->restart, "discard an earlier run's output, manifest and rejects here and start over");
    app.add_flag("--allow-unused-tensors", a->allow_unused, "load expert checkpoints with tensors config.json does not use");
    app.add_option("--mode", a->mode, "parallel (expert lanes concurrently) or serial (one expert at a time)")
        ->capture_default_str();
    app.add_option("--budget", a->budget,
                   "hard routing: mean expert seconds per pair each chunk may spend (0: none; default: the model's)");
    app.add_option("--token-budget", a->token_budget,
                   "padded tokens per micro-batch (batching only: prompts are cut as `embed` cut them)")
        ->capture_default_str();
    app.add_option("--max-batch", a->max_batch, "sequences per micro-batch at most")->capture_default_str();
    app.add_flag("--batch-invariant", a->batch_invariant,
                 "score every pair on its own: bit-identical scores whatever the shard, chunk, resume point, "
                 "token budget or thread count (slower; docs/PIPELINE.md)");
    app.add_flag("--no-bucketing", a->no_bucketing, "batch in arrival order instead of by length (for comparison)");
    app.add_option("--chunk", a->chunk, "pairs per committed chunk")->capture_default_str();
    app.add_option("--in-flight", a->in_flight, "chunks in the pipeline at once (parallel mode)")->capture_default_str();
    add_threads_option(app, a->threads, "CPU threads in all, split between lanes");
    app.add_option("--device", a->device, "cpu, cuda, cuda:N, auto, or a comma list assigned to lanes in turn")
        ->capture_default_str();
    app.add_option("--dtype", a->dtype, "expert run dtype: f32, bf16, f16 (default: the dtype `embed` ran each in)");
    app.add_option("--feature-dtype", a->feature_dtype,
                   "round hidden states to this before fusion, as the feature store the model was trained on kept "
                   "them (f16 or f32)")
        ->capture_default_str();
    app.add_option("--cache", a->cache, "hidden-state cache directory (repeated prompts are not recomputed)");
    app.add_flag("--skip-bad", a->skip_bad, "skip malformed rows (listed in OUTPUT.rejects) instead of stopping");
    app.add_flag("--with-experts", a->with_experts, "add a column with the experts each pair was routed to");
    app.add_flag("--quiet", a->quiet, "no progress bar");
    return [a] { return run(*a); };
  }}};

}  // namespace
}  // namespace relmoe::cli
