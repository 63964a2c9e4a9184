#pragma once
// A Hugging Face tokenizer.json (BPE, WordPiece or Unigram model), run as the `tokenizers`
// library does: added tokens in raw text -> normaliser -> added tokens in normalised text ->
// pre-tokenizer -> model -> post-processor special tokens (and the pair template).
#include "text/added_tokens.hpp"
#include "text/subword_model.hpp"
#include "text/normalizer.hpp"
#include "text/post_processor.hpp"
#include "text/pre_tokenizer.hpp"
#include "text/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace relmoe {

class HfTokenizer final : public Tokenizer {
 public:
  // `config`: the tokenizer_config.json beside it, when there is one.
  HfTokenizer(const JsonNode& root, const std::optional<JsonNode>& config);

  std::vector<TokenId> encode(std::string_view text, bool add_special) const override;
  Encoding encode_pair(std::string_view a, std::string_view b, bool add_special) const override {
    return apply_pair_template(special_, encode(a, false), encode(b, false), add_special);
  }
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::size_t vocab_size() const override { return vocab_size_; }

 private:
  // Normalises, pre-tokenizes and BPE-encodes one stretch of text without added tokens.
  void encode_plain(std::string_view text, bool at_start, std::vector<TokenId>& out) const;

  AddedTokenMatcher raw_added_;         // matched before normalisation
  AddedTokenMatcher normalized_added_;  // matched in normalised text
  std::unordered_map<std::string, TokenId> added_ids_;
  std::unique_ptr<Normalizer> normalizer_;  // may be null
  PreTokenization pre_tokenization_;
  std::unique_ptr<SubwordModel> model_;
  SpecialTokens special_;
  std::size_t vocab_size_ = 0;
};

}  // namespace relmoe
