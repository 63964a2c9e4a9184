#pragma once
// tokenizer.json Unigram (sentencepiece's unigram LM, XLM-R, mT5, multilingual-e5): each word is
// segmented by Viterbi over the log-probabilities of its pieces (ties keep the shorter piece
// found first), a character no piece covers scores min_score - 10 as the unknown piece, runs of
// unknown characters fuse into one unknown token, and with byte_fallback an unknown stretch
// becomes its <0xXX> byte pieces when they all exist. As Hugging Face tokenizers does it.
#include "text/subword_model.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>

namespace relmoe {

class UnigramModel final : public SubwordModel {
 public:
  explicit UnigramModel(const JsonNode& node);
  void tokenize(std::string_view word, std::vector<TokenId>& out) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::size_t size() const override { return scores_.size(); }

 private:
  // A byte trie of the pieces: child of (node, byte) in one hash map, piece id per node.
  std::int32_t child(std::int32_t node, unsigned char byte) const;
  void add_piece(std::string_view piece, TokenId id);
  // The id(s) of one segment: its piece, else its <0xXX> bytes (byte_fallback), else unknown.
  void emit(std::string_view text, std::vector<TokenId>& out) const;

  std::vector<double> scores_;
  std::unordered_map<std::string, TokenId> ids_;
  std::unordered_map<std::uint64_t, std::int32_t> edges_;
  std::vector<TokenId> node_piece_{-1};  // node 0 is the root
  std::optional<TokenId> unk_;
  std::string unk_path_;  // for the error when a word needs the unknown piece and there is none
  bool byte_fallback_ = false;
  double unk_score_ = 0;
};

}  // namespace relmoe
