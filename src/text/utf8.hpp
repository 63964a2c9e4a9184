#pragma once
// Minimal UTF-8 helpers for the tokenizers (validation, code-point iteration).
#include <cstddef>
#include <string>
#include <string_view>

namespace relmoe::utf8 {

// Byte offset of the first malformed sequence (overlong forms, surrogates and code points
// above U+10FFFF are malformed), or npos when `text` is valid UTF-8.
std::size_t find_invalid(std::string_view text);

// Throws relmoe::Error naming `where` and the byte offset when `text` is not valid UTF-8.
void require_valid(std::string_view text, const std::string& where);

// Length in bytes of the sequence starting with `lead` (1 for stray continuation bytes, so
// iteration over unvalidated input always advances).
inline std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Decodes the code point at `pos` of valid UTF-8 and advances `pos` past it.
char32_t decode(std::string_view text, std::size_t& pos);

void append(std::string& out, char32_t code_point);

// The longest prefix of `text` within `max_bytes` that does not split a character.
inline std::string_view prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // a continuation byte
  return text.substr(0, end);
}

}  // namespace relmoe::utf8

namespace relmoe::unicode {

// Unicode White_Space (as Rust's char::is_whitespace).
bool is_whitespace(char32_t c);
// Letter or number general category (close to Rust's char::is_alphanumeric).
bool is_alphanumeric(char32_t c);
// Punctuation as BERT splits it: ASCII punctuation or a P* general category.
bool is_bert_punctuation(char32_t c);
// "Other" general categories (Cc, Cf, Cn, Co, Cs): what BERT's clean_text drops (but \t \n \r).
bool is_other(char32_t c);
// Nonspacing mark (Mn): what BERT's strip_accents removes after NFD.
bool is_nonspacing_mark(char32_t c);
// CJK ideographs BERT surrounds with spaces (its handle_chinese_chars ranges).
bool is_cjk_ideograph(char32_t c);
// Simple lower-case mapping of one code point.
char32_t to_lower(char32_t c);

}  // namespace relmoe::unicode
