#pragma once
// What add_special puts around an encoded text: read from tokenizer.json's "post_processor"
// (TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence), then adjusted by
// tokenizer_config.json's add_bos_token / add_eos_token when those are given.
#include "text/json_node.hpp"
#include "text/tokenizer.hpp"

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace relmoe {

// One item of a pair template: special ids (sequence < 0) or sequence A (0) / B (1), each
// with the token type id its tokens get.
struct TemplateItem {
  int sequence = -1;
  std::vector<TokenId> ids;
  std::int32_t type_id = 0;
};

struct SpecialTokens {
  std::vector<TokenId> prefix, suffix;  // a single text: prefix A suffix
  // A sentence pair. Empty: prefix A suffix prefix B suffix, B's part with type id 1 (what
  // Hugging Face builds for a Llama-style template).
  std::vector<TemplateItem> pair;
};

// A sentence pair's ids and token types: through the pair template with add_special, else
// A B with type ids 0 and 1.
Encoding apply_pair_template(const SpecialTokens& special, const std::vector<TokenId>& a,
                             const std::vector<TokenId>& b, bool add_special);

using TokenLookup = std::function<std::optional<TokenId>(std::string_view)>;

// `post_processor`: absent when null in the JSON.
SpecialTokens read_post_processor(const std::optional<JsonNode>& post_processor);

// Applies add_bos_token / add_eos_token of a tokenizer_config.json (`config` is its top level):
// true makes sure bos_token starts (eos_token ends) the special tokens, false removes it.
void apply_tokenizer_config(const JsonNode& config, const TokenLookup& lookup, SpecialTokens& special);

}  // namespace relmoe
