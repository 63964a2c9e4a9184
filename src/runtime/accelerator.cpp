#include "runtime/accelerator.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"
#include "runtime/cuda_backend.hpp"
#include "runtime/torch_compat.hpp"

#include <atomic>
#include <chrono>
#include <new>

namespace relmoe {

namespace {

std::int64_t next_stream_id() {
  static std::atomic<std::int64_t> next{0};
  return next++;
}

// The CPU stand-in: work runs in place, synchronously, timed by the wall clock.
class CpuLaneStream final : public LaneStream {
 public:
  c10::Device device() const override { return c10::kCPU; }
  std::int64_t id() const override { return id_; }
  double run(const std::function<void()>& work) override {
    const auto start = std::chrono::steady_clock::now();
    work();
    ++counts_.launches;
    return seconds_since(start);
  }
  at::Tensor upload(const at::Tensor& host) override {
    ++counts_.uploads;
    return host;
  }
  at::Tensor download(const at::Tensor& tensor) override {
    ++counts_.downloads;
    return tensor.to(at::kCPU).contiguous();
  }

 private:
  std::int64_t id_ = next_stream_id();
};

}  // namespace

int cuda_device_count() { return cuda_backend::device_count(); }

BuildInfo build_info() {
  BuildInfo info;
  info.torch_version = compat::torch_version;
  info.cuda_built = cuda_backend::built();
  info.cuda_version = cuda_backend::runtime_version();
  info.devices.push_back("cpu");
  for (int i = 0; i < cuda_device_count(); ++i)
    info.devices.push_back("cuda:" + std::to_string(i) + " (" + cuda_backend::describe(i) + ")");
  return info;
}

std::string devices_present() {
  const auto info = build_info();
  std::string out;
  for (const auto& d : info.devices) out += (out.empty() ? "" : ", ") + d;
  if (!info.cuda_built) out += " (this build has no CUDA)";
  return out;
}

bool is_out_of_memory(const std::exception& e) {
  return dynamic_cast<const OutOfMemory*>(&e) || dynamic_cast<const c10::OutOfMemoryError*>(&e) ||
         dynamic_cast<const std::bad_alloc*>(&e);
}

std::unique_ptr<LaneStream> make_lane_stream(c10::Device device) {
  if (device.is_cuda()) return cuda_backend::make_stream(device.has_index() ? device.index() : 0, next_stream_id());
  return std::make_unique<CpuLaneStream>();
}

void run_splitting_on_oom(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& forward,
                          const std::function<void(std::int64_t)>& on_split) {
  const std::function<void(std::int64_t, std::int64_t)> attempt = [&](std::int64_t begin, std::int64_t end) {
    try {
      forward(begin, end);
    } catch (const std::exception& e) {
      if (end - begin < 2 || !is_out_of_memory(e)) throw;
      on_split(end - begin);
      const auto middle = begin + (end - begin) / 2;
      attempt(begin, middle);
      attempt(middle, end);
    }
  };
  if (n > 0) attempt(0, n);
}

}  // namespace relmoe
