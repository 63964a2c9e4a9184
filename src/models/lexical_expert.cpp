#include "models/lexical_expert.hpp"

#include "base/error.hpp"
#include "base/hash.hpp"
#include "io/checkpoint.hpp"
#include "io/json_file.hpp"
#include "io/safetensors_writer.hpp"
#include "models/config_fields.hpp"

#include <unordered_map>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

// The fold of a training pair: its (market, query) group, so equal queries never straddle folds.
int fold_of(const Pair& p, int folds) {
  return static_cast<int>(hash64(p.market + "\t" + p.query, 0x1E71CA1) % static_cast<std::uint64_t>(folds));
}

std::vector<float> labels_of(const std::vector<const Pair*>& pairs) {
  std::vector<float> y;
  for (const Pair* p : pairs) {
    if (!p->label) fail("pair '" + p->id + "'", "the lexical expert is fitted on labelled pairs only");
    y.push_back(*p->label);
  }
  return y;
}

SparseRows rows_of(const std::vector<const Pair*>& pairs, const std::vector<float>& idf, const LexicalConfig& c) {
  SparseRows rows;
  for (const Pair* p : pairs) {
    const auto v = lexical_vector(*p, idf, c);
    rows.add(v.index, v.value);
  }
  return rows;
}

// One row of the fusion vector: logit, dense statistics, sketch.
void write_row(float* out, double logit, const LexicalVector& v) {
  out[0] = static_cast<float>(logit);
  std::copy(v.stats.begin(), v.stats.end(), out + 1);
  std::copy(v.sketch.begin(), v.sketch.end(), out + 1 + kLexicalStats);
}

nlohmann::json config_json(const LexicalConfig& c, std::int64_t width) {
  return {{"model_type", LexicalExpert::kModelType}, {"min_n", c.min_n}, {"max_n", c.max_n},
          {"hash_bits", c.hash_bits}, {"max_chars", c.max_chars}, {"sketch", c.sketch},
          {"folds", c.folds}, {"max_iter", c.max_iter}, {"l2", c.l2}, {"width", width}};
}

}  // namespace

LexicalExpert::LexicalExpert(LexicalConfig config, std::vector<float> idf, LinearModel model)
    : config_(config), idf_(std::move(idf)), model_(std::move(model)) {}

LexicalExpert LexicalExpert::fit(const std::vector<const Pair*>& train, const LexicalConfig& config) {
  if (train.empty()) fail("lexical expert", "no training pairs");
  auto idf = fit_idf(train, config);
  const auto rows = rows_of(train, idf, config);
  auto model = fit_logistic(rows, labels_of(train), {}, config.dim(), {config.l2, config.max_iter});
  return LexicalExpert(config, std::move(idf), std::move(model));
}

ExpertOutput LexicalExpert::run(const std::vector<const Pair*>& pairs) const {
  const auto n = static_cast<std::int64_t>(pairs.size());
  auto hidden = torch::empty({n, width()}, torch::kFloat32);
  auto score = torch::empty({n}, torch::kFloat32);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto v = lexical_vector(*pairs[static_cast<std::size_t>(i)], idf_, config_);
    const double logit = model_.logit(v.index.data(), v.value.data(), v.index.size());
    write_row(hidden.data_ptr<float>() + i * width(), logit, v);
    score[i] = static_cast<float>(logit);
  }
  return {hidden, score};
}

void LexicalExpert::save(const fs::path& dir) const {
  fs::create_directories(dir);
  const auto dim = config_.dim();
  SafetensorsWriter writer(dir / "model.safetensors",
                           {{"weight", "F32", {dim}}, {"bias", "F32", {1}}, {"idf", "F32", {dim}}});
  writer.write(model_.weight.data(), model_.weight.size() * sizeof(float));
  writer.write(&model_.bias, sizeof(float));
  writer.write(idf_.data(), idf_.size() * sizeof(float));
  writer.finish();
  write_json_file(dir / "config.json", config_json(config_, width()));  // last: the directory is complete
}

LexicalExpert LexicalExpert::load(const fs::path& dir) {
  const auto path = dir / "config.json";
  const auto j = read_json_file(path);
  if (!j.is_object()) fail(path.string(), "not a lexical expert config: expected a JSON object");
  const ConfigFields f(j, path.string());
  LexicalConfig c;
  // The bounds keep the work per pair and the model's size bounded whatever the file says.
  c.min_n = static_cast<int>(f.int_in("min_n", 1, LexicalConfig::kMaxN));
  c.max_n = static_cast<int>(f.int_in("max_n", c.min_n, LexicalConfig::kMaxN));
  c.hash_bits = static_cast<int>(f.int_in("hash_bits", 8, 26));
  c.max_chars = static_cast<int>(f.int_in("max_chars", 1, LexicalConfig::kMaxChars));
  c.sketch = static_cast<int>(f.int_in("sketch", 1, LexicalConfig::kMaxSketch));
  const auto weights = Checkpoint::open(dir / "model.safetensors");
  const auto dim = c.dim();
  auto vec = [&](const std::string& name, std::int64_t n) {
    const auto t = weights.get(name, torch::kFloat32, torch::kCPU, std::vector<std::int64_t>{n}).contiguous();
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + n);
  };
  LinearModel model{vec("weight", dim), vec("bias", 1)[0]};
  return LexicalExpert(c, vec("idf", dim), std::move(model));
}

CrossFitted cross_fit(const std::vector<Pair>& pairs, const std::vector<Pair>& train, const LexicalConfig& c) {
  if (c.folds < 2) fail("lexical expert", "cross-fitting needs at least 2 folds");
  if (train.empty()) fail("lexical expert", "no training pairs");
  std::vector<const Pair*> train_ptrs;
  for (const auto& p : train) train_ptrs.push_back(&p);
  auto idf = fit_idf(train_ptrs, c);
  const auto rows = rows_of(train_ptrs, idf, c);
  const auto labels = labels_of(train_ptrs);
  // The final model: what LexicalExpert::fit gives, from the rows the folds use as well.
  auto final_model = fit_logistic(rows, labels, {}, c.dim(), {c.l2, c.max_iter});
  CrossFitted out{{}, LexicalExpert(c, std::move(idf), std::move(final_model))};
  // Out-of-fold logits of the training pairs, by id.
  std::unordered_map<std::string, double> oof;
  std::vector<std::vector<std::size_t>> members(static_cast<std::size_t>(c.folds));
  for (std::size_t i = 0; i < train.size(); ++i) members[static_cast<std::size_t>(fold_of(train[i], c.folds))].push_back(i);
  for (int f = 0; f < c.folds; ++f) {
    std::vector<std::size_t> rest;
    for (int g = 0; g < c.folds; ++g)
      if (g != f) rest.insert(rest.end(), members[g].begin(), members[g].end());
    if (members[f].empty()) continue;
    if (rest.empty()) fail("lexical expert", "cross-fitting needs training pairs of at least 2 (market, query) groups");
    const auto model = fit_logistic(rows, labels, rest, c.dim(), {c.l2, c.max_iter});
    for (const auto i : members[f]) oof[train[i].id] = model.logit(rows, i);
  }
  std::vector<const Pair*> ptrs;
  for (const auto& p : pairs) ptrs.push_back(&p);
  out.output = out.model.run(ptrs);
  auto* hidden = out.output.last_hidden.data_ptr<float>();
  auto* score = out.output.score.data_ptr<float>();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto it = oof.find(pairs[i].id);
    if (it == oof.end()) continue;
    hidden[i * static_cast<std::size_t>(out.model.width())] = static_cast<float>(it->second);
    score[i] = static_cast<float>(it->second);
  }
  return out;
}

}  // namespace relmoe
