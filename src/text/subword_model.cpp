#include "text/subword_model.hpp"

#include "text/bpe_model.hpp"
#include "text/unigram_model.hpp"
#include "text/wordpiece_model.hpp"

namespace relmoe {

std::unique_ptr<SubwordModel> make_subword_model(const JsonNode& node, bool byte_level) {
  const auto type = node.string_or("type", "BPE");
  if (type == "BPE") return std::make_unique<BpeModel>(node, byte_level);
  if (byte_level) node.at("type").fail("a ByteLevel pre-tokenizer needs a BPE model, not " + type);
  if (type == "WordPiece") return std::make_unique<WordPieceModel>(node);
  if (type == "Unigram") return std::make_unique<UnigramModel>(node);
  node.at("type").fail("unsupported model type '" + type + "' (supported: BPE, WordPiece, Unigram)");
}

}  // namespace relmoe
