#pragma once
// The student's item index: every item's token vectors, computed once offline so serving only
// encodes the query.
//   INDEX/vectors.f16    [tokens, dim] f16 rows, the items' rows one after another
//   INDEX/lengths.i32    each item's row count
//   INDEX/ids.txt        each item's id, one per line
//   INDEX/manifest.json  the commit point: format and version, dim, counts, committed byte
//                        sizes and their checksums, the student, whether the build finished
// Built in batches and committed (data fsynced, then the manifest replaced atomically), so an
// interrupted build resumes from its last commit, and adding items to an existing index appends
// (ids already there are skipped). Readers map the files read-only: processes serving the same
// index share its pages.
#include "base/hash.hpp"
#include "io/durable_file.hpp"
#include "io/mapped_file.hpp"
#include "student/colbert_student.hpp"

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace relmoe {

class ItemIndexWriter {
 public:
  // Opens the index in `dir`, creating it when absent; an existing one must have the same dim
  // and student (else an error naming the manifest). Uncommitted data of an interrupted build is
  // cut away.
  ItemIndexWriter(const std::filesystem::path& dir, std::int64_t dim, const std::string& student);

  bool contains(const std::string& id) const { return ids_.count(id) > 0; }
  // Appends the items (vectors [B, T, dim], row b's first lengths[b] rows real); durable at commit().
  void add(const std::vector<std::string>& ids, const ItemVectors& vectors);
  // Makes what was added durable; `complete` marks the build finished (readers refuse an index
  // whose last commit was not complete: an interrupted build is resumed, not served).
  void commit(bool complete = false);
  std::int64_t items() const { return items_; }

 private:
  std::filesystem::path dir_;
  std::int64_t dim_;
  std::string student_;
  std::unordered_set<std::string> ids_;
  std::int64_t items_ = 0, tokens_ = 0;
  std::unique_ptr<AppendFile> vectors_, lengths_, id_lines_;
  Hash64Stream vectors_hash_, lengths_hash_, ids_hash_;  // of each file's bytes so far
};

class ItemIndex {
 public:
  // Errors name the file: a missing or damaged index (sizes disagreeing with the manifest).
  static ItemIndex open(const std::filesystem::path& dir);

  std::int64_t dim() const { return dim_; }
  std::int64_t size() const { return static_cast<std::int64_t>(lengths_.size()); }
  const std::string& student() const { return student_; }
  // The row of an item id, or -1.
  std::int64_t find(const std::string& id) const;
  const std::string& id(std::int64_t row) const { return ids_[static_cast<std::size_t>(row)]; }
  std::int64_t length(std::int64_t row) const { return lengths_[static_cast<std::size_t>(row)]; }
  // The candidates' token vectors as f32 [Σ lengths, dim], rows one candidate after another.
  torch::Tensor gather(const std::vector<std::int64_t>& rows) const;

 private:
  std::int64_t dim_ = 0;
  std::string student_;
  std::shared_ptr<MappedFile> vectors_;
  std::vector<std::int64_t> lengths_, offsets_;
  std::vector<std::string> ids_;
  std::unordered_map<std::string, std::int64_t> rows_;
};

struct IndexBuildStats {
  std::int64_t added = 0, skipped = 0, total = 0;
};

// Encodes `items` (id, text) not yet in the index at `dir` in batches of `batch`, committing
// every `commit_every` items.
IndexBuildStats build_item_index(const ColbertStudent& student, const std::string& student_name,
                                 const std::vector<std::pair<std::string, std::string>>& items,
                                 const std::filesystem::path& dir, int batch, std::int64_t commit_every, bool progress);

}  // namespace relmoe
