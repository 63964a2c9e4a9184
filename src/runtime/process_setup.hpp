#pragma once
// Environment that the BLAS and OpenMP runtimes read once, when they load, so it can only be
// changed by re-executing the program before any work is done:
// - OPENBLAS_CORETYPE: some machines pin an older core (e.g. Haswell) although the CPU has
//   AVX-512, which halves sgemm speed. Policy from RELMOE_BLAS_CORE: "auto" (default: upgrade a
//   pinned core type that is below the CPU's), "keep" (never touch it) or an explicit core name.
// - OMP_WAIT_POLICY: libgomp's default lets idle workers spin; when the cores are shared (a
//   build, another job) every small op then waits for descheduled spinners. Measured on 2
//   loaded cores: expert training 6x slower with 2 threads than with 1. Unless the user set
//   it, relmoe runs with PASSIVE.
namespace relmoe {

// Call first thing in main(). Returns only when no re-exec is needed (or it failed).
void configure_process(int argc, char** argv);

}  // namespace relmoe
