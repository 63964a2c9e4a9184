#pragma once
// tokenizer.json "pre_tokenizer": splits normalised text into the words BPE works on.
// Supported: Split (String or Regex pattern, every behaviour, invert), ByteLevel, Metaspace,
// Sequence. ByteLevel does its optional GPT-2 regex split here; its byte -> code point mapping
// is left to the BPE model (which keeps its vocabulary in raw bytes), so ByteLevel must come
// last.
#include "text/json_node.hpp"

#include <memory>
#include <string>
#include <vector>

namespace relmoe {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at the start of the encoded input (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their sub-pieces, in order; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

struct PreTokenization {
  std::unique_ptr<PreTokenizer> splitter;  // never null (identity when the JSON has none)
  bool byte_level = false;                 // a ByteLevel step is present
};

// `node` may be absent (JSON null): then pieces pass unchanged.
PreTokenization make_pre_tokenization(const std::optional<JsonNode>& node);

}  // namespace relmoe
