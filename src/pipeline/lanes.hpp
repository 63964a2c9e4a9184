#pragma once
// Expert lanes: each expert of the MoE as a worker that turns a queue of pairs into hidden
// states. A decoder's lane is the hidden-state engine (pipeline/hidden_state_engine.hpp: prompts,
// cache, batches, forward, the same one `relmoe embed` runs); a lexical expert's lane computes its
// features. Decoder states are rounded to the feature dtype the MoE was trained on (the store's
// f16 by default).
//
// Concurrency: a LaneWorker is a thread with a FIFO of jobs. In parallel mode every lane gets
// one, with its own intra-op thread count (libtorch's OpenMP team size is per calling
// thread), so the experts' forwards overlap with each other, with reading/routing of the next
// chunk and with fusion of the previous one. On CUDA each lane can hold its own device.
#include "io/pair.hpp"
#include "pipeline/hidden_state_engine.hpp"
#include "runtime/accelerator.hpp"

#include <torch/types.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace relmoe {

struct LaneOptions {
  ExpertOptions expert;
  HiddenStateOptions hidden;                          // batching, prompt cut, cache, fault injection
  torch::ScalarType feature_dtype = torch::kFloat16;  // hidden states rounded to this (f16 or f32)
};

// One expert of the MoE as the scorer runs it: pairs in, hidden states out.
class ExpertLane {
 public:
  virtual ~ExpertLane() = default;
  // Hidden states [pairs.size(), width] f32 on the CPU, in the order of `pairs`, rounded to the
  // feature dtype; adds what the call did to `stats`.
  virtual torch::Tensor run(const std::vector<const Pair*>& pairs, LaneStats& stats) = 0;
  virtual std::int64_t width() const = 0;
  // The stream the lane's device work goes through; null for a lane without device work.
  virtual const LaneStream* stream() const { return nullptr; }
};

// The lane of the expert at `dir`: a decoder checkpoint or GGUF file, or a fitted lexical expert
// (models/open_expert.hpp decides which).
std::unique_ptr<ExpertLane> make_lane(const std::string& name, const std::filesystem::path& dir,
                                      const LaneOptions& options);

// A thread running submitted jobs in order. `threads` > 0 sets the intra-op thread count of
// the worker's own torch calls.
class LaneWorker {
 public:
  explicit LaneWorker(int threads);
  ~LaneWorker();
  LaneWorker(const LaneWorker&) = delete;
  LaneWorker& operator=(const LaneWorker&) = delete;

  // The future carries the job's exception, if any.
  std::future<void> submit(std::function<void()> job);

 private:
  void loop(int threads);

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace relmoe
