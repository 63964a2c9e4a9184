#pragma once
// tokenizer.json "normalizer": rewrites each text segment before pre-tokenization.
// Supported: NFC, NFD, NFKC, NFKD (utf8proc), Replace (String or Regex pattern), Prepend,
// BertNormalizer, Precompiled (sentencepiece's compiled map), Sequence. Any other type is
// rejected at load time.
#include "text/json_node.hpp"

#include <memory>
#include <string>

namespace relmoe {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // `text` is valid UTF-8 and stays so.
  virtual void normalize(std::string& text) const = 0;
};

std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node);

}  // namespace relmoe
