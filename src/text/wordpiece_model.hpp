#pragma once
// tokenizer.json WordPiece (BERT): each word greedily split into the longest vocabulary pieces
// from its start, pieces after the first spelled with continuing_subword_prefix ("##"); a word
// with an unmatched stretch, or longer than max_input_chars_per_word characters, is one
// unknown token.
#include "text/subword_model.hpp"

#include <string>
#include <unordered_map>

namespace relmoe {

class WordPieceModel final : public SubwordModel {
 public:
  explicit WordPieceModel(const JsonNode& node);
  void tokenize(std::string_view word, std::vector<TokenId>& out) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::size_t size() const override { return size_; }

 private:
  std::unordered_map<std::string, TokenId> vocab_;
  std::string prefix_;
  std::size_t max_chars_ = 100;
  TokenId unk_ = 0;
  std::size_t size_ = 0;
};

}  // namespace relmoe
