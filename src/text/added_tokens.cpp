#include "text/added_tokens.hpp"

#include "text/utf8.hpp"

#include <algorithm>

namespace relmoe {
namespace {

std::size_t previous_char_start(std::string_view text, std::size_t pos) {
  do --pos;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80);
  return pos;
}

char32_t char_before(std::string_view text, std::size_t pos) {
  auto start = previous_char_start(text, pos);
  return utf8::decode(text, start);
}

char32_t char_at(std::string_view text, std::size_t pos) { return utf8::decode(text, pos); }

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (int i = 0; i < static_cast<int>(tokens_.size()); ++i)
    if (!tokens_[i].content.empty())
      by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(i);
  for (auto& list : by_first_byte_)
    std::stable_sort(list.begin(), list.end(), [this](int a, int b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
}

const AddedToken* AddedTokenMatcher::longest_at(std::string_view text, std::size_t pos) const {
  for (int index : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const auto& content = tokens_[index].content;
    if (text.compare(pos, content.size(), content) == 0) return &tokens_[index];
  }
  return nullptr;
}

std::vector<AddedTokenMatcher::Part> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Part> parts;
  std::size_t plain_from = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const AddedToken* found = longest_at(text, pos);
    if (!found) {
      ++pos;
      continue;
    }
    const auto& token = *found;
    std::size_t begin = pos, end = pos + token.content.size();
    if (token.single_word &&
        ((begin > 0 && unicode::is_alphanumeric(char_before(text, begin))) ||
         (end < text.size() && unicode::is_alphanumeric(char_at(text, end))))) {
      pos = end;
      continue;
    }
    if (token.lstrip)
      while (begin > plain_from && unicode::is_whitespace(char_before(text, begin)))
        begin = previous_char_start(text, begin);
    if (token.rstrip)
      while (end < text.size() && unicode::is_whitespace(char_at(text, end)))
        end += utf8::sequence_length(static_cast<unsigned char>(text[end]));
    if (begin > plain_from) parts.push_back({plain_from, begin, -1});
    parts.push_back({begin, end, token.id});
    plain_from = pos = end;
  }
  if (plain_from < text.size()) parts.push_back({plain_from, text.size(), -1});
  return parts;
}

}  // namespace relmoe
