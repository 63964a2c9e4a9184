#pragma once
// The BPE model of a tokenizer.json: vocabulary, ranked merges, unknown-token and byte-fallback
// handling. In byte-level mode the vocabulary is keyed by raw bytes (the GPT-2 code point
// spelling is undone at load), so words are tokenized without re-spelling them.
#include "text/json_node.hpp"
#include "text/merge_table.hpp"
#include "text/subword_model.hpp"
#include "text/tokenizer.hpp"
#include "text/word_cache.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relmoe {

class BpeModel final : public SubwordModel {
 public:
  // `node` is tokenizer.json's "model" (type BPE). `byte_level`: the pre-tokenizer maps bytes
  // to GPT-2 code points, so initial symbols are bytes instead of characters.
  BpeModel(const JsonNode& node, bool byte_level);

  // Appends the ids of one pre-tokenized word (valid UTF-8 unless byte-level).
  void tokenize(std::string_view word, std::vector<TokenId>& out) const override;

  // Id of a vocabulary entry given in its vocabulary spelling (e.g. "Ġyes").
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  // Largest id in the vocabulary + 1.
  std::size_t size() const override { return size_; }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Vocab = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

  std::optional<TokenId> find(std::string_view key) const {
    auto it = vocab_.find(key);
    return it == vocab_.end() ? std::nullopt : std::optional<TokenId>(it->second);
  }
  struct Symbol;
  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  void merge(std::vector<Symbol>& symbols) const;

  bool byte_level_;
  Vocab vocab_;  // raw-byte keys when byte-level
  MergeTable merges_;
  std::optional<TokenId> unk_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<TokenId, 256> single_byte_ids_;    // id of the one-byte token, -1 if none
  std::vector<TokenId> bmp_char_ids_;           // id of each one-character token below U+10000, -1 if none
  std::array<TokenId, 256> fallback_byte_ids_;  // id of "<0xXX>", -1 if none
  std::size_t size_ = 0;
  WordCache cache_;
};

}  // namespace relmoe
