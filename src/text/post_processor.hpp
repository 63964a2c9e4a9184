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

struct SpecialTokens {
  std::vector<TokenId> prefix, suffix;
};

using TokenLookup = std::function<std::optional<TokenId>(std::string_view)>;

// `post_processor`: absent when null in the JSON.
SpecialTokens read_post_processor(const std::optional<JsonNode>& post_processor);

// Applies add_bos_token / add_eos_token of a tokenizer_config.json (`config` is its top level):
// true makes sure bos_token starts (eos_token ends) the special tokens, false removes it.
void apply_tokenizer_config(const JsonNode& config, const TokenLookup& lookup, SpecialTokens& special);

}  // namespace relmoe
