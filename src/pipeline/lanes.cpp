#include "pipeline/lanes.hpp"

#include "base/error.hpp"
#include "io/hidden_cache.hpp"
#include "models/lexical_expert.hpp"
#include "models/prompt_encoding.hpp"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <unordered_map>

namespace relmoe {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

LaneStats& LaneStats::operator+=(const LaneStats& o) {
  pairs += o.pairs;
  computed += o.computed;
  cache_hits += o.cache_hits;
  truncated += o.truncated;
  oom_splits += o.oom_splits;
  padding += o.padding;
  tokenize_s += o.tokenize_s;
  forward_s += o.forward_s;
  busy_s += o.busy_s;
  return *this;
}

namespace {

class DecoderLane final : public ExpertLane {
 public:
  DecoderLane(std::string name, const std::filesystem::path& dir, const LaneOptions& options);
  torch::Tensor run(const std::vector<const Pair*>& pairs, LaneStats& stats) override;
  std::int64_t width() const override { return expert_.model().config().hidden_size; }
  const LaneStream* stream() const override { return stream_.get(); }

 private:
  // Runs the sequences `ids[j]`, j in `batch`, writing row todo[j] of `rows`.
  void run_batch(const std::vector<std::int64_t>& batch, const std::vector<std::vector<TokenId>>& ids,
                 const std::vector<std::int64_t>& todo, const std::vector<const Pair*>& pairs, float* rows,
                 LaneStats& stats);

  std::string name_;
  Expert expert_;
  LaneOptions options_;
  PromptEncoder prompts_;
  std::unique_ptr<HiddenCache> cache_;
  std::unique_ptr<LaneStream> stream_;
};

class LexicalLane final : public ExpertLane {
 public:
  // Not rounded to LaneOptions::feature_dtype: the store keeps the lexical column in f32
  // (its logit is a margin fusion's output offset).
  explicit LexicalLane(const std::filesystem::path& dir) : expert_(LexicalExpert::load(dir)) {}

  torch::Tensor run(const std::vector<const Pair*>& pairs, LaneStats& stats) override {
    const auto start = Clock::now();
    auto out = expert_.run(pairs).last_hidden;
    const auto n = static_cast<std::int64_t>(pairs.size());
    stats.pairs += n;
    stats.computed += n;
    stats.forward_s += since(start);
    stats.busy_s += since(start);
    return out;
  }
  std::int64_t width() const override { return expert_.width(); }

 private:
  LexicalExpert expert_;
};

DecoderLane::DecoderLane(std::string name, const std::filesystem::path& dir, const LaneOptions& options)
    : name_(std::move(name)),
      expert_(Expert::load(dir, options.expert)),
      options_(options),
      prompts_(PromptEncoder::of(expert_, name_, static_cast<std::size_t>(max_prompt_tokens(
                                                        expert_.model().config(), options.batching.token_budget)))) {
  if (!options.cache_dir.empty())
    cache_ = std::make_unique<HiddenCache>(options.cache_dir, name_, dir, width());
  stream_ = make_lane_stream(expert_.model().device());
}

torch::Tensor DecoderLane::run(const std::vector<const Pair*>& pairs, LaneStats& stats_) {
  const auto start = Clock::now();
  const auto n = static_cast<std::int64_t>(pairs.size());
  auto out = torch::empty({n, width()}, torch::kFloat32);
  float* rows = out.data_ptr<float>();
  // Each distinct prompt is computed once: `source[i]` is the position whose row pair i copies.
  std::vector<std::int64_t> source(pairs.size());
  std::vector<std::int64_t> todo;
  std::vector<std::vector<TokenId>> ids;
  std::vector<HiddenCache::Key> keys;
  std::unordered_map<std::string, std::int64_t> first;
  auto t = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    std::string prompt = prompts_.render(*pairs[i]);
    auto [it, fresh] = first.emplace(prompt, i);
    source[i] = it->second;
    if (!fresh) continue;
    if (cache_) {
      const auto key = HiddenCache::key_of(prompt);
      if (cache_->lookup(key, rows + i * width())) {
        ++stats_.cache_hits;
        continue;
      }
      keys.push_back(key);
    }
    todo.push_back(i);
    ids.push_back(prompts_.encode(*pairs[i], prompt, stats_.truncated));
  }
  stats_.tokenize_s += since(t);

  std::vector<std::int64_t> lengths;
  for (const auto& s : ids) lengths.push_back(static_cast<std::int64_t>(s.size()));
  const auto batches = plan_batches(lengths, options_.batching);
  stats_.padding += padding_of(batches, lengths);
  for (const auto& batch : batches) run_batch(batch, ids, todo, pairs, rows, stats_);
  if (cache_)
    for (std::size_t j = 0; j < todo.size(); ++j) cache_->insert(keys[j], rows + todo[j] * width());
  for (std::int64_t i = 0; i < n; ++i)
    if (source[i] != i) std::memcpy(rows + i * width(), rows + source[i] * width(), sizeof(float) * width());
  stats_.pairs += n;
  stats_.computed += static_cast<std::int64_t>(todo.size());
  if (options_.feature_dtype != torch::kFloat32) out = out.to(options_.feature_dtype).to(torch::kFloat32);
  stats_.busy_s += since(start);
  return out;
}

void DecoderLane::run_batch(const std::vector<std::int64_t>& batch, const std::vector<std::vector<TokenId>>& ids,
                            const std::vector<std::int64_t>& todo, const std::vector<const Pair*>& pairs,
                            float* rows, LaneStats& stats) {
  auto forward = [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::vector<TokenId>> seqs;
    for (auto b = begin; b < end; ++b) seqs.push_back(ids[batch[b]]);
    const auto host = make_batch(seqs, torch::kCPU);
    const TokenBatch staged{stream_->upload(host.ids), stream_->upload(host.mask)};
    ExpertOutput output;
    stats.forward_s += stream_->run([&] {
      if (options_.before_forward) options_.before_forward(end - begin, host.ids.size(1));
      output = expert_.hidden(staged);
    });
    if (const auto bad = first_non_finite_row(output); bad >= 0)
      fail("pair '" + pairs[todo[batch[begin + bad]]]->id + "'", "expert '" + name_ + "' produced a non-finite hidden state");
    const auto hidden = stream_->download(output.last_hidden);
    for (auto b = begin; b < end; ++b)
      std::memcpy(rows + todo[batch[b]] * width(), hidden[b - begin].data_ptr<float>(), sizeof(float) * width());
  };
  auto on_split = [&](std::int64_t n) {
    ++stats.oom_splits;
    spdlog::warn("expert '{}': a batch of {} prompts ran out of memory on {}; running it in halves", name_, n,
                 stream_->device().str());
  };
  try {
    run_splitting_on_oom(static_cast<std::int64_t>(batch.size()), forward, on_split);
  } catch (const std::exception& e) {
    if (!is_out_of_memory(e)) throw;
    std::int64_t longest = 0;
    for (auto j : batch) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(ids[j].size()));
    fail("expert '" + name_ + "'", "ran out of memory on " + stream_->device().str() + " with a single prompt (" +
                                       std::to_string(longest) + " tokens at most): " + one_line(e.what()));
  }
}

}  // namespace

std::unique_ptr<ExpertLane> make_lane(const std::string& name, const std::filesystem::path& dir,
                                      const LaneOptions& options) {
  if (LexicalExpert::is_lexical_directory(dir)) return std::make_unique<LexicalLane>(dir);
  return std::make_unique<DecoderLane>(name, dir, options);
}

LaneWorker::LaneWorker(int threads) : thread_([this, threads] { loop(threads); }) {}

LaneWorker::~LaneWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();  // after an error elsewhere: finish only the job already running
  }
  ready_.notify_one();
  thread_.join();
}

std::future<void> LaneWorker::submit(std::function<void()> job) {
  std::packaged_task<void()> task(std::move(job));
  auto future = task.get_future();
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(task));
  }
  ready_.notify_one();
  return future;
}

void LaneWorker::loop(int threads) {
  // With libtorch's OpenMP backend (Debian's) the team size is a per-thread setting:
  // at::set_num_threads calls omp_set_num_threads, which sets the calling thread's ICV, and
  // OpenBLAS's OpenMP build follows it. libtorch initialises a thread's team size lazily from
  // a global count at its first parallel call, so that is forced first, then overridden here.
  // (With a native thread-pool backend this would resize the one shared pool instead.)
  at::internal::lazy_init_num_threads();
  if (threads > 0) at::set_num_threads(threads);
  while (true) {
    std::packaged_task<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      task = std::move(jobs_.front());
      jobs_.pop_front();
    }
    task();
  }
}

}  // namespace relmoe
