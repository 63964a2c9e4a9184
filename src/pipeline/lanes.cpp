#include "pipeline/lanes.hpp"

#include "base/stopwatch.hpp"
#include "models/open_expert.hpp"

#include <ATen/Parallel.h>

#include <chrono>

namespace relmoe {

namespace {

class DecoderLane final : public ExpertLane {
 public:
  DecoderLane(std::string name, const std::filesystem::path& dir, Expert expert, const LaneOptions& options)
      : engine_(std::move(name), dir, std::move(expert), options.hidden), feature_dtype_(options.feature_dtype) {}

  torch::Tensor run(const std::vector<const Pair*>& pairs, LaneStats& stats) override {
    auto out = engine_.run(pairs, stats).last_hidden;
    if (feature_dtype_ != torch::kFloat32) out = out.to(feature_dtype_).to(torch::kFloat32);
    return out;
  }
  std::int64_t width() const override { return engine_.width(); }
  const LaneStream* stream() const override { return &engine_.stream(); }

 private:
  HiddenStateEngine engine_;
  torch::ScalarType feature_dtype_;
};

class LexicalLane final : public ExpertLane {
 public:
  // Not rounded to LaneOptions::feature_dtype: the store keeps the lexical column in f32
  // (its logit is a margin fusion's output offset).
  explicit LexicalLane(LexicalExpert expert) : expert_(std::move(expert)) {}

  torch::Tensor run(const std::vector<const Pair*>& pairs, LaneStats& stats) override {
    const auto start = SteadyClock::now();
    auto out = expert_.run(pairs).last_hidden;
    const auto n = static_cast<std::int64_t>(pairs.size());
    stats.pairs += n;
    stats.computed += n;
    stats.forward_s += seconds_since(start);
    stats.busy_s += seconds_since(start);
    return out;
  }
  std::int64_t width() const override { return expert_.width(); }

 private:
  LexicalExpert expert_;
};

}  // namespace

std::unique_ptr<ExpertLane> make_lane(const std::string& name, const std::filesystem::path& dir,
                                      const LaneOptions& options) {
  auto expert = open_expert(dir, options.expert);
  if (auto* lexical = std::get_if<LexicalExpert>(&expert)) return std::make_unique<LexicalLane>(std::move(*lexical));
  return std::make_unique<DecoderLane>(name, dir, std::move(std::get<Expert>(expert)), options);
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
