#pragma once
// Text -> token ids. Implementations: Hugging Face tokenizer.json (BPE, WordPiece, Unigram) and
// SentencePiece tokenizer.model (BPE and unigram, read by relmoe's own protobuf reader).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relmoe {

using TokenId = std::int32_t;

// Ids with their token type ids (0 for the first text of a pair, 1 for the second in BERT).
struct Encoding {
  std::vector<TokenId> ids;
  std::vector<std::int32_t> type_ids;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encodes UTF-8 text. Added/special tokens written in the text are matched as tokens.
  // add_special applies the post-processor's BOS/EOS (as HF `add_special_tokens=True`).
  // Invalid UTF-8 throws relmoe::Error.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special) const = 0;

  // A sentence pair (query, item): each text encoded, then joined by the post-processor's pair
  // template (BERT: [CLS] A [SEP] B [SEP], type ids 0 then 1) when add_special.
  virtual Encoding encode_pair(std::string_view a, std::string_view b, bool add_special) const = 0;

  // Id of a single vocabulary entry or added token, written as in the vocabulary
  // (e.g. "Ġyes" for byte-level BPE); nullopt when absent.
  virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;

  // Id that `text` encodes to when it is exactly one token (e.g. " yes"); nullopt otherwise.
  std::optional<TokenId> single_token_id(std::string_view text) const;

  // Number of ids (vocabulary plus added tokens); every id produced is < vocab_size().
  virtual std::size_t vocab_size() const = 0;
};

// Loads a tokenizer.json, a tokenizer.model, or a directory holding one of them
// (tokenizer.json preferred; tokenizer_config.json beside it is read when present).
// Errors name the file and what is wrong.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);

// Builds a tokenizer from tokenizer.json text held in memory (no tokenizer_config.json);
// errors name `source_name` and the JSON field at fault.
std::unique_ptr<Tokenizer> load_tokenizer_json_text(std::string_view json, const std::string& source_name);

}  // namespace relmoe
