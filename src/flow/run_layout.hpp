#pragma once
// Where a quickstart / experiment run keeps its artefacts (one directory, every stage resumable):
//   data/{train,dev,test}.tsv, data/corpus.txt   the run's pairs and pre-training text
//   data/manifest.json                           written last: the data stage is complete
//   experts/<name>/                              experts trained here (config.json = complete)
//   features/                                    the feature store (src/io/feature_store)
//   ablation/                                    the variant grid (src/flow/ablation)
//   run.json                                     stage times, expert throughput
//   report.json, report.html                     the report (src/eval/report_html)
#include <filesystem>

namespace relmoe {

struct RunLayout {
  std::filesystem::path root;

  std::filesystem::path data() const { return root / "data"; }
  std::filesystem::path train() const { return data() / "train.tsv"; }
  std::filesystem::path dev() const { return data() / "dev.tsv"; }
  std::filesystem::path test() const { return data() / "test.tsv"; }
  std::filesystem::path corpus() const { return data() / "corpus.txt"; }
  std::filesystem::path data_manifest() const { return data() / "manifest.json"; }
  std::filesystem::path experts() const { return root / "experts"; }
  std::filesystem::path features() const { return root / "features"; }
  std::filesystem::path ablation() const { return root / "ablation"; }
  std::filesystem::path model(const std::string& variant_dir) const { return ablation() / "models" / variant_dir; }
  std::filesystem::path run_json() const { return root / "run.json"; }
  std::filesystem::path report_json() const { return root / "report.json"; }
  std::filesystem::path report_html() const { return root / "report.html"; }
};

}  // namespace relmoe
