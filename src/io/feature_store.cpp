#include "io/feature_store.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"
#include "io/json_file.hpp"
#include "io/mapped_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace relmoe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "relmoe-features";
constexpr int kVersion = 1;

std::string dtype_name(torch::ScalarType t) { return t == torch::kFloat32 ? "f32" : "f16"; }

torch::ScalarType dtype_of(const std::string& s, const std::string& where) {
  if (s == "f16") return torch::kFloat16;
  if (s == "f32") return torch::kFloat32;
  fail(where, "dtype '" + s + "' is not f16 or f32");
}

std::int64_t elem_size(torch::ScalarType t) { return t == torch::kFloat32 ? 4 : 2; }

fs::path data_path(const fs::path& dir, const std::string& name) { return dir / (name + ".bin"); }
fs::path score_path(const fs::path& dir, const std::string& name) { return dir / (name + ".score.bin"); }

std::string how_run(const ExpertRecord& e) { return relmoe::how_run(e.run_dtype, e.prompt_tokens); }

void check_name(const std::string& name) {
  if (name.empty() || name.find_first_of("/\\\n\t") != std::string::npos || name[0] == '.')
    fail("feature store", "expert name '" + name + "' is not usable as a file name");
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open (is this a feature store directory?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_ids(const fs::path& path) {
  std::vector<std::string> ids;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line)) ids.push_back(line);
  return ids;
}

struct Manifest {
  std::int64_t rows = 0;
  std::vector<ExpertColumn> experts;
};

Manifest read_manifest(const fs::path& dir) {
  const fs::path path = dir / "manifest.json";
  const std::string where = path.string();
  const json j = read_json_file(path);
  try {
    require_format(j, where, kFormat, kVersion);
    Manifest m;
    m.rows = j.at("rows").get<std::int64_t>();
    for (const auto& e : j.at("experts")) {
      ExpertColumn c;
      static_cast<ExpertRecord&>(c) = expert_record_from_json(e, where);
      check_name(c.name);
      c.dtype = dtype_of(e.at("dtype").get<std::string>(), where + " expert '" + c.name + "'");
      c.has_score = e.at("has_score").get<bool>();
      c.rows_complete = e.at("rows_complete").get<std::int64_t>();
      if (c.width <= 0 || c.rows_complete < 0 || c.rows_complete > m.rows)
        fail(where, "expert '" + c.name + "' has width " + std::to_string(c.width) +
                        " and rows_complete " + std::to_string(c.rows_complete) + " of " +
                        std::to_string(m.rows));
      m.experts.push_back(c);
    }
    return m;
  } catch (const json::exception& e) {
    fail(where, std::string("missing or mistyped field: ") + e.what());
  }
}

json manifest_json(std::int64_t rows, const std::vector<ExpertColumn>& experts) {
  json list = json::array();
  for (const auto& c : experts) {
    json j = to_json(static_cast<const ExpertRecord&>(c));
    j["dtype"] = dtype_name(c.dtype);
    j["has_score"] = c.has_score;
    j["rows_complete"] = c.rows_complete;
    list.push_back(j);
  }
  return {{"format", kFormat}, {"version", kVersion}, {"rows", rows}, {"experts", list}};
}

}  // namespace

// ---------------------------------------------------------------- writer

struct FeatureStoreWriter::Column {
  ExpertColumn spec;  // spec.rows_complete = committed rows
  std::int64_t next = 0;
  std::unique_ptr<AppendFile> data;
  std::unique_ptr<AppendFile> score;
};

FeatureStoreWriter::FeatureStoreWriter(const fs::path& dir, const std::vector<std::string>& ids,
                                       const std::vector<ExpertColumn>& experts)
    : dir_(dir), ids_(ids) {
  {
    std::unordered_map<std::string, int> seen;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i].empty() || ids[i].find_first_of("\n\r") != std::string::npos)
        fail(dir.string(), "pair id at row " + std::to_string(i) + " is empty or has a newline");
      if (!seen.emplace(ids[i], 0).second) fail(dir.string(), "duplicate pair id '" + ids[i] + "'");
    }
  }
  std::vector<ExpertColumn> existing;
  if (fs::exists(dir / "manifest.json")) {
    Manifest m = read_manifest(dir);
    if (read_ids(dir / "ids.txt") != ids || m.rows != static_cast<std::int64_t>(ids.size()))
      fail((dir / "ids.txt").string(), "the store holds other pair ids than the ones being written; "
                                       "use a new directory");
    existing = m.experts;
  } else {
    fs::create_directories(dir);
    std::string text;
    for (const auto& id : ids) text += id + "\n";
    write_atomically(dir / "ids.txt", text);
  }
  auto add = [&](const ExpertColumn& spec) {
    auto c = std::make_unique<Column>();
    c->spec = spec;
    c->next = spec.rows_complete;
    c->data = std::make_unique<AppendFile>(data_path(dir, spec.name),
                                           spec.rows_complete * spec.width * elem_size(spec.dtype));
    if (spec.has_score)
      c->score = std::make_unique<AppendFile>(score_path(dir, spec.name), spec.rows_complete * 4);
    columns_.push_back(std::move(c));
  };
  for (const auto& e : existing) add(e);
  for (ExpertColumn spec : experts) {
    if (!spec.dir.empty()) {  // the expert may have moved since the column was started
      for (auto& c : columns_)
        if (c->spec.name == spec.name) c->spec.dir = spec.dir;
    }
    check_name(spec.name);
    if (spec.width <= 0) fail(dir.string(), "expert '" + spec.name + "' needs a positive width");
    if (spec.dtype != torch::kFloat16 && spec.dtype != torch::kFloat32)
      fail(dir.string(), "expert '" + spec.name + "': dtype must be f16 or f32");
    auto it = std::find_if(existing.begin(), existing.end(),
                           [&](const ExpertColumn& e) { return e.name == spec.name; });
    if (it == existing.end()) {
      spec.rows_complete = 0;
      add(spec);
    } else if (it->width != spec.width || it->dtype != spec.dtype || it->has_score != spec.has_score) {
      fail((dir / "manifest.json").string(),
           "expert '" + spec.name + "' is stored with width " + std::to_string(it->width) + " " +
               dtype_name(it->dtype) + (it->has_score ? " with" : " without") +
               " scores; the writer asks for width " + std::to_string(spec.width) + " " +
               dtype_name(spec.dtype) + (spec.has_score ? " with" : " without") + " scores");
    } else if (!it->run_dtype.empty() && !spec.run_dtype.empty() && how_run(*it) != how_run(spec)) {
      // Rows computed two ways would make one column of two different features.
      fail((dir / "manifest.json").string(), "expert '" + spec.name + "' was embedded in " + how_run(*it) +
                                                 "; this run asks for " + how_run(spec));
    }
  }
  write_manifest();
}

FeatureStoreWriter::~FeatureStoreWriter() = default;

FeatureStoreWriter::Column& FeatureStoreWriter::column(const std::string& expert) {
  for (auto& c : columns_)
    if (c->spec.name == expert) return *c;
  fail(dir_.string(), "no expert '" + expert + "' in this store");
}

const FeatureStoreWriter::Column& FeatureStoreWriter::column(const std::string& expert) const {
  return const_cast<FeatureStoreWriter*>(this)->column(expert);
}

std::int64_t FeatureStoreWriter::next_row(const std::string& expert) const { return column(expert).next; }

std::int64_t FeatureStoreWriter::committed_rows(const std::string& expert) const {
  return column(expert).spec.rows_complete;
}

void FeatureStoreWriter::set_cost(const std::string& expert, double seconds_per_pair) {
  if (!(seconds_per_pair >= 0) || !std::isfinite(seconds_per_pair))
    fail(dir_.string(), "expert '" + expert + "': cost per pair must be a non-negative number");
  column(expert).spec.cost = seconds_per_pair;
}

void FeatureStoreWriter::append(const std::string& expert, const torch::Tensor& hidden,
                                const torch::Tensor& scores) {
  Column& c = column(expert);
  const std::string where = dir_.string() + " expert '" + expert + "'";
  if (hidden.dim() != 2 || hidden.size(1) != c.spec.width)
    fail(where, "hidden states must be [n, " + std::to_string(c.spec.width) + "], got " +
                    c10::str(hidden.sizes()));
  const std::int64_t n = hidden.size(0);
  if (c.next + n > rows())
    fail(where, "appending " + std::to_string(n) + " rows after row " + std::to_string(c.next) +
                    " exceeds the store's " + std::to_string(rows()) + " rows");
  if (c.spec.has_score != scores.defined())
    fail(where, c.spec.has_score ? "this column needs scores" : "this column has no scores");
  if (scores.defined() && (scores.dim() != 1 || scores.size(0) != n))
    fail(where, "scores must be [" + std::to_string(n) + "], got " + c10::str(scores.sizes()));
  const torch::Tensor h = hidden.to(torch::kCPU, c.spec.dtype).contiguous();
  c.data->write(h.data_ptr(), static_cast<std::size_t>(h.numel() * elem_size(c.spec.dtype)));
  if (scores.defined()) {
    const torch::Tensor s = scores.to(torch::kCPU, torch::kFloat32).contiguous();
    c.score->write(s.data_ptr(), static_cast<std::size_t>(n * 4));
  }
  c.next += n;
}

void FeatureStoreWriter::commit() {
  for (auto& c : columns_) {
    c->data->sync();
    if (c->score) c->score->sync();
  }
  for (auto& c : columns_) c->spec.rows_complete = c->next;
  write_manifest();
}

void FeatureStoreWriter::write_manifest() const {
  std::vector<ExpertColumn> specs;
  for (const auto& c : columns_) specs.push_back(c->spec);
  write_atomically(dir_ / "manifest.json", manifest_json(rows(), specs).dump(2) + "\n");
}

// ---------------------------------------------------------------- reader

namespace {

// The file mapped, holding at least the `need` bytes its manifest commits.
std::shared_ptr<MappedFile> map_committed(const fs::path& path, std::int64_t need) {
  auto file = MappedFile::open(path);
  if (static_cast<std::int64_t>(file->size()) < need)
    fail(path.string(), "is truncated: " + std::to_string(file->size()) + " bytes, the manifest needs " +
                            std::to_string(need));
  return file;
}

}  // namespace

struct FeatureStore::Impl {
  fs::path dir;
  std::int64_t rows = 0;
  std::vector<std::string> ids;
  std::unordered_map<std::string, std::int64_t> row_of;
  std::vector<ExpertColumn> experts;
  std::vector<std::shared_ptr<MappedFile>> data, score;
  std::vector<torch::Tensor> data_t, score_t;  // aliases of the mappings
};

FeatureStore FeatureStore::open(const fs::path& dir) {
  auto impl = std::make_shared<Impl>();
  impl->dir = dir;
  const Manifest m = read_manifest(dir);
  impl->rows = m.rows;
  impl->experts = m.experts;
  impl->ids = read_ids(dir / "ids.txt");
  if (static_cast<std::int64_t>(impl->ids.size()) != m.rows)
    fail((dir / "ids.txt").string(), "has " + std::to_string(impl->ids.size()) +
                                         " ids but the manifest says " + std::to_string(m.rows) + " rows");
  for (std::size_t i = 0; i < impl->ids.size(); ++i)
    if (!impl->row_of.emplace(impl->ids[i], static_cast<std::int64_t>(i)).second)
      fail((dir / "ids.txt").string(), "duplicate pair id '" + impl->ids[i] + "'");
  for (const auto& c : m.experts) {
    const std::int64_t n = c.rows_complete;
    impl->data.push_back(map_committed(data_path(dir, c.name), n * c.width * elem_size(c.dtype)));
    auto opts = torch::TensorOptions().dtype(c.dtype);
    impl->data_t.push_back(n == 0 ? torch::empty({0, c.width}, opts)
                                  : torch::from_blob(impl->data.back()->data(), {n, c.width}, opts));
    if (c.has_score) {
      impl->score.push_back(map_committed(score_path(dir, c.name), n * 4));
      impl->score_t.push_back(n == 0 ? torch::empty({0}, torch::kFloat32)
                                     : torch::from_blob(impl->score.back()->data(), {n}, torch::kFloat32));
    } else {
      impl->score.push_back(nullptr);
      impl->score_t.emplace_back();
    }
  }
  FeatureStore store;
  store.impl_ = std::move(impl);
  return store;
}

const fs::path& FeatureStore::dir() const { return impl_->dir; }
std::int64_t FeatureStore::rows() const { return impl_->rows; }
const std::vector<std::string>& FeatureStore::ids() const { return impl_->ids; }
const std::vector<ExpertColumn>& FeatureStore::experts() const { return impl_->experts; }

int FeatureStore::expert_index(const std::string& name) const {
  std::string names;
  for (std::size_t i = 0; i < impl_->experts.size(); ++i) {
    if (impl_->experts[i].name == name) return static_cast<int>(i);
    names += (i ? ", " : "") + impl_->experts[i].name;
  }
  fail(impl_->dir.string(), "no expert '" + name + "' (store has: " + names + ")");
}

std::optional<std::int64_t> FeatureStore::find_row(const std::string& id) const {
  auto it = impl_->row_of.find(id);
  if (it == impl_->row_of.end()) return std::nullopt;
  return it->second;
}

std::int64_t FeatureStore::row(const std::string& id) const {
  if (auto r = find_row(id)) return *r;
  fail(impl_->dir.string(), "no pair id '" + id + "' in the feature store");
}

namespace {
void check_rows(const FeatureStore& store, const ExpertColumn& c, const torch::Tensor& rows) {
  if (rows.numel() == 0) return;
  const auto lo = rows.min().item<std::int64_t>(), hi = rows.max().item<std::int64_t>();
  if (lo < 0 || hi >= c.rows_complete)
    fail(store.dir().string(), "expert '" + c.name + "' has " + std::to_string(c.rows_complete) +
                                   " complete rows; row " + std::to_string(lo < 0 ? lo : hi) +
                                   " was requested (store not finished?)");
}
}  // namespace

torch::Tensor FeatureStore::hidden(int e, const torch::Tensor& rows) const {
  const auto& c = impl_->experts.at(static_cast<std::size_t>(e));
  check_rows(*this, c, rows);
  return impl_->data_t[e].index_select(0, rows.to(torch::kLong)).to(torch::kFloat32);
}

torch::Tensor FeatureStore::hidden(int e, std::int64_t row) const {
  return hidden(e, torch::tensor({row}, torch::kLong)).squeeze(0);
}

torch::Tensor FeatureStore::scores(int e, const torch::Tensor& rows) const {
  const auto& c = impl_->experts.at(static_cast<std::size_t>(e));
  if (!c.has_score) fail(impl_->dir.string(), "expert '" + c.name + "' has no score column");
  check_rows(*this, c, rows);
  return impl_->score_t[e].index_select(0, rows.to(torch::kLong));
}

torch::Tensor FeatureStore::mapped(int e) const { return impl_->data_t.at(static_cast<std::size_t>(e)); }

}  // namespace relmoe
