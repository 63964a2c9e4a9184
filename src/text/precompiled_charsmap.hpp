#pragma once
// sentencepiece's compiled character map: the "precompiled_charsmap" of a tokenizer.json
// Precompiled normalizer (the nmt_nfkc rules XLM-R, mT5 and multilingual-e5 ship). Format: a
// little-endian u32 byte size of a darts-clone double-array trie over UTF-8 keys, the trie's u32
// units, then the normalised strings (NUL-terminated) that the trie's values point into.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relmoe {

class PrecompiledCharsmap {
 public:
  // `bytes`: the decoded map. Every reachable trie unit and value is checked here; errors name
  // `where` (file: JSON path).
  PrecompiledCharsmap(std::string_view bytes, std::string where);

  // As sentencepiece and Hugging Face tokenizers do it: each extended grapheme cluster shorter
  // than 6 bytes is replaced by the map's entry for it when there is one, otherwise each code
  // point by its entry, or kept.
  std::string normalize(std::string_view text) const;

  // sentencepiece's own use of the map (tokenizer.model): the longest key that prefixes `text`,
  // as {bytes consumed, replacement}.
  std::optional<std::pair<std::size_t, std::string_view>> longest_prefix(std::string_view text) const;

 private:
  // The normalised string of the shortest key that prefixes `chunk`, if any.
  std::optional<std::string_view> transform(std::string_view chunk) const;
  void check_reachable() const;
  // Calls on_key(key length, replacement) for each key prefixing `text`, shortest first, while
  // it returns true.
  template <typename OnKey>
  void walk(std::string_view text, OnKey&& on_key) const;

  std::vector<std::uint32_t> units_;
  std::string normalized_;
  std::string where_;
};

// Standard base64 (RFC 4648, '=' padding) to bytes; errors name `where`.
std::string decode_base64(std::string_view text, const std::string& where);

}  // namespace relmoe
