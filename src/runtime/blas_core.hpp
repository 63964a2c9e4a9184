#pragma once
// OpenBLAS picks its GEMM kernels once, when the library loads, from OPENBLAS_CORETYPE if set.
// Some machines pin it to an older core (e.g. Haswell) although the CPU has AVX-512, which halves
// sgemm speed. This re-executes the program with the best core type the CPU supports, before
// any work is done. Policy from RELMOE_BLAS_CORE: "auto" (default: upgrade a pinned core type
// that is below the CPU's), "keep" (never touch the environment) or an explicit core name.
namespace relmoe {

// Call first thing in main(). Returns only when no re-exec is needed (or it failed).
void ensure_best_blas_core(int argc, char** argv);

}  // namespace relmoe
