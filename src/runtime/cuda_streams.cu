// The CUDA backend (runtime/cuda_backend.hpp): device discovery, and a lane's stream with its
// pinned staging buffer, asynchronous uploads and event timing. The only CUDA-specific code;
// compiled by nvcc into CUDA builds.
#include "runtime/cuda_backend.hpp"

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

namespace relmoe::cuda_backend {

bool built() { return true; }

std::string runtime_version() {
  return std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10);
}

int device_count() { return static_cast<int>(c10::cuda::device_count()); }

std::string describe(int index) {
  cudaDeviceProp prop{};
  C10_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(prop.totalGlobalMem) / (1ull << 30));
  return std::string(prop.name) + ", " + memory;
}

namespace {

class CudaLaneStream final : public LaneStream {
 public:
  CudaLaneStream(int index, std::int64_t id)
      : device_(c10::kCUDA, static_cast<c10::DeviceIndex>(index)),
        id_(id),
        stream_(c10::cuda::getStreamFromPool(false, device_.index())),
        staged_(cudaEventDisableTiming) {}

  c10::Device device() const override { return device_; }
  std::int64_t id() const override { return id_; }

  double run(const std::function<void()>& work) override {
    c10::cuda::CUDAStreamGuard guard(stream_);
    at::cuda::CUDAEvent start(cudaEventDefault), end(cudaEventDefault);
    start.record(stream_);
    work();
    end.record(stream_);
    end.synchronize();
    ++counts_.launches;
    return static_cast<double>(start.elapsed_time(end)) / 1000.0;
  }

  at::Tensor upload(const at::Tensor& host) override {
    const auto source = host.contiguous();
    const auto bytes = static_cast<std::size_t>(source.numel()) * source.element_size();
    // The staging buffer is reused: wait until the stream has finished reading it.
    staged_.synchronize();
    if (!staging_.defined() || static_cast<std::size_t>(staging_.numel()) < bytes)
      staging_ = at::empty({static_cast<std::int64_t>(bytes)}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
    std::memcpy(staging_.data_ptr(), source.data_ptr(), bytes);
    c10::cuda::CUDAStreamGuard guard(stream_);  // the allocation belongs to this stream
    auto out = at::empty(source.sizes(), source.options().device(device_));
    C10_CUDA_CHECK(cudaMemcpyAsync(out.data_ptr(), staging_.data_ptr(), bytes, cudaMemcpyHostToDevice, stream_.stream()));
    staged_.record(stream_);
    ++counts_.uploads;
    return out;
  }

  at::Tensor download(const at::Tensor& tensor) override {
    c10::cuda::CUDAStreamGuard guard(stream_);
    ++counts_.downloads;
    return tensor.to(at::kCPU).contiguous();
  }

 private:
  c10::Device device_;
  std::int64_t id_;
  c10::cuda::CUDAStream stream_;
  at::Tensor staging_;
  at::cuda::CUDAEvent staged_;
};

}  // namespace

std::unique_ptr<LaneStream> make_stream(int index, std::int64_t id) {
  return std::make_unique<CudaLaneStream>(index, id);
}

}  // namespace relmoe::cuda_backend
