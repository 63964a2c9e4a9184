#include "io/ggml_quants.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

namespace relmoe {
namespace {

constexpr std::size_t QK_K = 256;  // elements of a K-quant super-block

// ggml's type table (ggml.c type_traits; the gaps are ids ggml has removed).
constexpr GgmlTypeInfo kTypes[] = {
    {0, "F32", 1, 4, true},          {1, "F16", 1, 2, true},         {2, "Q4_0", 32, 18, true},
    {3, "Q4_1", 32, 20, true},       {6, "Q5_0", 32, 22, true},      {7, "Q5_1", 32, 24, true},
    {8, "Q8_0", 32, 34, true},       {9, "Q8_1", 32, 40, false},     {10, "Q2_K", 256, 84, true},
    {11, "Q3_K", 256, 110, true},    {12, "Q4_K", 256, 144, true},   {13, "Q5_K", 256, 176, true},
    {14, "Q6_K", 256, 210, true},    {15, "Q8_K", 256, 292, false},  {16, "IQ2_XXS", 256, 66, false},
    {17, "IQ2_XS", 256, 74, false},  {18, "IQ3_XXS", 256, 98, false}, {19, "IQ1_S", 256, 50, false},
    {20, "IQ4_NL", 32, 18, false},   {21, "IQ3_S", 256, 110, false}, {22, "IQ2_S", 256, 82, false},
    {23, "IQ4_XS", 256, 136, false}, {24, "I8", 1, 1, false},        {25, "I16", 1, 2, false},
    {26, "I32", 1, 4, false},        {27, "I64", 1, 8, false},       {28, "F64", 1, 8, false},
    {29, "IQ1_M", 256, 56, false},   {30, "BF16", 1, 2, true},       {34, "TQ1_0", 256, 54, false},
    {35, "TQ2_0", 256, 66, false},   {39, "MXFP4", 32, 17, false},
};

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
float half(const std::uint8_t* p) { return fp16_to_fp32(u16(p)); }

// Legacy 32-element blocks. Low nibbles give elements 0..15, high nibbles 16..31; Q5's fifth
// bits come from one little-endian u32.
void q4_0(const std::uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>((b[2 + j] & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((b[2 + j] >> 4) - 8);
  }
}
void q4_1(const std::uint8_t* b, float* y) {
  const float d = half(b), m = half(b + 2);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(b[4 + j] & 0x0F) + m;
    y[j + 16] = d * static_cast<float>(b[4 + j] >> 4) + m;
  }
}
void q5_0(const std::uint8_t* b, float* y) {
  const float d = half(b);
  const std::uint32_t qh = u32(b + 2);
  for (int j = 0; j < 16; ++j) {
    const int lo = (b[6 + j] & 0x0F) | (((qh >> j) & 1) << 4);
    const int hi = (b[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = d * static_cast<float>(lo - 16);
    y[j + 16] = d * static_cast<float>(hi - 16);
  }
}
void q5_1(const std::uint8_t* b, float* y) {
  const float d = half(b), m = half(b + 2);
  const std::uint32_t qh = u32(b + 4);
  for (int j = 0; j < 16; ++j) {
    const int lo = (b[8 + j] & 0x0F) | (((qh >> j) & 1) << 4);
    const int hi = (b[8 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = d * static_cast<float>(lo) + m;
    y[j + 16] = d * static_cast<float>(hi) + m;
  }
}
void q8_0(const std::uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<std::int8_t>(b[2 + j])) * d;
}

// K-quants: 256-element super-blocks of 16 or 8 sub-blocks, each with its own scale (and min).
// Element e sits in 128-element half e / 128; within it, 32-element quarter (e % 128) / 32.
void q2_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* scales = b;
  const std::uint8_t* qs = b + 16;
  const float d = half(b + 80), dmin = half(b + 82);
  for (std::size_t e = 0; e < QK_K; ++e) {
    const std::uint8_t sc = scales[e / 16];
    const float dl = d * static_cast<float>(sc & 0x0F);
    const float ml = dmin * static_cast<float>(sc >> 4);
    const int shift = 2 * static_cast<int>((e % 128) / 32);
    const int q = (qs[(e / 128) * 32 + e % 32] >> shift) & 3;
    y[e] = dl * static_cast<float>(q) - ml;
  }
}
// Q3_K's sixteen 6-bit scales: low nibbles in bytes 0..7 (elements 0..7, then the high nibbles
// for 8..15), two high bits each from bytes 8..11.
int q3_k_scale(const std::uint8_t* scales, std::size_t i) {
  const int low = (i < 8 ? scales[i] : scales[i - 8] >> 4) & 0x0F;
  const int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 0x03;
  return (low | (high << 4)) - 32;
}
void q3_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* hmask = b;
  const std::uint8_t* qs = b + 32;
  const std::uint8_t* scales = b + 96;
  const float d = half(b + 108);
  for (std::size_t e = 0; e < QK_K; ++e) {
    const float dl = d * static_cast<float>(q3_k_scale(scales, e / 16));
    const int shift = 2 * static_cast<int>((e % 128) / 32);
    const int low = (qs[(e / 128) * 32 + e % 32] >> shift) & 3;
    const int high_clear = ((hmask[e % 32] >> (e / 32)) & 1) ^ 1;  // offset 4 when the bit is 0
    y[e] = dl * static_cast<float>(low - (high_clear << 2));
  }
}
// Q4_K/Q5_K's eight 6-bit scales and mins, packed in 12 bytes (ggml's get_scale_min_k4).
void scale_min_k4(const std::uint8_t* s, int j, int& scale, int& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}
template <bool kFifthBit>
void q45_k(const std::uint8_t* b, float* y) {
  const float d = half(b), dmin = half(b + 2);
  const std::uint8_t* scales = b + 4;
  const std::uint8_t* qh = b + 16;
  const std::uint8_t* qs = kFifthBit ? b + 48 : b + 16;
  for (int j = 0; j < 8; ++j) {
    int sc = 0, m = 0;
    scale_min_k4(scales, j, sc, m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = dmin * static_cast<float>(m);
    const std::uint8_t* nibbles = qs + (j / 2) * 32;
    const int shift = (j % 2) * 4;
    for (int l = 0; l < 32; ++l) {
      int q = (nibbles[l] >> shift) & 0x0F;
      if constexpr (kFifthBit) q |= ((qh[l] >> j) & 1) << 4;
      y[j * 32 + l] = d1 * static_cast<float>(q) - m1;
    }
  }
}
void q6_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* ql = b;
  const std::uint8_t* qh = b + 128;
  const auto* scales = reinterpret_cast<const std::int8_t*>(b + 192);
  const float d = half(b + 208);
  for (std::size_t e = 0; e < QK_K; ++e) {
    const std::size_t h = e / 128, r = e % 128;
    const int low = (ql[h * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
    const int high = (qh[h * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
    const float d1 = d * static_cast<float>(scales[e / 16]);
    y[e] = d1 * static_cast<float>((low | (high << 4)) - 32);
  }
}

using BlockFn = void (*)(const std::uint8_t*, float*);
BlockFn block_fn(std::uint32_t id) {
  switch (id) {
    case 2: return q4_0;
    case 3: return q4_1;
    case 6: return q5_0;
    case 7: return q5_1;
    case 8: return q8_0;
    case 10: return q2_k;
    case 11: return q3_k;
    case 12: return q45_k<false>;
    case 13: return q45_k<true>;
    case 14: return q6_k;
    default: return nullptr;
  }
}

}  // namespace

const GgmlTypeInfo* ggml_type_info(std::uint32_t id) {
  auto it = std::find_if(std::begin(kTypes), std::end(kTypes),
                         [id](const GgmlTypeInfo& t) { return t.id == id; });
  return it == std::end(kTypes) ? nullptr : &*it;
}

std::string ggml_type_name(std::uint32_t id) {
  const auto* info = ggml_type_info(id);
  return info ? info->name : "type " + std::to_string(id);
}

float fp16_to_fp32(std::uint16_t bits) {
  const std::uint32_t sign = std::uint32_t{bits & 0x8000u} << 16;
  std::uint32_t exponent = (bits >> 10) & 0x1F;
  std::uint32_t mantissa = bits & 0x3FF;
  std::uint32_t out = 0;
  if (exponent == 0x1F) {
    out = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {  // subnormal: normalise the mantissa
    exponent = 113;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --exponent;
    }
    out = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
  }
  return std::bit_cast<float>(out);
}

void dequantize_row(const GgmlTypeInfo& type, const std::uint8_t* src, float* dst,
                    std::size_t elements) {
  assert(type.dequantizable && elements % type.block_elements == 0);
  switch (type.id) {
    case 0:
      std::memcpy(dst, src, elements * 4);
      return;
    case 1:
      for (std::size_t i = 0; i < elements; ++i) dst[i] = fp16_to_fp32(u16(src + 2 * i));
      return;
    case 30:
      for (std::size_t i = 0; i < elements; ++i)
        dst[i] = std::bit_cast<float>(std::uint32_t{u16(src + 2 * i)} << 16);
      return;
    default:
      break;
  }
  const BlockFn fn = block_fn(type.id);
  assert(fn != nullptr);
  for (std::size_t block = 0; block < elements / type.block_elements; ++block)
    fn(src + block * type.block_bytes, dst + block * type.block_elements);
}

}  // namespace relmoe
