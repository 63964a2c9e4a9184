#include "text/precompiled_charsmap.hpp"

#include "base/error.hpp"
#include "text/utf8.hpp"

#include <utf8proc.h>

#include <cstring>

namespace relmoe {
namespace {

// darts-clone unit layout.
bool has_leaf(std::uint32_t unit) { return (unit >> 8) & 1; }
std::uint32_t value_of(std::uint32_t unit) { return unit & ((1U << 31) - 1); }
std::uint32_t label_of(std::uint32_t unit) { return unit & ((1U << 31) | 0xFF); }
std::size_t offset_of(std::uint32_t unit) { return (unit >> 10) << ((unit & (1U << 9)) >> 6); }

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

template <typename OnKey>
void PrecompiledCharsmap::walk(std::string_view text, OnKey&& on_key) const {
  std::size_t pos = offset_of(units_[0]);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return;
    pos ^= c;
    if (pos >= units_.size() || label_of(units_[pos]) != c) return;
    const bool leaf = has_leaf(units_[pos]);
    pos ^= offset_of(units_[pos]);  // in range: checked at load for every reachable unit
    if (leaf) {
      const auto value = value_of(units_[pos]);
      const std::string_view replacement(normalized_.data() + value,
                                         strnlen(normalized_.data() + value, normalized_.size() - value));
      if (!on_key(i + 1, replacement)) return;
    }
  }
}

std::string decode_base64(std::string_view text, const std::string& where) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=') {
      ++padding;
      continue;
    }
    const int v = base64_value(text[i]);
    if (v < 0 || padding > 0) fail(where, "not base64 (byte " + std::to_string(i) + ")");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2 || (text.size() % 4 != 0)) fail(where, "not base64 (length " + std::to_string(text.size()) + ")");
  return out;
}

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view bytes, std::string where) : where_(std::move(where)) {
  if (bytes.size() < 4) fail(where_, "charsmap of " + std::to_string(bytes.size()) + " bytes has no trie size");
  std::uint32_t trie_bytes = 0;
  for (int i = 3; i >= 0; --i) trie_bytes = (trie_bytes << 8) | static_cast<unsigned char>(bytes[i]);
  if (trie_bytes == 0 || trie_bytes % 4 != 0 || trie_bytes > bytes.size() - 4)
    fail(where_, "trie size " + std::to_string(trie_bytes) + " does not fit the " + std::to_string(bytes.size()) +
                     "-byte charsmap (truncated?)");
  units_.resize(trie_bytes / 4);
  for (std::size_t u = 0; u < units_.size(); ++u) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + 4 + 4 * u;
    units_[u] = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
  }
  normalized_ = std::string(bytes.substr(4 + trie_bytes));
  check_reachable();
}

// Walks every node reachable from the root, so a damaged map fails at load, never mid-run.
void PrecompiledCharsmap::check_reachable() const {
  auto in_range = [&](std::size_t pos, const char* what) {
    if (pos >= units_.size())
      fail(where_, std::string(what) + " " + std::to_string(pos) + " is outside the " + std::to_string(units_.size()) +
                       "-unit trie (truncated or damaged)");
  };
  std::vector<bool> seen(units_.size(), false);
  std::vector<std::size_t> todo{offset_of(units_[0])};
  in_range(todo.back(), "root offset");
  while (!todo.empty()) {
    const std::size_t base = todo.back();
    todo.pop_back();
    for (std::uint32_t c = 1; c < 256; ++c) {
      const std::size_t child = base ^ c;
      if (child >= units_.size() || label_of(units_[child]) != c || seen[child]) continue;
      seen[child] = true;
      const std::size_t next = child ^ offset_of(units_[child]);
      in_range(next, "trie offset");
      if (has_leaf(units_[child]) && value_of(units_[next]) >= normalized_.size())
        fail(where_, "value " + std::to_string(value_of(units_[next])) + " points past the " +
                         std::to_string(normalized_.size()) + " bytes of normalised strings");
      todo.push_back(next);
    }
  }
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  std::optional<std::string_view> shortest;
  walk(chunk, [&](std::size_t, std::string_view replacement) {
    shortest = replacement;
    return false;  // the shortest matching key decides, as Hugging Face's Precompiled does
  });
  return shortest;
}

std::optional<std::pair<std::size_t, std::string_view>> PrecompiledCharsmap::longest_prefix(std::string_view text) const {
  std::optional<std::pair<std::size_t, std::string_view>> longest;
  walk(text, [&](std::size_t length, std::string_view replacement) {
    longest = std::pair{length, replacement};
    return true;
  });
  return longest;
}

std::string PrecompiledCharsmap::normalize(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  auto emit = [&](std::string_view grapheme) {
    if (grapheme.size() < 6)
      if (auto norm = transform(grapheme)) {
        out += *norm;
        return;
      }
    for (std::size_t pos = 0; pos < grapheme.size();) {
      const std::size_t begin = pos;
      utf8::decode(grapheme, pos);
      const auto part = grapheme.substr(begin, pos - begin);
      auto norm = transform(part);
      out += norm ? *norm : part;
    }
  };
  std::size_t start = 0, pos = 0;
  utf8proc_int32_t state = 0;
  char32_t previous = 0;
  while (pos < text.size()) {
    const std::size_t begin = pos;
    const char32_t c = utf8::decode(text, pos);
    if (begin > 0 && utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(previous),
                                                      static_cast<utf8proc_int32_t>(c), &state)) {
      emit(text.substr(start, begin - start));
      start = begin;
    }
    previous = c;
  }
  if (start < text.size()) emit(text.substr(start));
  return out;
}

}  // namespace relmoe
