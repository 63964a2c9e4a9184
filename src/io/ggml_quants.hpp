#pragma once
// ggml's tensor types (the type ids GGUF files store) and their dequantization to f32, torch-free.
// Each quantized type packs a block of `block_elements` values into `block_bytes` bytes; the
// routines here reproduce ggml's reference dequantization (ggml-quants.c, and the gguf Python
// package's numpy port) operation for operation, so the floats are equal bit for bit.
#include <cstddef>
#include <cstdint>
#include <string>

namespace relmoe {

struct GgmlTypeInfo {
  std::uint32_t id;
  const char* name;
  std::uint32_t block_elements;
  std::uint32_t block_bytes;
  bool dequantizable;  // relmoe reads it (F32/F16/BF16, the legacy 4/5/8-bit and the K-quants)
};

// The type with this id, or nullptr when ggml defines none (or one it has since removed).
const GgmlTypeInfo* ggml_type_info(std::uint32_t id);
// "Q4_K", or "type 31" for an id that ggml does not define.
std::string ggml_type_name(std::uint32_t id);

// IEEE half to float, exact (subnormals, infinities and NaN payloads included).
float fp16_to_fp32(std::uint16_t bits);

// Dequantizes `elements` values (a multiple of the type's block) of a dequantizable type from
// `src` (elements / block_elements * block_bytes bytes) into `dst`. The caller checks the type
// and the sizes; this only asserts them.
void dequantize_row(const GgmlTypeInfo& type, const std::uint8_t* src, float* dst,
                    std::size_t elements);

}  // namespace relmoe
