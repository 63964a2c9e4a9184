#pragma once
// The "model" of a tokenizer.json: turns one pre-tokenized word into ids. BPE (bpe_model),
// WordPiece (wordpiece_model) and Unigram (unigram_model) share this interface, so the rest of
// the pipeline (added tokens, normaliser, pre-tokenizer, post-processor) is one code path.
#include "text/json_node.hpp"
#include "text/tokenizer.hpp"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace relmoe {

class SubwordModel {
 public:
  virtual ~SubwordModel() = default;
  // Appends the ids of one pre-tokenized word.
  virtual void tokenize(std::string_view word, std::vector<TokenId>& out) const = 0;
  // Id of a vocabulary entry given in its vocabulary spelling.
  virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;
  // Largest id + 1.
  virtual std::size_t size() const = 0;
};

// By "type" (BPE when absent). `byte_level`: a ByteLevel pre-tokenizer precedes (BPE only).
std::unique_ptr<SubwordModel> make_subword_model(const JsonNode& node, bool byte_level);

}  // namespace relmoe
