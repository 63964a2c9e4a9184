#include "runtime/process_setup.hpp"

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

// The OPENBLAS_CORETYPE to run with, or "" to leave it as it is.
std::string wanted_blas_core() {
  const char* policy_env = std::getenv("RELMOE_BLAS_CORE");
  const std::string policy = policy_env ? policy_env : "auto";
  const char* current = std::getenv("OPENBLAS_CORETYPE");
  if (policy == "keep") return "";
  if (policy != "auto") return current && policy == current ? "" : policy;
  // Only a pin to a pre-AVX-512 x86 core is upgraded; an unset variable already means
  // OpenBLAS detects the CPU itself.
  const char* native = native_core();
  if (!current || !native) return "";
  const std::string pinned = current;
  return pinned == "Haswell" || pinned == "Sandybridge" || pinned == "Zen" ? native : "";
}

}  // namespace

void configure_process(int argc, char** argv) {
  if (std::getenv("RELMOE_PROCESS_CONFIGURED")) return;  // guards against a re-exec loop
  bool changed = false;
  if (auto core = wanted_blas_core(); !core.empty()) {
    ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
    changed = true;
  }
  if (!std::getenv("OMP_WAIT_POLICY")) {
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    changed = true;
  }
  if (!changed) return;
  ::setenv("RELMOE_PROCESS_CONFIGURED", "1", 1);
  ::execv("/proc/self/exe", argv);
  (void)argc;  // execv failed (e.g. no /proc): carry on with the runtimes as loaded
}

}  // namespace relmoe
