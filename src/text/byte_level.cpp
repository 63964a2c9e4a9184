#include "text/byte_level.hpp"

#include "text/utf8.hpp"

#include <array>

namespace relmoe::byte_level {
namespace {

// Printable Latin-1 bytes stand for themselves; the others take code points 256, 257, ...
// in byte order.
struct Tables {
  std::array<char32_t, 256> to_code_point{};
  std::array<int, 512> to_byte{};  // code point -> byte, -1 outside the alphabet
  Tables() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_code_point[b] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_code_point[b]] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t code_point_of(unsigned char byte) { return tables().to_code_point[byte]; }

std::optional<std::string> decode(std::string_view token) {
  if (utf8::find_invalid(token) != std::string_view::npos) return std::nullopt;
  const auto& t = tables();
  std::string bytes;
  bytes.reserve(token.size());
  for (std::size_t pos = 0; pos < token.size();) {
    const char32_t cp = utf8::decode(token, pos);
    if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return std::nullopt;
    bytes += static_cast<char>(t.to_byte[cp]);
  }
  return bytes;
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) utf8::append(out, code_point_of(b));
  return out;
}

}  // namespace relmoe::byte_level
