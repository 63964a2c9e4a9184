#include "pipeline/embed_features.hpp"

#include "base/error.hpp"
#include "base/progress.hpp"
#include "base/stopwatch.hpp"
#include "io/feature_store.hpp"
#include "models/open_expert.hpp"
#include "pipeline/hidden_state_engine.hpp"
#include "runtime/compute.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <unordered_set>

namespace relmoe {
namespace {

std::vector<const Pair*> window_of(const std::vector<Pair>& pairs, std::size_t begin, std::size_t end) {
  std::vector<const Pair*> out;
  for (std::size_t r = begin; r < end; ++r) out.push_back(&pairs[r]);
  return out;
}

// Embeds rows from the first one not committed, one window at a time (its prompts sorted by
// length and batched by the engine); returns the seconds per pair that took (prompt encoding +
// forward), or 0 when every row was done before.
double embed_expert(const ExpertRecord& spec, HiddenStateEngine& engine, const std::vector<Pair>& pairs,
                    FeatureStoreWriter& writer, const EmbedOptions& options) {
  const auto rows = static_cast<std::size_t>(writer.rows());
  const std::size_t first = static_cast<std::size_t>(writer.next_row(spec.name));
  std::size_t row = first;
  Progress progress("embed " + spec.name, rows);
  progress.set(row);
  LaneStats stats;
  while (row < rows) {
    const std::size_t end = std::min(rows, row + static_cast<std::size_t>(options.window));
    const auto out = engine.run(window_of(pairs, row, end), stats);
    writer.append(spec.name, out.last_hidden, out.score);
    writer.commit();
    row = end;
    progress.set(row);
  }
  progress.finish();
  if (stats.truncated > 0)
    spdlog::warn("embed {}: {} prompts were longer than {} tokens and lost their middle", spec.name, stats.truncated,
                 engine.prompt_tokens());
  return row > first ? stats.busy_s / static_cast<double>(row - first) : 0.0;
}

// The cost of a column filled before costs were recorded: one window of pairs, timed.
double measure_cost(HiddenStateEngine& engine, const std::vector<Pair>& pairs, const EmbedOptions& options) {
  const auto n = std::min(pairs.size(), static_cast<std::size_t>(options.window));
  LaneStats stats;
  engine.run(window_of(pairs, 0, n), stats);
  return stats.busy_s / static_cast<double>(n);
}

// Fits the lexical expert (cross-fitted for the training rows), saves it beside the store and
// appends its column from the first row not yet committed.
void embed_lexical(const ExpertRecord& spec, const std::vector<Pair>& pairs, const std::vector<std::string>& ids,
                   const std::filesystem::path& store, const EmbedOptions& options) {
  if (options.lexical_train.empty())
    fail("--expert " + spec.name + "=" + kBuiltinLexical, "needs the labelled pairs it is fitted on (--train)");
  const auto dir = std::filesystem::absolute(store / (spec.name + ".lexical")).lexically_normal();
  // Always f32: its first value is the expert's logit, which a margin fusion adds to its output
  // and which must rank exactly as the score column does (f16 would round ties into it).
  const ExpertColumn column{{spec.name, dir, 1 + kLexicalStats + options.lexical.sketch}, torch::kFloat32, true, 0};
  FeatureStoreWriter writer(store, ids, {column});
  const auto row = writer.next_row(spec.name);
  if (row == writer.rows()) return;
  const auto start = SteadyClock::now();
  auto fitted = cross_fit(pairs, options.lexical_train, options.lexical);
  fitted.model.save(dir);
  const auto n = writer.rows() - row;
  writer.append(spec.name, fitted.output.last_hidden.narrow(0, row, n), fitted.output.score.narrow(0, row, n));
  // The cost of serving it: the fitted model run on (up to) one window of pairs, fitting excluded.
  std::vector<const Pair*> sample;
  for (std::size_t i = 0; i < std::min(pairs.size(), std::size_t{2048}); ++i) sample.push_back(&pairs[i]);
  const auto timed = SteadyClock::now();
  fitted.model.run(sample);
  writer.set_cost(spec.name, seconds_since(timed) / static_cast<double>(sample.size()));
  writer.commit();
  spdlog::info("embed {}: lexical expert fitted on {} pairs, {} rows in {:.1f} s", spec.name,
               options.lexical_train.size(), n, seconds_since(start));
}

double store_cost(const std::filesystem::path& store, const std::string& expert) {
  const auto s = FeatureStore::open(store);
  return s.experts()[s.expert_index(expert)].cost;
}

}  // namespace

void embed_features(const std::vector<ExpertRecord>& experts, const std::vector<Pair>& pairs,
                    const std::filesystem::path& store, const EmbedOptions& options) {
  if (experts.empty()) fail("--expert", "at least one expert is needed");
  if (pairs.empty()) fail("--data", "no pairs to embed");
  if (options.batch < 1 || options.window < 1) fail("--batch", "must be at least 1");
  std::unordered_set<std::string> names;
  for (const auto& e : experts)
    if (!names.insert(e.name).second) fail("--expert", "name '" + e.name + "' given twice");
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  for (const auto& p : pairs) {
    if (!seen.insert(p.id).second) fail("pair '" + p.id + "'", "id appears more than once in the data");
    ids.push_back(p.id);
  }
  // One expert at a time, so only one set of weights is resident; the store keeps the columns
  // of experts already done (and resumes a partly done one).
  for (const auto& spec : experts) {
    if (spec.dir == kBuiltinLexical) {
      embed_lexical(spec, pairs, ids, store, options);
      continue;
    }
    auto opened = open_expert(spec.dir, {options.run_dtype, options.device, options.allow_unused_tensors});
    if (std::holds_alternative<LexicalExpert>(opened))
      fail("--expert " + spec.name + "=" + spec.dir.string(),
           "is a fitted lexical expert; embed fits its own: --expert " + spec.name + "=" + kBuiltinLexical + " --train TRAIN");
    HiddenStateOptions engine_options;
    engine_options.batching = {BatchPlanOptions{}.token_budget, options.batch, true};
    engine_options.prompt_tokens = options.prompt_tokens;
    engine_options.scores = true;
    HiddenStateEngine engine(spec.name, spec.dir, std::move(std::get<Expert>(opened)), engine_options);
    ExpertColumn column{{spec.name, std::filesystem::absolute(spec.dir).lexically_normal(), engine.width()},
                        options.store_dtype, engine.expert().answer_ids().has_value(), 0};
    column.prompt_tokens = engine.prompt_tokens();
    column.run_dtype = dtype_name(engine.expert().model().dtype());
    FeatureStoreWriter writer(store, ids, {column});
    double cost = embed_expert(spec, engine, pairs, writer, options);
    if (cost == 0 && store_cost(store, spec.name) == 0) cost = measure_cost(engine, pairs, options);
    if (cost > 0) {
      writer.set_cost(spec.name, cost);
      writer.commit();
    }
  }
}

}  // namespace relmoe
