#pragma once
// `relmoe report --run DIR`: (re)renders DIR/report.html from DIR/report.json, adding t-SNE maps
// of the fused representations z of the run's hard-routed concat and weighted MoE models on a
// fixed sample of its test pairs (src/eval/tsne). Written atomically.
#include <cstdint>
#include <filesystem>

namespace relmoe {

struct RunReportOptions {
  int tsne_points = 1000;  // test pairs in each map
  std::uint64_t seed = 0;  // which test pairs
  bool progress = true;
};

void render_run_report(const std::filesystem::path& run, const RunReportOptions& options = {});

}  // namespace relmoe
