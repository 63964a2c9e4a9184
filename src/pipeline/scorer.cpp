#include "pipeline/scorer.hpp"

#include "base/error.hpp"
#include "base/progress.hpp"
#include "base/stopwatch.hpp"
#include "moe/model_experts.hpp"
#include "moe/model_io.hpp"
#include "pipeline/chunk_reader.hpp"
#include "pipeline/score_output.hpp"
#include "runtime/compute.hpp"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <numeric>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

namespace relmoe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A chunk on its way through the pipeline: read, routed, expert hidden states, fused.
struct Work {
  Chunk chunk;
  std::vector<std::int64_t> kept;  // indices into chunk.pairs that were routed (market known)
  Gates gates;
  std::vector<std::vector<const Pair*>> queue;  // per expert: its pairs, in chunk order
  std::vector<torch::Tensor> hidden;            // per expert: [queue size, width]
  std::vector<std::vector<std::int64_t>> row;   // per expert: routed pair b's row in hidden (-1: not routed)
  std::vector<LaneStats> lane_stats;            // per expert: what its lane did for this chunk
  std::vector<std::future<void>> pending;
  double read_s = 0, route_s = 0;
  bool any = false;  // false: the input is exhausted
};

json run_description(const ScoreJob& job, const ScoreOptions& o, const std::vector<ExpertRecord>& experts) {
  json ex = json::array();
  for (const auto& e : experts)
    ex.push_back({{"name", e.name}, {"dir", e.dir.string()}, {"prompt_tokens", e.prompt_tokens}, {"run_dtype", e.run_dtype}});
  json columns = json::object();
  for (const auto& [k, v] : job.columns) columns[k] = v;
  return {{"input", fs::absolute(job.input).lexically_normal().string()},
          {"input_bytes", fs::file_size(job.input)},
          {"model", fs::absolute(job.model).lexically_normal().string()},
          {"experts", ex},
          {"shard", {o.shard.index, o.shard.count}},
          {"settings",
           {{"chunk", o.chunk},
            {"token_budget", o.batching.token_budget},
            {"max_batch", o.batching.max_batch},
            {"sort_by_length", o.batching.sort_by_length},
            {"batch_invariant", o.batch_invariant},
            {"feature_dtype", dtype_name(o.feature_dtype)},
            {"run_dtype", o.run_dtype ? dtype_name(*o.run_dtype) : "as embedded"},
            {"with_experts", o.with_experts},
            {"budget", o.budget ? json(*o.budget) : json(nullptr)},
            {"skip_bad", o.skip_bad},
            {"columns", columns},
            {"format", job.format == PairFormat::Auto ? "auto" : job.format == PairFormat::Tsv ? "tsv"
                       : job.format == PairFormat::Csv ? "csv" : "jsonl"}}}};
}

// The dtype expert `e` runs in: the one asked for, else the one embed recorded, else f32. A dtype
// other than embed's gives features the MoE was not trained on: said once, not refused (a GPU
// run in bf16 of experts embedded in f32 is a choice).
torch::ScalarType run_dtype_of(const ExpertRecord& e, const std::optional<torch::ScalarType>& asked) {
  if (!asked) return e.run_dtype.empty() ? torch::kFloat32 : parse_dtype(e.run_dtype);
  if (!e.run_dtype.empty() && dtype_name(*asked) != e.run_dtype)
    spdlog::warn("expert '{}' was embedded in {} and now runs in {}: its features differ from the ones the model "
                 "was trained on", e.name, e.run_dtype, dtype_name(*asked));
  return *asked;
}

RouterBatch whole_batch(const FeatureBags& bags, const std::vector<std::int64_t>& markets) {
  std::vector<std::int64_t> all(markets.size());
  std::iota(all.begin(), all.end(), 0);
  RouterBatch batch;
  std::tie(batch.ids, batch.offsets) = bags.gather(all);
  batch.markets = torch::tensor(markets, torch::kLong);
  return batch;
}

std::vector<RouterBatch> single_pair_batches(const FeatureBags& bags, const std::vector<std::int64_t>& markets) {
  std::vector<RouterBatch> rows(markets.size());
  for (std::size_t i = 0; i < markets.size(); ++i) {
    std::tie(rows[i].ids, rows[i].offsets) = bags.gather({static_cast<std::int64_t>(i)});
    rows[i].markets = torch::tensor({markets[i]}, torch::kLong);
  }
  return rows;
}

// Runs `job` on `worker`, or right here when there is none (serial mode).
std::future<void> run_on(LaneWorker* worker, std::function<void()> job) {
  if (worker) return worker->submit(std::move(job));
  std::packaged_task<void()> task(std::move(job));
  auto f = task.get_future();
  task();
  return f;
}

class Scorer {
 public:
  Scorer(const ScoreJob& job, const ScoreOptions& options) : job_(job), o_(options), model_(load_model(job.model)) {
    if (o_.budget) model_->set_budget(*o_.budget);
    const auto& c = model_->config;
    experts_ = resolve_experts(job.model, c.experts, job.expert_dirs);
    LaneOptions lo;
    lo.expert.allow_unused_tensors = o_.allow_unused_tensors;
    lo.hidden.batching = o_.batching;
    lo.hidden.cache_dir = o_.cache;
    lo.feature_dtype = o_.feature_dtype;
    if (o_.batch_invariant) {
      lo.hidden.batching.max_batch = 1;  // each prompt alone at its own length
      // Batched runs' hidden states differ in their last bits: they are cached apart.
      if (!lo.hidden.cache_dir.empty()) lo.hidden.cache_dir /= "batch-invariant";
    }
    for (std::size_t e = 0; e < experts_.size(); ++e) {
      lo.expert.device = o_.devices[e % o_.devices.size()];
      lo.expert.dtype = run_dtype_of(experts_[e], o_.run_dtype);
      if (o_.random_weights_seed) lo.expert.random_weights_seed = *o_.random_weights_seed + e;
      lo.hidden.prompt_tokens = experts_[e].prompt_tokens > 0 ? experts_[e].prompt_tokens : kDefaultPromptTokens;
      lanes_.push_back(make_lane(experts_[e].name, experts_[e].dir, lo));
      if (lanes_.back()->width() != c.widths[e])
        fail(experts_[e].dir.string(), "expert '" + experts_[e].name + "' has hidden size " +
                                           std::to_string(lanes_.back()->width()) + " but the model was trained on " +
                                           std::to_string(c.widths[e]));
    }
    stats_.experts = c.experts;
    stats_.lanes.assign(lanes_.size(), {});
  }

  ScoreStats run() {
    if (o_.restart) remove_score_output(job_.output);
    ScoreOutput out(job_.output, run_description(job_, o_, experts_), o_.resume, o_.with_experts);
    if (out.finished()) {
      stats_.already_finished = true;
      return stats_;
    }
    try {
      score(out);
    } catch (...) {
      out.abandon();  // a run that committed nothing leaves nothing behind
      throw;
    }
    return stats_;
  }

 private:
  void score(ScoreOutput& out) {
    const auto start = SteadyClock::now();
    ChunkReader reader(job_.input, job_.columns, job_.format, o_.shard, o_.chunk, o_.skip_bad);
    if (out.committed().chunks > 0) {
      check_read_point(job_.input, job_.columns, job_.format, out.committed().input,
                       manifest_path(job_.output).string() + " (--restart starts over)");
      reader.seek(out.committed().input.end, out.committed().chunks);
    }
    const std::uint64_t begin = out.committed().input.end.offset, bytes = fs::file_size(job_.input);
    std::optional<Progress> progress;
    if (o_.progress) progress.emplace("score", static_cast<std::size_t>(bytes - std::min(begin, bytes)));

    // Parallel: one worker per lane plus one that reads and routes ahead. Serial: none.
    const bool parallel = o_.mode == LaneMode::parallel;
    const int total = resolve_threads(o_.threads);
    stats_.lane_threads = parallel ? std::max(1, total / static_cast<int>(lanes_.size())) : total;
    at::internal::lazy_init_num_threads();  // this thread keeps its count when workers set theirs
    std::vector<std::unique_ptr<LaneWorker>> workers;
    std::unique_ptr<LaneWorker> read_worker;
    if (parallel) {
      for (std::size_t e = 0; e < lanes_.size(); ++e) workers.push_back(std::make_unique<LaneWorker>(stats_.lane_threads));
      read_worker = std::make_unique<LaneWorker>(1);
    }
    auto lane_worker = [&](std::size_t e) { return parallel ? workers[e].get() : nullptr; };

    auto read_next = [&] {
      auto w = std::make_shared<Work>();
      auto f = run_on(read_worker.get(), [this, &reader, w] { read_and_route(reader, *w); });
      return std::make_pair(w, std::move(f));
    };
    auto next = read_next();
    std::deque<std::shared_ptr<Work>> in_flight;
    ReadPoint position = out.committed().input;
    std::int64_t chunks = out.committed().chunks;
    bool exhausted = false;
    while (true) {
      while (!exhausted && static_cast<int>(in_flight.size()) < (parallel ? o_.in_flight : 1)) {
        next.second.get();
        auto w = next.first;
        if (!w->any) {
          exhausted = true;
          break;
        }
        dispatch(w, lane_worker);
        in_flight.push_back(w);
        next = read_next();
      }
      if (in_flight.empty()) break;
      auto w = in_flight.front();
      in_flight.pop_front();
      for (auto& f : w->pending) f.get();
      fuse_and_write(*w, out);
      position = w->chunk.end;
      chunks = w->chunk.index + 1;
      const auto t = SteadyClock::now();
      stats_.wall_s = seconds_since(start);
      out.commit(position, chunks, stats_json());
      stats_.commit_s += seconds_since(t);
      if (progress) {
        char status[96];
        std::snprintf(status, sizeof status, "%lld pairs, %.1f pairs/s", static_cast<long long>(stats_.pairs),
                      stats_.pairs / std::max(1e-9, seconds_since(start)));
        progress->status(status);
        progress->set(static_cast<std::size_t>(position.end.offset - std::min(begin, position.end.offset)));
      }
    }
    stats_.wall_s = seconds_since(start);
    out.finish(position, chunks, stats_json());
    if (progress) progress->finish();
  }

  // Reader side (its own worker in parallel mode): the next chunk and its routing.
  void read_and_route(ChunkReader& reader, Work& w) {
    auto t = SteadyClock::now();
    w.any = reader.next(w.chunk);
    w.read_s = seconds_since(t);
    if (!w.any) return;
    t = SteadyClock::now();
    torch::InferenceMode guard;
    const auto& c = model_->config;
    FeatureBags bags;
    std::vector<std::int64_t> markets;
    for (std::size_t i = 0; i < w.chunk.pairs.size(); ++i) {
      const Pair& p = w.chunk.pairs[i];
      std::int64_t market = -1;
      try {
        market = c.market_index(p.market);
      } catch (const Error& e) {
        const std::string where = job_.input.string() + ":" + std::to_string(w.chunk.lines[i]);
        if (!o_.skip_bad) fail(where, one_line(e.what()));
        w.chunk.rejected.push_back({w.chunk.lines[i], p.id, one_line(e.what())});
        continue;
      }
      w.kept.push_back(static_cast<std::int64_t>(i));
      markets.push_back(market);
      bags.add(p.query, p.item, c.hashing);
    }
    w.queue.assign(lanes_.size(), {});
    w.hidden.assign(lanes_.size(), {});
    w.lane_stats.assign(lanes_.size(), {});
    if (!w.kept.empty()) {
      w.gates = o_.batch_invariant ? model_->gates_each(single_pair_batches(bags, markets))
                                   : model_->gates(whole_batch(bags, markets), false);
      const auto active = w.gates.active.to(torch::kCPU).contiguous();
      const auto a = active.accessor<bool, 2>();
      w.row.assign(lanes_.size(), std::vector<std::int64_t>(w.kept.size(), -1));
      for (std::int64_t b = 0; b < a.size(0); ++b)
        for (std::int64_t e = 0; e < a.size(1); ++e)
          if (a[b][e]) {
            w.row[e][b] = static_cast<std::int64_t>(w.queue[e].size());
            w.queue[e].push_back(&w.chunk.pairs[w.kept[b]]);
          }
    }
    w.route_s = seconds_since(t);
  }

  void dispatch(const std::shared_ptr<Work>& w, const std::function<LaneWorker*(std::size_t)>& worker) {
    for (std::size_t e = 0; e < lanes_.size(); ++e) {
      if (w->queue[e].empty()) continue;
      ExpertLane* lane = lanes_[e].get();
      w->pending.push_back(run_on(worker(e), [w, lane, e] { w->hidden[e] = lane->run(w->queue[e], w->lane_stats[e]); }));
    }
  }

  void fuse_and_write(Work& w, ScoreOutput& out) {
    auto t = SteadyClock::now();
    std::vector<float> scores;
    std::vector<std::string> chosen(w.kept.size());
    if (!w.kept.empty()) {
      torch::InferenceMode guard;
      const auto b = static_cast<std::int64_t>(w.kept.size());
      const HiddenFetch fetch = [&w](int e, const torch::Tensor& positions) {
        if (positions.size(0) == w.hidden[e].size(0)) return w.hidden[e];  // all the routed pairs, in order
        const auto wanted = positions.to(torch::kCPU, torch::kLong).contiguous();
        std::vector<std::int64_t> rows;
        for (std::int64_t j = 0; j < wanted.size(0); ++j) {
          const auto r = w.row[e][static_cast<std::size_t>(wanted.data_ptr<std::int64_t>()[j])];
          if (r < 0) fail("relmoe score", "fusion asked for a pair that was not routed to the expert");
          rows.push_back(r);
        }
        return w.hidden[e].index_select(0, torch::tensor(rows, torch::kLong));
      };
      const auto logits = (o_.batch_invariant ? model_->classify_each(w.gates, fetch) : model_->classify(w.gates, b, fetch))
                              .to(torch::kCPU, torch::kFloat32)
                              .contiguous();
      scores.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + b);
      for (std::int64_t i = 0; i < b; ++i)
        if (!std::isfinite(scores[i]))
          fail(job_.input.string() + ":" + std::to_string(w.chunk.lines[w.kept[i]]),
               "pair '" + w.chunk.pairs[w.kept[i]].id + "' got a non-finite score");
      if (o_.with_experts) {
        const auto active = w.gates.active.to(torch::kCPU).contiguous();
        const auto a = active.accessor<bool, 2>();
        for (std::int64_t i = 0; i < b; ++i)
          for (std::int64_t e = 0; e < a.size(1); ++e)
            if (a[i][e]) chosen[i] += (chosen[i].empty() ? "" : ",") + stats_.experts[e];
      }
    }
    stats_.fuse_s += seconds_since(t);
    // Rows and rejects in input order (rejects are reported by line in their own file).
    for (std::size_t i = 0; i < w.kept.size(); ++i) out.add_row(w.chunk.pairs[w.kept[i]].id, scores[i], chosen[i]);
    std::sort(w.chunk.rejected.begin(), w.chunk.rejected.end(),
              [](const Rejected& a, const Rejected& b) { return a.line < b.line; });
    for (const auto& r : w.chunk.rejected) out.add_rejected(r);
    stats_.pairs += static_cast<std::int64_t>(w.kept.size());
    stats_.rejected += static_cast<std::int64_t>(w.chunk.rejected.size());
    stats_.chunks += 1;
    stats_.read_s += w.read_s;
    stats_.route_s += w.route_s;
    for (std::size_t e = 0; e < lanes_.size(); ++e) stats_.lanes[e] += w.lane_stats[e];
  }

  json stats_json() const { return stats_.to_json(); }

  const ScoreJob& job_;
  ScoreOptions o_;
  MoeModel model_;
  std::vector<ExpertRecord> experts_;
  std::vector<std::unique_ptr<ExpertLane>> lanes_;
  ScoreStats stats_;
};

}  // namespace

LaneMode parse_lane_mode(const std::string& s) {
  if (s == "parallel") return LaneMode::parallel;
  if (s == "serial") return LaneMode::serial;
  fail("--mode", "'" + s + "' is not parallel or serial");
}

double ScoreStats::tokens_per_s() const {
  return wall_s > 0 ? static_cast<double>(padding().real) / wall_s : 0.0;
}

PaddingStats ScoreStats::padding() const {
  PaddingStats p;
  for (const auto& l : lanes) p += l.padding;
  return p;
}

json ScoreStats::to_json() const {
  json lanes_json = json::array();
  std::int64_t routed = 0;
  for (const auto& l : lanes) routed += l.pairs;
  for (std::size_t e = 0; e < lanes.size(); ++e) {
    const auto& l = lanes[e];
    lanes_json.push_back({{"expert", experts[e]},
                          {"pairs", l.pairs},
                          {"load", routed > 0 ? static_cast<double>(l.pairs) / routed : 0.0},
                          {"computed", l.computed},
                          {"cache_hits", l.cache_hits},
                          {"truncated", l.truncated},
                          {"oom_splits", l.oom_splits},
                          {"tokens", l.padding.real},
                          {"padded_tokens", l.padding.padded},
                          {"batches", l.padding.batches},
                          {"busy_s", l.busy_s},
                          {"tokenize_s", l.tokenize_s},
                          {"forward_s", l.forward_s}});
  }
  const auto p = padding();
  std::int64_t truncated = 0;
  for (const auto& l : lanes) truncated += l.truncated;
  return {{"pairs", pairs},
          {"truncated_prompts", truncated},
          {"rejected", rejected},
          {"chunks", chunks},
          {"wall_s", wall_s},
          {"pairs_per_s", pairs_per_s()},
          {"tokens_per_s", tokens_per_s()},
          {"padding_fraction", p.fraction()},
          {"lane_threads", lane_threads},
          {"stages_s", {{"read", read_s}, {"route", route_s}, {"fuse", fuse_s}, {"commit", commit_s}}},
          {"experts", lanes_json}};
}

std::string ScoreStats::summary() const {
  std::ostringstream s;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "scored %lld pairs (%lld rejected) in %.2f s: %.1f pairs/s, %.0f tokens/s, padding %.1f%%\n",
                static_cast<long long>(pairs), static_cast<long long>(rejected), wall_s, pairs_per_s(), tokens_per_s(),
                100.0 * padding().fraction());
  s << buf;
  std::int64_t truncated = 0;
  for (const auto& l : lanes) truncated += l.truncated;
  if (truncated > 0)
    s << truncated << " prompts were longer than their expert takes and lost their middle (see docs/PIPELINE.md)\n";
  std::snprintf(buf, sizeof buf, "stages: read %.2f s, route %.2f s, fuse %.2f s, commit %.2f s; %d threads per lane\n",
                read_s, route_s, fuse_s, commit_s, lane_threads);
  s << buf;
  std::int64_t routed = 0;
  for (const auto& l : lanes) routed += l.pairs;
  for (std::size_t e = 0; e < lanes.size(); ++e) {
    const auto& l = lanes[e];
    std::snprintf(buf, sizeof buf,
                  "  %-12s load %5.1f%% (%lld pairs, %lld run, %lld cached), busy %.2f s (tokenize %.2f, forward %.2f)\n",
                  experts[e].c_str(), routed > 0 ? 100.0 * l.pairs / routed : 0.0, static_cast<long long>(l.pairs),
                  static_cast<long long>(l.computed), static_cast<long long>(l.cache_hits), l.busy_s, l.tokenize_s,
                  l.forward_s);
    s << buf;
  }
  return s.str();
}

std::vector<ExpertRecord> resolve_experts(const fs::path& model_dir, const std::vector<std::string>& names,
                                        const std::vector<ExpertRecord>& overrides) {
  std::map<std::string, ExpertRecord> listed;
  for (const auto& e : read_model_experts(model_dir))
    if (!e.dir.empty()) listed[e.name] = e;
  for (const auto& o : overrides) {
    if (std::find(names.begin(), names.end(), o.name) == names.end())
      fail("--expert " + o.name, "the model has no expert of that name");
    auto& e = listed[o.name];
    e.name = o.name;
    e.dir = o.dir;  // the same expert, moved: embed's record of how it ran stays
  }
  std::vector<ExpertRecord> out;
  for (const auto& n : names) {
    auto it = listed.find(n);
    if (it == listed.end())
      fail((model_dir / "experts.json").string(),
           "gives no directory for expert '" + n + "'; pass --expert " + n + "=DIR");
    auto e = it->second;
    e.dir = fs::absolute(e.dir).lexically_normal();
    out.push_back(std::move(e));
  }
  return out;
}

ScoreStats score_pairs(const ScoreJob& job, const ScoreOptions& options) {
  if (options.devices.empty()) fail("--device", "no device given");
  Scorer scorer(job, options);
  return scorer.run();
}

}  // namespace relmoe
