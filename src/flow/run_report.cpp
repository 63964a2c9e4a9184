#include "flow/run_report.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "base/progress.hpp"
#include "base/rng.hpp"
#include "eval/report.hpp"
#include "eval/report_html.hpp"
#include "eval/tsne.hpp"
#include "io/feature_store.hpp"
#include "io/pair_reader.hpp"
#include "flow/ablation.hpp"
#include "moe/dataset.hpp"
#include "moe/model_io.hpp"
#include "flow/run_layout.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>
#include <optional>

namespace relmoe {

namespace {

namespace fs = std::filesystem;

// A fixed random subset of the test pairs, kept in file order.
std::vector<Pair> sample_pairs(const std::vector<Pair>& pairs, int count, std::uint64_t seed) {
  std::vector<std::size_t> index(pairs.size());
  std::iota(index.begin(), index.end(), 0);
  Rng rng(seed);
  rng.shuffle(index);
  index.resize(std::min(index.size(), static_cast<std::size_t>(std::max(count, 0))));
  std::sort(index.begin(), index.end());
  std::vector<Pair> out;
  for (auto i : index) out.push_back(pairs[i]);
  return out;
}

TsneMap map_of(const std::string& variant, const fs::path& model_dir, const FeatureStore& store,
               const std::vector<Pair>& pairs, const fs::path& source, const std::function<void(int)>& on_iteration) {
  auto model = load_model(model_dir);
  const auto set = make_pair_set(store, pairs, model->config, source.string(), true);
  std::vector<std::int64_t> positions(static_cast<std::size_t>(set.size()));
  std::iota(positions.begin(), positions.end(), 0);
  const auto z = fused_representations(model, store, set, positions);
  TsneOptions options;
  options.on_iteration = on_iteration;
  const auto embedded = tsne(z, options);
  TsneMap map{variant, {}, {}, {}, NAN};
  const auto y = embedded.y.contiguous();
  for (std::int64_t i = 0; i < set.size(); ++i) {
    map.x.push_back(y[i][0].item<double>());
    map.y.push_back(y[i][1].item<double>());
    map.labels.push_back(set.labels[static_cast<std::size_t>(i)] > 0.5f ? 1 : 0);
  }
  map.neighbour_agreement = neighbour_agreement(embedded.y, map.labels);
  return map;
}

}  // namespace

void render_run_report(const fs::path& run, const RunReportOptions& o) {
  const RunLayout layout{run};
  if (!fs::exists(layout.report_json()))
    fail(layout.report_json().string(), "not found: run `relmoe quickstart` or `relmoe experiment` into this directory first");
  const auto report = read_json_file(layout.report_json().string());
  std::vector<std::pair<std::string, fs::path>> models;
  for (const std::string variant : {"moe:hard:concat", "moe:hard:weighted"}) {
    const auto dir = layout.model(variant_dir_name(variant));
    if (fs::exists(dir / "config.json")) models.emplace_back(variant, dir);
  }
  std::vector<TsneMap> maps;
  if (!models.empty() && o.tsne_points >= 3) {
    const auto store = FeatureStore::open(layout.features());
    const auto pairs = sample_pairs(read_pairs(layout.test()), o.tsne_points, o.seed);
    const int iterations = TsneOptions{}.iterations;
    std::optional<Progress> bar;
    if (o.progress) bar.emplace("t-SNE", models.size() * static_cast<std::size_t>(iterations));
    for (std::size_t m = 0; m < models.size(); ++m) {
      auto on_iteration = [&, m](int it) {
        if (bar) bar->set(m * static_cast<std::size_t>(iterations) + static_cast<std::size_t>(it));
      };
      maps.push_back(map_of(models[m].first, models[m].second, store, pairs, layout.test(), on_iteration));
    }
  }
  write_text_file(layout.report_html().string(), render_report_html(report, maps));
  spdlog::info("report: wrote {}", layout.report_html().string());
}

}  // namespace relmoe
