#include "student/item_index.hpp"

#include "base/error.hpp"
#include "base/progress.hpp"
#include "io/json_file.hpp"
#include "models/config_fields.hpp"

#include <torch/utils.h>
#include <c10/util/Half.h>

#include <cstring>
#include <fstream>
#include <optional>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

constexpr int kFormat = 1;

struct Committed {
  std::int64_t items = 0, tokens = 0, vectors_bytes = 0, lengths_bytes = 0, ids_bytes = 0;
};

// Each count and size within [0, 2^40] and dim within [1, 2^16] (far beyond any index; tokens x dim
// x 2 bytes stays within int64), so a damaged manifest is refused with the field named before
// anything is allocated from it.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 40;
constexpr std::int64_t kMaxDim = 1 << 16;

Committed read_committed(const nlohmann::json& m, const fs::path& file) {
  if (!m.is_object()) fail(file.string(), "is not an item index manifest (expected a JSON object)");
  const ConfigFields f(m, file.string());
  Committed c;
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

std::vector<std::string> read_id_lines(const fs::path& file, std::int64_t bytes) {
  require_size(file, bytes);
  std::ifstream in(file, std::ios::binary);
  std::string text(static_cast<std::size_t>(bytes), '\0');
  if (!in.read(text.data(), bytes)) fail(file.string(), "is shorter than the manifest says");
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
  for (auto& id : read_id_lines(dir / "ids.txt", c.ids_bytes)) ids_.insert(std::move(id));
  items_ = c.items, tokens_ = c.tokens;
}

void ItemIndexWriter::add(const std::vector<std::string>& ids, const ItemVectors& v) {
  const auto half = v.vectors.detach().to(torch::kFloat16).contiguous();
  for (std::size_t b = 0; b < ids.size(); ++b) {
    if (ids[b].find('\n') != std::string::npos) fail("index", "item id '" + ids[b] + "' contains a newline");
    const auto length = v.lengths[b];
    const auto rows = half[static_cast<std::int64_t>(b)].narrow(0, 0, length).contiguous();
    vectors_->write(rows.data_ptr(), static_cast<std::size_t>(rows.numel()) * sizeof(c10::Half));
    const auto n = static_cast<std::int32_t>(length);
    lengths_->write(&n, sizeof(n));
    if (!ids_.insert(ids[b]).second) fail("index", "item id '" + ids[b] + "' is already in the index");
    id_lines_->write(ids[b] + "\n");
    ++items_, tokens_ += length;
  }
}

void ItemIndexWriter::commit() {
  vectors_->sync(), lengths_->sync(), id_lines_->sync();
  const nlohmann::json manifest{{"format", kFormat},
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
  if (c.items <= 0) fail(file.string(), "the index holds no items");
  if (c.vectors_bytes != c.tokens * index.dim_ * 2 || c.lengths_bytes != c.items * 4)
    fail(file.string(), "sizes disagree with dim, items and tokens (a damaged index)");
  index.vectors_ = MappedFile::open(dir / "vectors.f16");
  if (static_cast<std::int64_t>(index.vectors_->size()) < c.vectors_bytes)
    fail((dir / "vectors.f16").string(), "is shorter than the manifest says (a damaged index)");
  require_size(dir / "lengths.i32", c.lengths_bytes);
  std::ifstream lengths(dir / "lengths.i32", std::ios::binary);
  std::vector<std::int32_t> raw(static_cast<std::size_t>(c.items));
  if (!lengths.read(reinterpret_cast<char*>(raw.data()), c.lengths_bytes))
    fail((dir / "lengths.i32").string(), "is shorter than the manifest says (a damaged index)");
  std::int64_t offset = 0;
  for (auto n : raw) {
    if (n <= 0) fail((dir / "lengths.i32").string(), "holds a non-positive length (a damaged index)");
    index.lengths_.push_back(n);
    index.offsets_.push_back(offset);
    offset += n;
  }
  if (offset != c.tokens) fail((dir / "lengths.i32").string(), "lengths do not add up to the manifest's tokens");
  index.ids_ = read_id_lines(dir / "ids.txt", c.ids_bytes);
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
  writer.commit();
  if (progress) progress->finish();
  return stats;
}

}  // namespace relmoe
