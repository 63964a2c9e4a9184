// The CUDA backend of a build without CUDA (runtime/cuda_backend.hpp): no devices.
#include "runtime/cuda_backend.hpp"

#include "base/error.hpp"

namespace relmoe::cuda_backend {

bool built() { return false; }
std::string runtime_version() { return ""; }
int device_count() { return 0; }
std::string describe(int) { return ""; }
std::unique_ptr<LaneStream> make_stream(int index, std::int64_t) {
  fail("--device", "cuda:" + std::to_string(index) + " requested, but this build has no CUDA");
}

}  // namespace relmoe::cuda_backend
