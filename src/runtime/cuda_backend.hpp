#pragma once
// The CUDA side of runtime/accelerator.hpp, for accelerator.cpp only. Implemented by
// cuda_streams.cu in CUDA builds and by cuda_absent.cpp otherwise; CMake picks one.
#include "runtime/accelerator.hpp"

#include <memory>
#include <string>

namespace relmoe::cuda_backend {

bool built();
std::string runtime_version();  // e.g. "13.0"; empty when not built
int device_count();
std::string describe(int index);  // "NVIDIA H200, 139.8 GiB"
std::unique_ptr<LaneStream> make_stream(int index, std::int64_t id);

}  // namespace relmoe::cuda_backend
