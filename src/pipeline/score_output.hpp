#pragma once
// The scorer's output side, committed chunk by chunk so a killed run can be resumed:
//   SCORES.tsv.part           rows so far: header "id\tscore[\texperts]", then one row per pair
//   SCORES.tsv.rejects        rows not scored: "line\tid\terror" (kept when the run ends)
//   SCORES.tsv.manifest.json  the commit point: settings, input position after the last
//                             committed chunk, committed byte sizes, counts, finished flag
// A chunk's rows are appended, both files fsynced, then the manifest is replaced atomically.
// Reopening cuts both files back to the committed sizes (a torn tail is dropped) and the
// input is read again from the committed position, so after SIGKILL at any point a resumed
// run writes every row exactly once. When the input ends, .part is renamed to SCORES.tsv:
// a file under the final name is always complete.
#include "io/pair_reader.hpp"
#include "io/durable_file.hpp"
#include "pipeline/chunk_reader.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace relmoe {

struct ScoreCommit {
  std::int64_t chunks = 0;  // chunks committed (the next chunk's index)
  ReadPoint input;          // where reading continues, and the record just before
  std::int64_t rows = 0, rejected = 0;
  std::int64_t output_bytes = 0, rejects_bytes = 0;
};

struct ScoreManifest {
  nlohmann::json run;  // what the output depends on: input, model, experts, shard, settings
  ScoreCommit committed;
  bool finished = false;
  nlohmann::json stats;  // of the last session
};

std::filesystem::path manifest_path(const std::filesystem::path& output);
std::filesystem::path part_path(const std::filesystem::path& output);
std::filesystem::path rejects_path(const std::filesystem::path& output);
// Reads SCORES.tsv.manifest.json; errors name the file. The manifest carries a checksum over
// its fields: an edited manifest is refused, never followed.
ScoreManifest read_score_manifest(const std::filesystem::path& output);
// The checksum a manifest file carries: over its run, committed and finished fields.
std::string manifest_checksum(const nlohmann::json& manifest);
// Removes SCORES.tsv's manifest, .part and .rejects, and SCORES.tsv itself when a manifest
// says it is ours: what `--restart` does, and what a run that committed nothing leaves.
void remove_score_output(const std::filesystem::path& output);

class ScoreOutput {
 public:
  // Starts a new output (error when one exists, unless resuming) or resumes the one there
  // (`run` must equal the recorded one; a difference names the field). An earlier run that
  // committed no chunk is discarded silently: there is nothing in it to keep.
  ScoreOutput(const std::filesystem::path& output, nlohmann::json run, bool resume, bool with_experts);

  const ScoreCommit& committed() const { return manifest_.committed; }
  bool finished() const { return manifest_.finished; }

  void add_row(const std::string& id, float score, const std::string& experts);
  void add_rejected(const Rejected& r);
  // Makes the rows added so far durable and records the input position reached.
  void commit(const ReadPoint& input, std::int64_t chunks, const nlohmann::json& stats);
  // Commits, then moves .part to the final name and marks the manifest finished.
  void finish(const ReadPoint& input, std::int64_t chunks, const nlohmann::json& stats);
  // After a failure: when no chunk was committed, removes every file this output made.
  void abandon();

 private:
  void write_manifest() const;

  std::filesystem::path output_;
  ScoreManifest manifest_;
  bool with_experts_;
  std::unique_ptr<AppendFile> rows_, rejects_;
  std::string row_buffer_, reject_buffer_;
  std::int64_t pending_rows_ = 0, pending_rejected_ = 0;
};

}  // namespace relmoe
