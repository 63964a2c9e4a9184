#pragma once
// The differences between the two libtorches relmoe builds against, Debian's 1.13 (CPU) and
// PyTorch 2.x (PyPI's wheel, CUDA-enabled), in one place. Nothing else tests versions.
#include <torch/types.h>
#include <torch/version.h>

#include <optional>

namespace relmoe::compat {

// The libtorch these sources were compiled against, e.g. "2.11.0".
inline constexpr const char* torch_version = TORCH_VERSION;

// Whether libtorch has scaled_dot_product_attention with a scale and grouped KV heads (2.5+).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
inline constexpr bool has_fused_attention = true;
#else
inline constexpr bool has_fused_attention = false;
#endif

// softmax(q·kᵀ·scale + mask)·v through libtorch's fused kernel. q [B, H, Tq, d], k and v
// [B, Hkv, T, d] (H a multiple of Hkv), mask additive in q's dtype, broadcastable to
// [B, H, Tq, T]. Only called where has_fused_attention holds.
inline torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& mask, double scale) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
  return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false, scale, k.size(1) != q.size(1));
#else
  (void)q, (void)k, (void)v, (void)mask, (void)scale;
  TORCH_CHECK(false, "scaled_dot_product_attention needs libtorch 2.5 or newer");
#endif
}

}  // namespace relmoe::compat
