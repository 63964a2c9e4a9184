#include "student/item_index.hpp"

#include "base/error.hpp"
#include "base/hash.hpp"
#include "base/progress.hpp"
#include "io/json_file.hpp"
#include "models/config_fields.hpp"

#include <torch/utils.h>
#include <c10/util/Half.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "relmoe-item-index";
constexpr int kVersion = 2;  // 1 had no checksums and no "complete"

struct Committed {
  std::int64_t items = 0, tokens = 0, vectors_bytes = 0, lengths_bytes = 0, ids_bytes = 0;
  std::string vectors_checksum, lengths_checksum, ids_checksum;
  bool complete = false;
};

std::string hex(std::uint64_t v) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(v));
  return out;
}

// Each count and size within [0, 2^40] and dim within [1, 2^16] (far beyond any index; tokens x dim
// x 2 bytes stays within int64), so a damaged manifest is refused with the field named before
// anything is allocated from it.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 40;
constexpr std::int64_t kMaxDim = 1 << 16;

Committed read_committed(const nlohmann::json& m, const fs::path& file) {
  require_format(m, file.string(), kFormat, kVersion,
                 "an index from an older relmoe: build it again with `relmoe student index`");
  const ConfigFields f(m, file.string());
  Committed c;
  c.vectors_checksum = f.string_or("vectors_checksum", "");
  c.lengths_checksum = f.string_or("lengths_checksum", "");
  c.ids_checksum = f.string_or("ids_checksum", "");
  c.complete = f.bool_or("complete", false);
  c.items = f.int_in("items", 0, kMaxCount);
  c.tokens = f.int_in("tokens", 0, kMaxCount);
  c.vectors_bytes = f.int_in("vectors_bytes", 0, kMaxCount);
  c.lengths_bytes = f.int_in("lengths_bytes", 0, kMaxCount);
  c.ids_bytes = f.int_in("ids_bytes", 0, kMaxCount);
  return c;
}

std::int64_t read_dim(const nlohmann::json& m, const fs::path& file) {
  return ConfigFields(m, file.string()).int_in("dim", 1, kMaxDim);
}

// Fails unless `file` holds at least `bytes` (checked before a buffer of that size is made).
void require_size(const fs::path& file, std::int64_t bytes) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) fail(file.string(), "cannot be read (" + ec.message() + ")");
  if (static_cast<std::int64_t>(size) < bytes) fail(file.string(), "is shorter than the manifest says (a damaged index)");
}

void require_checksum(const fs::path& file, std::string_view committed, const std::string& checksum) {
  if (hex(hash64(committed)) != checksum)
    fail(file.string(), "does not match the manifest's checksum (a damaged index: build it again)");
}

// The first `bytes` of `file`, which must hash to `checksum`.
std::string read_committed_bytes(const fs::path& file, std::int64_t bytes, const std::string& checksum) {
  require_size(file, bytes);
  std::ifstream in(file, std::ios::binary);
  std::string data(static_cast<std::size_t>(bytes), '\0');
  if (!in.read(data.data(), bytes)) fail(file.string(), "is shorter than the manifest says (a damaged index)");
  require_checksum(file, data, checksum);
  return data;
}

std::vector<std::string> split_id_lines(const std::string& text) {
  std::vector<std::string> ids;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    ids.push_back(text.substr(start, nl - start));
  return ids;
}

}  // namespace

ItemIndexWriter::ItemIndexWriter(const fs::path& dir, std::int64_t dim, const std::string& student)
    : dir_(dir), dim_(dim), student_(student) {
  fs::create_directories(dir);
  const auto manifest = read_json_file_or_null(dir / "manifest.json");
  Committed c;
  if (!manifest.is_null()) {
    const auto where = (dir / "manifest.json").string();
    c = read_committed(manifest, dir / "manifest.json");
    if (read_dim(manifest, dir / "manifest.json") != dim)
      fail(where, "the index has dim " + manifest["dim"].dump() + ", this student " + std::to_string(dim));
    const auto built_by = ConfigFields(manifest, where).string_or("student", "");
    if (built_by != student)
      fail(where, "the index was built by another student (" + built_by +
                      "); build a new index for this one");
  }
  vectors_ = std::make_unique<AppendFile>(dir / "vectors.f16", c.vectors_bytes);
  lengths_ = std::make_unique<AppendFile>(dir / "lengths.i32", c.lengths_bytes);
  id_lines_ = std::make_unique<AppendFile>(dir / "ids.txt", c.ids_bytes);
  if (!manifest.is_null()) {
    // What is committed must be what was committed: the checksums continue from those bytes.
    if (c.vectors_bytes > 0) {
      const auto mapped = MappedFile::open(dir / "vectors.f16");
      const std::string_view committed(reinterpret_cast<const char*>(mapped->data()),
                                       static_cast<std::size_t>(c.vectors_bytes));
      require_checksum(dir / "vectors.f16", committed, c.vectors_checksum);
      vectors_hash_.update(committed);
    } else {
      require_checksum(dir / "vectors.f16", "", c.vectors_checksum);
    }
    lengths_hash_.update(read_committed_bytes(dir / "lengths.i32", c.lengths_bytes, c.lengths_checksum));
    const auto id_text = read_committed_bytes(dir / "ids.txt", c.ids_bytes, c.ids_checksum);
    ids_hash_.update(id_text);
    for (auto& id : split_id_lines(id_text)) ids_.insert(std::move(id));
  }
  items_ = c.items, tokens_ = c.tokens;
}

void ItemIndexWriter::add(const std::vector<std::string>& ids, const ItemVectors& v) {
  const auto half = v.vectors.detach().to(torch::kFloat16).contiguous();
  for (std::size_t b = 0; b < ids.size(); ++b) {
    if (ids[b].find('\n') != std::string::npos) fail("index", "item id '" + ids[b] + "' contains a newline");
    const auto length = v.lengths[b];
    const auto rows = half[static_cast<std::int64_t>(b)].narrow(0, 0, length).contiguous();
    if (!ids_.insert(ids[b]).second) fail("index", "item id '" + ids[b] + "' is already in the index");
    const std::string_view vectors(static_cast<const char*>(rows.data_ptr()),
                                   static_cast<std::size_t>(rows.numel()) * sizeof(c10::Half));
    vectors_->write(vectors.data(), vectors.size());
    vectors_hash_.update(vectors);
    const auto n = static_cast<std::int32_t>(length);
    lengths_->write(&n, sizeof(n));
    lengths_hash_.update({reinterpret_cast<const char*>(&n), sizeof(n)});
    const auto line = ids[b] + "\n";
    id_lines_->write(line);
    ids_hash_.update(line);
    ++items_, tokens_ += length;
  }
}

void ItemIndexWriter::commit(bool complete) {
  vectors_->sync(), lengths_->sync(), id_lines_->sync();
  const nlohmann::json manifest{{"format", kFormat},
                                {"version", kVersion},
                                {"complete", complete},
                                {"vectors_checksum", hex(vectors_hash_.value())},
                                {"lengths_checksum", hex(lengths_hash_.value())},
                                {"ids_checksum", hex(ids_hash_.value())},
                                {"dim", dim_},
                                {"student", student_},
                                {"items", items_},
                                {"tokens", tokens_},
                                {"vectors_bytes", vectors_->size()},
                                {"lengths_bytes", lengths_->size()},
                                {"ids_bytes", id_lines_->size()}};
  write_atomically(dir_ / "manifest.json", manifest.dump(2));
}

ItemIndex ItemIndex::open(const fs::path& dir) {
  const auto file = dir / "manifest.json";
  const auto manifest = read_json_file(file, "is this an index from `relmoe student index`?");
  const auto c = read_committed(manifest, file);
  ItemIndex index;
  index.dim_ = read_dim(manifest, file);
  index.student_ = ConfigFields(manifest, file.string()).string_or("student", "");
  if (!c.complete)
    fail(file.string(), "the index build stopped before it finished (" + std::to_string(c.items) +
                            " items committed): run `relmoe student index` again to resume it");
  if (c.items <= 0) fail(file.string(), "the index holds no items");
  if (c.vectors_bytes != c.tokens * index.dim_ * 2 || c.lengths_bytes != c.items * 4)
    fail(file.string(), "sizes disagree with dim, items and tokens (a damaged index)");
  index.vectors_ = MappedFile::open(dir / "vectors.f16");
  if (static_cast<std::int64_t>(index.vectors_->size()) < c.vectors_bytes)
    fail((dir / "vectors.f16").string(), "is shorter than the manifest says (a damaged index)");
  // Every byte is checked once here, so flipped bits or swapped lengths never reach an answer.
  require_checksum(dir / "vectors.f16",
                   {reinterpret_cast<const char*>(index.vectors_->data()), static_cast<std::size_t>(c.vectors_bytes)},
                   c.vectors_checksum);
  const auto length_bytes = read_committed_bytes(dir / "lengths.i32", c.lengths_bytes, c.lengths_checksum);
  std::vector<std::int32_t> raw(static_cast<std::size_t>(c.items));
  std::memcpy(raw.data(), length_bytes.data(), length_bytes.size());
  std::int64_t offset = 0;
  for (auto n : raw) {
    if (n <= 0) fail((dir / "lengths.i32").string(), "holds a non-positive length (a damaged index)");
    index.lengths_.push_back(n);
    index.offsets_.push_back(offset);
    offset += n;
  }
  if (offset != c.tokens) fail((dir / "lengths.i32").string(), "lengths do not add up to the manifest's tokens");
  index.ids_ = split_id_lines(read_committed_bytes(dir / "ids.txt", c.ids_bytes, c.ids_checksum));
  if (static_cast<std::int64_t>(index.ids_.size()) != c.items)
    fail((dir / "ids.txt").string(), "holds " + std::to_string(index.ids_.size()) + " ids for " +
                                         std::to_string(c.items) + " items");
  for (std::size_t i = 0; i < index.ids_.size(); ++i) {
    const auto [at, added] = index.rows_.emplace(index.ids_[i], static_cast<std::int64_t>(i));
    if (!added)
      fail((dir / "ids.txt").string() + ":" + std::to_string(i + 1),
           "id '" + index.ids_[i] + "' is also on line " + std::to_string(at->second + 1) + " (a damaged index)");
  }
  return index;
}

std::int64_t ItemIndex::find(const std::string& id) const {
  const auto it = rows_.find(id);
  return it == rows_.end() ? -1 : it->second;
}

torch::Tensor ItemIndex::gather(const std::vector<std::int64_t>& rows) const {
  std::int64_t total = 0;
  for (auto r : rows) total += length(r);
  auto out = torch::empty({total, dim_}, torch::kFloat32);
  auto* src = reinterpret_cast<c10::Half*>(vectors_->data());
  std::int64_t at = 0;
  for (auto r : rows) {
    const auto n = length(r);
    // libtorch's dtype-converting copy is vectorised; a scalar loop over c10::Half is 3x slower.
    out.narrow(0, at, n).copy_(torch::from_blob(src + offsets_[static_cast<std::size_t>(r)] * dim_, {n, dim_},
                                                torch::kFloat16));
    at += n;
  }
  return out;
}

IndexBuildStats build_item_index(const ColbertStudent& student, const std::string& student_name,
                                 const std::vector<std::pair<std::string, std::string>>& items, const fs::path& dir,
                                 int batch, std::int64_t commit_every, bool show_progress) {
  ItemIndexWriter writer(dir, student.config().dim, student_name);
  IndexBuildStats stats;
  stats.total = static_cast<std::int64_t>(items.size());
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (writer.contains(items[i].first)) ++stats.skipped;
    else todo.push_back(i);
  }
  std::optional<Progress> progress;
  if (show_progress) progress.emplace("index", todo.size());
  torch::NoGradGuard no_grad;
  std::int64_t since_commit = 0;
  for (std::size_t start = 0; start < todo.size(); start += static_cast<std::size_t>(batch)) {
    std::vector<std::string> ids, texts;
    for (std::size_t i = start; i < std::min(todo.size(), start + static_cast<std::size_t>(batch)); ++i) {
      ids.push_back(items[todo[i]].first);
      texts.push_back(items[todo[i]].second);
    }
    writer.add(ids, student.encode_items(texts));
    stats.added += static_cast<std::int64_t>(ids.size());
    since_commit += static_cast<std::int64_t>(ids.size());
    if (since_commit >= commit_every) writer.commit(), since_commit = 0;
    if (progress) progress->advance(ids.size());
  }
  writer.commit(true);
  if (progress) progress->finish();
  return stats;
}

}  // namespace relmoe
