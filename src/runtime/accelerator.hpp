#pragma once
// The accelerator seam: what the GPU path needs from CUDA (which devices exist, a stream per
// expert lane, pinned staging with asynchronous copies, event timing, out-of-memory detection)
// behind one interface that the CPU path runs too. The CUDA side lives in one translation
// unit, runtime/cuda_streams.cu, compiled by nvcc into CUDA builds only; everything else,
// the CPU stand-in included, is runtime/accelerator.cpp.
// ATen only, not torch/torch.h: nvcc compiles the CUDA side against this header.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace relmoe {

// What this binary was built with and what it sees now (`relmoe env`, --device errors).
struct BuildInfo {
  std::string torch_version;      // the libtorch compiled against
  bool cuda_built = false;        // CUDA code compiled in (nvcc + a CUDA libtorch)
  std::string cuda_version;       // the CUDA runtime built against, when cuda_built
  std::vector<std::string> devices;  // "cpu", then "cuda:0 (NVIDIA H200, 139.8 GiB)", ...
};
BuildInfo build_info();

// The number of CUDA devices visible (0 without CUDA).
int cuda_device_count();

// "cpu" or "cpu, cuda:0 (NVIDIA H200, 139.8 GiB), cuda:1 (...)": for error messages.
std::string devices_present();

// Raised by a forward that cannot get memory; libtorch's own CUDA/CPU allocation failures are
// recognised too (is_out_of_memory).
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};
bool is_out_of_memory(const std::exception& e);

// One expert lane's ordered queue of device work. On CUDA: a stream of its own (so lanes on one
// GPU overlap), pinned host buffers for uploads, events for timing. On the CPU: work runs in
// place and time is the wall clock. Not thread-safe: one lane, one thread.
class LaneStream {
 public:
  struct Counts {
    std::int64_t launches = 0, uploads = 0, downloads = 0;
  };
  virtual ~LaneStream() = default;
  virtual c10::Device device() const = 0;
  // A number unique to this stream in the process (which lane's work ran where).
  virtual std::int64_t id() const = 0;
  // Runs `work` with this stream current, waits for what it queued, and returns its seconds
  // (CUDA events on a GPU, the wall clock on the CPU).
  virtual double run(const std::function<void()>& work) = 0;
  // The host tensor on this stream's device: on CUDA through a reused pinned buffer and an
  // asynchronous copy queued on the stream; on the CPU the tensor itself.
  virtual at::Tensor upload(const at::Tensor& host) = 0;
  // A device tensor as a contiguous CPU tensor, once the stream has produced it.
  virtual at::Tensor download(const at::Tensor& tensor) = 0;
  const Counts& counts() const { return counts_; }

 protected:
  Counts counts_;
};

// The stream for a lane on `device`: a new CUDA stream there, or the CPU stand-in.
std::unique_ptr<LaneStream> make_lane_stream(c10::Device device);

// Runs `forward` over rows [0, n) of a batch; when it runs out of memory, splits the rows in
// halves and runs each, down to single rows, which rethrow. `on_split(n)` is told of each split.
void run_splitting_on_oom(std::int64_t n, const std::function<void(std::int64_t begin, std::int64_t end)>& forward,
                          const std::function<void(std::int64_t rows)>& on_split);

}  // namespace relmoe
