#pragma once
// GPT-2's byte-level alphabet: every byte is shown as one printable code point (e.g. ' ' as
// 'Ġ'), so byte-level BPE vocabularies are written in those code points.
#include <optional>
#include <string>
#include <string_view>

namespace relmoe::byte_level {

// The code point that stands for `byte`.
char32_t code_point_of(unsigned char byte);

// Vocabulary spelling -> raw bytes ("Ġyes" -> " yes"); nullopt when `token` holds a code point
// outside the alphabet (or is not valid UTF-8).
std::optional<std::string> decode(std::string_view token);

// Raw bytes -> vocabulary spelling.
std::string encode(std::string_view bytes);

}  // namespace relmoe::byte_level
