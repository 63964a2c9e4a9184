#include "runtime/compute.hpp"

#include "base/error.hpp"
#include "runtime/accelerator.hpp"

#include <torch/utils.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <optional>
#include <thread>

namespace relmoe {

int resolve_threads(int n) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (n <= 0) return cores;
  if (n > cores) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
      spdlog::warn("--threads {} is more than this machine's {} cores; using {}", n, cores, cores);
    return cores;
  }
  return n;
}

void set_threads(int n) { torch::set_num_threads(resolve_threads(n)); }

torch::Device parse_device(const std::string& spec) {
  if (spec == "auto") return cuda_device_count() > 0 ? torch::Device(torch::kCUDA, 0) : torch::kCPU;
  std::optional<torch::Device> device;
  try {
    device.emplace(spec);
  } catch (const c10::Error&) {
    fail("--device", "'" + spec + "' is not a device (expected cpu, cuda, cuda:N or auto)");
  }
  if (device->is_cuda()) {
    const int index = device->has_index() ? device->index() : 0;
    if (index >= cuda_device_count())
      fail("--device", "'" + spec + "' is not present; devices: " + devices_present());
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return *device;
}

torch::ScalarType parse_dtype(const std::string& spec) {
  if (spec == "f32" || spec == "float32") return torch::kFloat32;
  if (spec == "f16" || spec == "float16") return torch::kFloat16;
  if (spec == "bf16" || spec == "bfloat16") return torch::kBFloat16;
  fail("--dtype", "'" + spec + "' is not a dtype (expected f32, f16 or bf16)");
}

std::string dtype_name(torch::ScalarType dtype) {
  if (dtype == torch::kFloat32) return "f32";
  if (dtype == torch::kFloat16) return "f16";
  if (dtype == torch::kBFloat16) return "bf16";
  fail("dtype", std::string(c10::toString(dtype)) + " is not a run dtype (f32, f16 or bf16)");
}

}  // namespace relmoe
