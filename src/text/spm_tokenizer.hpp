#pragma once
// A SentencePiece tokenizer.model of model type BPE (Llama 2, Gemma) or unigram (XLM-R style),
// encoded as libsentencepiece does: its compiled normalisation map when the model has one
// (longest match), dummy prefix and "▁" for spaces, user-defined pieces kept whole, then
// score-ordered merges (BPE) or the unigram Viterbi (unigram_model.hpp), byte fallback or <unk>.
// Control and unknown pieces written in the text (e.g. "<s>") are matched as tokens, as Hugging
// Face's slow Llama tokenizer does; add_special prepends BOS like Llama 2 (tokenizer_config.json's
// add_bos_token / add_eos_token adjust that when present).
#include "text/added_tokens.hpp"
#include "text/json_node.hpp"
#include "text/post_processor.hpp"
#include "text/precompiled_charsmap.hpp"
#include "text/spm_model_proto.hpp"
#include "text/tokenizer.hpp"
#include "text/unigram_model.hpp"

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace relmoe {

class SpmTokenizer final : public Tokenizer {
 public:
  SpmTokenizer(const SpmModelProto& model, const std::string& source, const std::optional<JsonNode>& config);

  std::vector<TokenId> encode(std::string_view text, bool add_special) const override;
  Encoding encode_pair(std::string_view a, std::string_view b, bool add_special) const override {
    return apply_pair_template(special_, encode(a, false), encode(b, false), add_special);
  }
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::size_t vocab_size() const override { return pieces_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PieceMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

  std::pair<std::size_t, std::string_view> normalize_prefix(std::string_view text) const;
  std::string normalize(std::string_view text) const;
  void encode_plain(std::string_view text, std::vector<TokenId>& out) const;

  std::vector<SpmModelProto::Piece> pieces_;
  PieceMap mergeable_;  // normal, user-defined and unused pieces: what merges may produce
  PieceMap reserved_;   // control, unknown and byte pieces
  AddedTokenMatcher user_defined_;
  AddedTokenMatcher control_pieces_;
  std::array<TokenId, 256> byte_ids_;
  TokenId unk_id_ = 0;
  bool byte_fallback_;
  bool add_dummy_prefix_, remove_extra_whitespaces_, escape_whitespaces_;
  SpecialTokens special_;
  std::optional<PrecompiledCharsmap> charsmap_;  // absent: identity normalisation
  std::unique_ptr<UnigramModel> unigram_;         // set for unigram models (else BPE merges)
};

}  // namespace relmoe
