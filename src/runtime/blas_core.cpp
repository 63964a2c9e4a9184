#include "runtime/blas_core.hpp"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace relmoe {
namespace {

// The core type OpenBLAS would choose for this CPU's widest SIMD, as OpenBLAS names it.
const char* native_core() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
#endif
  return nullptr;
}

}  // namespace

void ensure_best_blas_core(int argc, char** argv) {
  const char* policy_env = std::getenv("RELMOE_BLAS_CORE");
  const std::string policy = policy_env ? policy_env : "auto";
  const char* current = std::getenv("OPENBLAS_CORETYPE");
  if (policy == "keep" || std::getenv("RELMOE_BLAS_CORE_APPLIED")) return;
  std::string wanted;
  if (policy == "auto") {
    // Only a pin to a pre-AVX-512 x86 core is upgraded; an unset variable already means
    // OpenBLAS detects the CPU itself.
    const char* native = native_core();
    if (!current || !native) return;
    const std::string pinned = current;
    if (pinned != "Haswell" && pinned != "Sandybridge" && pinned != "Zen") return;
    wanted = native;
  } else {
    wanted = policy;
    if (current && wanted == current) return;
  }
  ::setenv("OPENBLAS_CORETYPE", wanted.c_str(), 1);
  ::setenv("RELMOE_BLAS_CORE_APPLIED", "1", 1);  // guards against a re-exec loop
  ::execv("/proc/self/exe", argv);
  (void)argc;  // execv failed (e.g. no /proc): carry on with the kernels already loaded
}

}  // namespace relmoe
