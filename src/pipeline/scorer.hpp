#pragma once
// Offline batch scoring with a trained MoE (`relmoe score`, docs/PIPELINE.md): pairs streamed
// in chunks; per chunk the router runs on every pair first (bulk routing), each expert gets a
// queue of only the pairs routed to it, cut into length-sorted micro-batches under a token
// budget; expert lanes run concurrently (or one after another in serial mode); late fusion
// joins the hidden states per pair and the chunk's scores are committed in input order.
// Resumable after a kill at any point, shardable by id hash, with an optional cache.
#include "io/pair_reader.hpp"
#include "pipeline/bucketing.hpp"
#include "io/expert_record.hpp"
#include "pipeline/lanes.hpp"
#include "pipeline/shard.hpp"

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

enum class LaneMode { parallel, serial };
LaneMode parse_lane_mode(const std::string& s);

struct ScoreJob {
  std::filesystem::path model;          // MoE model directory (`relmoe train --out`)
  std::vector<ExpertRecord> expert_dirs;  // overrides of the model's experts.json
  std::filesystem::path input;
  ColumnMapping columns;
  PairFormat format = PairFormat::Auto;
  std::filesystem::path output;  // this shard's output file
};

struct ScoreOptions {
  LaneMode mode = LaneMode::parallel;
  BatchPlanOptions batching;
  std::int64_t chunk = 2048;  // pairs per committed chunk
  int in_flight = 2;          // chunks between reading and committing (parallel mode)
  int threads = 0;            // CPU threads in all (0: all cores)
  // Every expert's run dtype; unset: the dtype `relmoe embed` ran each in, as the model's
  // experts.json records it (f32 where nothing is recorded). Prompts are always cut as embed
  // cut them; `batching` only batches.
  std::optional<torch::ScalarType> run_dtype;
  torch::ScalarType feature_dtype = torch::kFloat16;
  std::vector<torch::Device> devices{torch::kCPU};  // lane e runs on devices[e % size]
  std::filesystem::path cache;
  bool skip_bad = false;
  bool resume = false;
  bool restart = false;               // discard an earlier run's files at the output and start over
  bool allow_unused_tensors = false;  // load expert checkpoints holding tensors their config does not use
  // Decoder experts' weights drawn at random (seed + expert index) instead of read: QPS of real
  // shapes from their config.json alone (ExpertOptions::random_weights_seed; bench_pipeline).
  std::optional<std::uint64_t> random_weights_seed;
  bool with_experts = false;  // add the selected experts as a third column
  std::optional<double> budget;  // overrides the model's mean expert cost budget (hard routing)
  // Every pair scored on its own (one sequence per expert batch, router and fusion per pair),
  // so its score is bit-identical whatever shard, chunk, batch, resume point, token budget or
  // thread count it lands in (docs/PIPELINE.md, "Scores across shards and resumes").
  bool batch_invariant = false;
  bool progress = true;
  Shard shard;
};

struct ScoreStats {
  std::int64_t pairs = 0, rejected = 0, chunks = 0;
  double wall_s = 0, read_s = 0, route_s = 0, fuse_s = 0, commit_s = 0;
  int lane_threads = 0;
  std::vector<std::string> experts;
  std::vector<LaneStats> lanes;
  bool already_finished = false;

  double pairs_per_s() const { return wall_s > 0 ? static_cast<double>(pairs) / wall_s : 0.0; }
  double tokens_per_s() const;  // real (unpadded) tokens the experts ran
  PaddingStats padding() const;
  nlohmann::json to_json() const;
  std::string summary() const;  // a few lines for the terminal
};

// The model's experts as its experts.json records them (directory, how embed ran them), with
// the directories of `overrides`; an expert left without a directory is an error naming it.
std::vector<ExpertRecord> resolve_experts(const std::filesystem::path& model_dir,
                                        const std::vector<std::string>& names,
                                        const std::vector<ExpertRecord>& overrides);

ScoreStats score_pairs(const ScoreJob& job, const ScoreOptions& options);

}  // namespace relmoe
