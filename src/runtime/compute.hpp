#pragma once
// Where and how tensors are computed: device choice and libtorch's thread count.
#include <torch/types.h>

#include <string>

namespace relmoe {

// The thread count to use for a --threads value: n <= 0 means all cores; more than the
// machine's cores is capped there with a warning (oversubscribed OpenMP teams stall).
int resolve_threads(int n);

// Sets libtorch's intra-op threads (and OpenBLAS/OpenMP through it) to resolve_threads(n).
// libtorch may default to a single thread, so every command calls this explicitly.
void set_threads(int n);

// Parses "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU); clear error otherwise.
torch::Device parse_device(const std::string& spec);

// Parses "f32", "f16", "bf16" into a scalar type; clear error otherwise.
torch::ScalarType parse_dtype(const std::string& spec);
// The spelling parse_dtype reads back: "f32", "f16" or "bf16".
std::string dtype_name(torch::ScalarType dtype);

}  // namespace relmoe
