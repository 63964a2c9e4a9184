#pragma once
// Added (and special) tokens written inside the input text: found leftmost-longest, as the
// Hugging Face AddedVocabulary does, honouring the lstrip / rstrip / single_word flags.
#include "text/tokenizer.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace relmoe {

struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool special = false;
  bool lstrip = false;       // swallows whitespace before the token
  bool rstrip = false;       // swallows whitespace after the token
  bool single_word = false;  // only matches when not inside a word
  bool normalized = false;   // matched in normalised text instead of raw text
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  // A stretch of the text: plain text (id < 0) or one matched token.
  struct Part {
    std::size_t begin, end;
    TokenId id;
  };
  // Parts covering `text` in order (plain parts are never empty).
  std::vector<Part> split(std::string_view text) const;
  bool empty() const { return tokens_.empty(); }
  // The longest token starting at byte `pos` of `text`, or null.
  const AddedToken* longest_at(std::string_view text, std::size_t pos) const;

 private:

  std::vector<AddedToken> tokens_;
  std::array<std::vector<int>, 256> by_first_byte_;  // longest first
};

}  // namespace relmoe
