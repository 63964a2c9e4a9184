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

// One vocabulary entry: `matchable` pieces take part in segmentation (sentencepiece leaves its
// control, byte and unused pieces out); min_score is taken over the `normal` ones.
struct UnigramPiece {
  std::string text;
  double score = 0;
  bool matchable = true, normal = true;
};

class UnigramModel final : public SubwordModel {
 public:
  // tokenizer.json's "model" (type Unigram).
  explicit UnigramModel(const JsonNode& node);
  // Id i is pieces[i]; `unk_where` names the unknown-piece setting in errors.
  UnigramModel(const std::vector<UnigramPiece>& pieces, std::optional<TokenId> unk, bool byte_fallback,
               std::string unk_where);
  void tokenize(std::string_view word, std::vector<TokenId>& out) const override;
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::size_t size() const override { return scores_.size(); }

 private:
  void add_pieces(const std::vector<UnigramPiece>& pieces);
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
