#include "pipeline/merge.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"
#include "pipeline/chunk_reader.hpp"
#include "pipeline/score_output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

namespace relmoe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What makes shards parts of one job: the run description less the shard, and for
// batch-invariant runs less the batching settings, which cannot change their scores.
json scoring_job(json run) {
  run.erase("shard");
  auto& settings = run.at("settings");
  if (settings.value("batch_invariant", false))
    for (const char* batching : {"chunk", "token_budget", "max_batch", "sort_by_length"}) settings.erase(batching);
  return run;
}

// A shard's output or rejects file read line by line, one row ahead.
class RowFile {
 public:
  explicit RowFile(const fs::path& path) : in_(path) {
    if (!in_) fail(path.string(), "cannot open");
    std::getline(in_, header_);
    advance();
  }
  const std::optional<std::string>& peek() const { return row_; }
  // The first field of the next row ("" at end).
  std::string key() const { return row_ ? row_->substr(0, row_->find('\t')) : std::string(); }
  std::string take() {
    std::string r = *row_;
    advance();
    return r;
  }
  const std::string& header() const { return header_; }

 private:
  void advance() {
    std::string line;
    if (std::getline(in_, line)) row_ = std::move(line);
    else row_.reset();
  }
  std::ifstream in_;
  std::string header_;
  std::optional<std::string> row_;
};

struct ShardFiles {
  fs::path output;
  ScoreManifest manifest;
  std::unique_ptr<RowFile> rows, rejects;
  std::int64_t taken = 0;  // rows taken into the merged output
};

// A shard row as `relmoe score` writes it: the header's column count and a finite score.
const std::string& checked_row(ShardFiles& s, const std::string& row) {
  const auto columns = std::count(s.rows->header().begin(), s.rows->header().end(), '\t') + 1;
  const auto tab = row.find('\t');
  const auto end = row.find('\t', tab + 1);
  const std::string score = tab == std::string::npos ? "" : row.substr(tab + 1, end == std::string::npos ? end : end - tab - 1);
  char* stop = nullptr;
  const double value = std::strtod(score.c_str(), &stop);
  const bool number = !score.empty() && stop == score.c_str() + score.size() && std::isfinite(value);
  if (std::count(row.begin(), row.end(), '\t') + 1 != columns || !number)
    fail(s.output.string(), "row '" + row.substr(0, 80) + "' is not an id and a finite score (" +
                                std::to_string(columns) + " columns); the shard output was damaged");
  ++s.taken;
  return row;
}

ColumnMapping mapping_of(const json& j) {
  ColumnMapping m;
  for (const auto& [k, v] : j.items()) m[k] = v.get<std::string>();
  return m;
}


}  // namespace

MergeResult merge_shards(const std::vector<fs::path>& shard_paths, const fs::path& output, const fs::path& input) {
  if (shard_paths.empty()) fail("relmoe merge", "no shard outputs given");
  std::vector<ShardFiles> shards;
  for (const auto& p : shard_paths) {
    ShardFiles s{p, read_score_manifest(p), nullptr, nullptr};
    if (!s.manifest.finished) fail(p.string(), "this shard has not finished (run `relmoe score --resume` on it)");
    shards.push_back(std::move(s));
  }
  // Every shard of one job, each once.
  const json& run0 = shards[0].manifest.run;
  const int count = run0.at("shard").at(1).get<int>();
  std::vector<ShardFiles*> by_index(static_cast<std::size_t>(count), nullptr);
  for (auto& s : shards) {
    if (scoring_job(s.manifest.run) != scoring_job(run0))
      fail(s.output.string(), "comes from another scoring job than " + shards[0].output.string());
    const int index = s.manifest.run.at("shard").at(0).get<int>();
    if (s.manifest.run.at("shard").at(1).get<int>() != count || index < 0 || index >= count)
      fail(s.output.string(), "shard numbering differs from " + shards[0].output.string());
    if (by_index[index]) fail(s.output.string(), "shard " + std::to_string(index) + " is given twice");
    by_index[index] = &s;
  }
  for (int i = 0; i < count; ++i)
    if (!by_index[i]) fail("relmoe merge", "shard " + std::to_string(i) + " of " + std::to_string(count) + " is missing");
  for (auto& s : shards) {
    s.rows = std::make_unique<RowFile>(s.output);
    s.rejects = std::make_unique<RowFile>(rejects_path(s.output));
  }

  const fs::path in = input.empty() ? fs::path(run0.at("input").get<std::string>()) : input;
  if (fs::file_size(in) != run0.at("input_bytes").get<std::uintmax_t>())
    fail(in.string(), "is not the size it had when it was scored; the input changed");
  const auto& settings = run0.at("settings");
  PairStream stream(in, mapping_of(settings.at("columns")), parse_pair_format(settings.at("format").get<std::string>()));

  MergeResult result;
  AtomicWriter rows(output), rejects(rejects_path(output));
  rows.stream() << shards[0].rows->header() << "\n";
  rejects.stream() << shards[0].rejects->header() << "\n";
  const std::string where_in = in.string() + ":";
  Pair pair;
  while (true) {
    std::string id;
    try {
      if (!stream.next(pair)) break;
      id = pair.id;
    } catch (const Error&) {
      // A malformed row: the shard chosen by line number must have reported it.
    }
    const std::size_t line = stream.line();
    ShardFiles& s = *by_index[shard_of_row(id, line, count)];
    if (!id.empty() && s.rows->peek() && s.rows->key() == id) {
      rows.stream() << checked_row(s, s.rows->take()) << "\n";
      ++result.rows;
    } else if (s.rejects->peek() && s.rejects->key() == std::to_string(line)) {
      rejects.stream() << s.rejects->take() << "\n";
      ++result.rejected;
    } else {
      fail(s.output.string(), "lacks the row of " + where_in + std::to_string(line) +
                                  (id.empty() ? std::string() : " (id '" + id + "')") +
                                  " (next row there: '" + s.rows->key() + "')");
    }
  }
  for (auto& s : shards) {
    if (s.taken != s.manifest.committed.rows)
      fail(s.output.string(), "holds " + std::to_string(s.taken) + " rows but its manifest commits " +
                                  std::to_string(s.manifest.committed.rows));
    if (s.rows->peek()) fail(s.output.string(), "has a row the input does not explain: '" + s.rows->key() + "'");
    if (s.rejects->peek())
      fail(rejects_path(s.output).string(), "reports line " + s.rejects->key() + ", which the input does not explain");
  }
  rows.commit();
  if (result.rejected > 0) rejects.commit();
  return result;
}

}  // namespace relmoe
