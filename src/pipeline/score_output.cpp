#include "pipeline/score_output.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "base/hash.hpp"

#include <cstdio>
#include <fstream>

namespace relmoe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "relmoe-scores";
constexpr int kVersion = 2;  // 2: checksum and last record

std::string suffixed(const fs::path& p, const char* suffix) { return p.string() + suffix; }

json commit_json(const ScoreCommit& c) {
  return {{"chunks", c.chunks},
          {"input_offset", c.input.end.offset},
          {"input_line", c.input.end.line},
          {"last_record_offset", c.input.last_start.offset},
          {"last_record_line", c.input.last_start.line},
          {"last_record_id", c.input.last_id},
          {"rows", c.rows},
          {"rejected", c.rejected},
          {"output_bytes", c.output_bytes},
          {"rejects_bytes", c.rejects_bytes}};
}

// Over everything a resume follows; stats are informational and left out.
std::string checksum_of(const json& run, const json& committed, bool finished) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(hash64(json{{"run", run}, {"committed", committed}, {"finished", finished}}.dump())));
  return hex;
}

}  // namespace

std::string manifest_checksum(const json& manifest) {
  return checksum_of(manifest.at("run"), manifest.at("committed"), manifest.at("finished").get<bool>());
}

namespace {

// The first field where two run descriptions differ, as "a.b[2]".
std::string first_difference(const json& a, const json& b, const std::string& path) {
  if (a.is_object() != b.is_object() || a.is_array() != b.is_array()) return path;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items())
      if (!b.contains(k)) return path + "." + k;
      else if (auto d = first_difference(v, b.at(k), path + "." + k); !d.empty()) return d;
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) return path + "." + k;
    return "";
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return path;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (auto d = first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  return a == b ? "" : path;
}

std::string clean(std::string text) {
  for (auto& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

fs::path manifest_path(const fs::path& output) { return suffixed(output, ".manifest.json"); }
fs::path part_path(const fs::path& output) { return suffixed(output, ".part"); }
fs::path rejects_path(const fs::path& output) { return suffixed(output, ".rejects"); }

ScoreManifest read_score_manifest(const fs::path& output) {
  const fs::path path = manifest_path(output);
  const json j = read_json_file(path, "is this the output of `relmoe score`?");
  try {
    require_format(j, path.string(), kFormat, kVersion);
    ScoreManifest m;
    m.run = j.at("run");
    const auto& c = j.at("committed");
    m.finished = j.at("finished").get<bool>();
    if (j.at("checksum").get<std::string>() != manifest_checksum(j))
      fail(path.string(), "checksum mismatch: the manifest was edited or damaged; rerun with --restart to start over");
    m.committed = {c.at("chunks").get<std::int64_t>(),
                   {{c.at("input_offset").get<std::uint64_t>(), c.at("input_line").get<std::size_t>()},
                    {c.at("last_record_offset").get<std::uint64_t>(), c.at("last_record_line").get<std::size_t>()},
                    c.at("last_record_id").get<std::string>()},
                   c.at("rows").get<std::int64_t>(),
                   c.at("rejected").get<std::int64_t>(),
                   c.at("output_bytes").get<std::int64_t>(),
                   c.at("rejects_bytes").get<std::int64_t>()};
    m.stats = j.value("stats", json::object());
    return m;
  } catch (const json::exception& e) {
    fail(path.string(), std::string("malformed manifest: ") + e.what());
  }
}

void remove_score_output(const fs::path& output) {
  if (fs::exists(manifest_path(output))) fs::remove(output);
  for (const auto& p : {part_path(output), rejects_path(output), manifest_path(output)}) fs::remove(p);
}

ScoreOutput::ScoreOutput(const fs::path& output, json run, bool resume, bool with_experts)
    : output_(output), with_experts_(with_experts) {
  // A run killed or failed before its first chunk (an older one, or SIGKILL) holds nothing.
  if (fs::exists(manifest_path(output)) && !fs::exists(output)) {
    const auto earlier = read_score_manifest(output);
    if (earlier.committed.chunks == 0 && !earlier.finished) remove_score_output(output);
  }
  const bool exists = fs::exists(manifest_path(output));
  if (exists && !resume)
    fail(output.string(), "an earlier run's output is here (" + manifest_path(output).filename().string() +
                              "); pass --resume to continue it, or remove it to start over");
  if (!exists && fs::exists(output))
    fail(output.string(), "exists and has no manifest; remove it or choose another --output");
  if (!output.parent_path().empty()) fs::create_directories(output.parent_path());
  if (exists) {
    manifest_ = read_score_manifest(output);
    if (auto d = first_difference(manifest_.run, run, "run"); !d.empty())
      fail(manifest_path(output).string(), "cannot resume: '" + d + "' differs from this command (recorded " +
                                               manifest_.run.dump() + ")");
    if (manifest_.finished) return;
    // Killed between renaming .part and marking the manifest finished: the file is complete.
    if (!fs::exists(part_path(output)) && fs::exists(output) &&
        static_cast<std::int64_t>(fs::file_size(output)) == manifest_.committed.output_bytes) {
      manifest_.finished = true;
      write_manifest();
      return;
    }
  } else {
    manifest_.run = std::move(run);
  }
  rows_ = std::make_unique<AppendFile>(part_path(output), manifest_.committed.output_bytes);
  rejects_ = std::make_unique<AppendFile>(rejects_path(output), manifest_.committed.rejects_bytes);
  if (!exists) {
    row_buffer_ = with_experts_ ? "id\tscore\texperts\n" : "id\tscore\n";
    reject_buffer_ = "line\tid\terror\n";
    commit({}, 0, json::object());
  }
}

void ScoreOutput::add_row(const std::string& id, float score, const std::string& experts) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(score));  // round-trips a float
  row_buffer_ += id;
  row_buffer_ += '\t';
  row_buffer_ += buf;
  if (with_experts_) row_buffer_ += "\t" + experts;
  row_buffer_ += '\n';
  ++pending_rows_;
}

void ScoreOutput::add_rejected(const Rejected& r) {
  reject_buffer_ += std::to_string(r.line) + "\t" + clean(r.id) + "\t" + clean(r.reason) + "\n";
  ++pending_rejected_;
}

void ScoreOutput::abandon() {
  if (manifest_.committed.chunks > 0 || manifest_.finished) return;
  rows_.reset();
  rejects_.reset();
  remove_score_output(output_);
}

void ScoreOutput::commit(const ReadPoint& input, std::int64_t chunks, const json& stats) {
  rows_->write(row_buffer_);
  rejects_->write(reject_buffer_);
  row_buffer_.clear();
  reject_buffer_.clear();
  rows_->sync();
  rejects_->sync();
  auto& c = manifest_.committed;
  c.chunks = chunks;
  c.input = input;
  c.rows += pending_rows_;
  c.rejected += pending_rejected_;
  c.output_bytes = rows_->size();
  c.rejects_bytes = rejects_->size();
  pending_rows_ = pending_rejected_ = 0;
  manifest_.stats = stats;
  write_manifest();
}

void ScoreOutput::finish(const ReadPoint& input, std::int64_t chunks, const json& stats) {
  commit(input, chunks, stats);
  rows_.reset();
  rejects_.reset();
  rename_durably(part_path(output_), output_);
  manifest_.finished = true;
  write_manifest();
}

void ScoreOutput::write_manifest() const {
  const json committed = commit_json(manifest_.committed);
  const json j = {{"format", kFormat},
                  {"version", kVersion},
                  {"run", manifest_.run},
                  {"committed", committed},
                  {"finished", manifest_.finished},
                  {"checksum", checksum_of(manifest_.run, committed, manifest_.finished)},
                  {"stats", manifest_.stats}};
  write_atomically(manifest_path(output_), j.dump(2) + "\n");
}

}  // namespace relmoe
