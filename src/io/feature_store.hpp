#pragma once
// Expert feature store: for every pair and expert the final-layer last-token hidden state
// (and optionally the expert's answer-token score), memory-mappable, indexed by pair id.
//
// A store is a directory:
//   manifest.json      {"format": "relmoe-features", "version": 1, "rows": R,
//                       "experts": [{"name", "width", "dtype": "f16"|"f32", "has_score",
//                                    "rows_complete", "dir", "cost_s_per_pair",
//                                    "prompt_tokens", "run_dtype"}]}
//   ids.txt            the R pair ids, one per line, in row order (unique)
//   <expert>.bin       row-major [R, width] little-endian f16 or f32 hidden states
//   <expert>.score.bin [R] f32 score = logit(yes) - logit(no) (only when has_score)
// Rows of an expert are written in order 0..R-1. The manifest is the only commit point: it is
// replaced atomically (temp + rename) after the data files are fsynced, so rows_complete never
// counts a row that is not on disk. Bytes beyond rows_complete (a killed writer's torn tail)
// are ignored by readers and truncated by a resuming writer.
#include "io/expert_record.hpp"

#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace relmoe {

// An expert's column: the expert (name, directory it was computed from, width) and how its rows
// are stored.
struct ExpertColumn : ExpertRecord {
  torch::ScalarType dtype = torch::kFloat16;  // kFloat16 or kFloat32
  bool has_score = false;
  std::int64_t rows_complete = 0;
};

class FeatureStoreWriter {
 public:
  // Creates `dir` for `ids`, or resumes the store already there: its ids must equal `ids`,
  // experts already present must match name, width, dtype and has_score (and the run dtype and
  // prompt limit, when both sides record them); new experts are added.
  // Each expert's files are cut back to its committed rows.
  FeatureStoreWriter(const std::filesystem::path& dir, const std::vector<std::string>& ids,
                     const std::vector<ExpertColumn>& experts);
  ~FeatureStoreWriter();
  FeatureStoreWriter(const FeatureStoreWriter&) = delete;
  FeatureStoreWriter& operator=(const FeatureStoreWriter&) = delete;

  std::int64_t rows() const { return static_cast<std::int64_t>(ids_.size()); }
  // Rows appended so far (committed or not) for `expert`: where the next append lands.
  std::int64_t next_row(const std::string& expert) const;
  std::int64_t committed_rows(const std::string& expert) const;

  // Appends the next hidden.size(0) rows of `expert`. hidden: [n, width], any float dtype
  // (converted to the column's dtype); scores: [n], required iff the column has scores.
  void append(const std::string& expert, const torch::Tensor& hidden,
              const torch::Tensor& scores = {});
  // Records the measured seconds per pair of `expert` (written with the next commit).
  void set_cost(const std::string& expert, double seconds_per_pair);
  // Makes everything appended so far durable: fsync data files, then replace the manifest.
  void commit();

 private:
  struct Column;
  Column& column(const std::string& expert);
  const Column& column(const std::string& expert) const;
  void write_manifest() const;

  std::filesystem::path dir_;
  std::vector<std::string> ids_;
  std::vector<std::unique_ptr<Column>> columns_;
};

class FeatureStore {
 public:
  // Maps every expert file; sizes are checked against the manifest (a short file is an error
  // naming it).
  static FeatureStore open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const;
  std::int64_t rows() const;
  const std::vector<std::string>& ids() const;
  const std::vector<ExpertColumn>& experts() const;
  // Index of expert `name`; throws naming the store and the experts it has.
  int expert_index(const std::string& name) const;
  std::optional<std::int64_t> find_row(const std::string& id) const;
  std::int64_t row(const std::string& id) const;  // throws when absent

  // Hidden states of `rows` (int64 indices) for expert `e`, as f32 [n, width].
  torch::Tensor hidden(int e, const torch::Tensor& rows) const;
  torch::Tensor hidden(int e, std::int64_t row) const;
  // Scores of `rows` as f32 [n]; throws when the expert has no score column.
  torch::Tensor scores(int e, const torch::Tensor& rows) const;
  // The committed rows of expert `e` in storage dtype, aliasing the mapping (no copy).
  torch::Tensor mapped(int e) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace relmoe
