#pragma once
// The tokenizer a GGUF file describes in its tokenizer.ggml.* metadata, built as Hugging Face
// transformers builds it from the same file (a tokenizer.json for the `tokenizers` library), so
// a GGUF checkpoint tokenizes exactly as transformers does with it:
//   gpt2   byte-level BPE: the tokens (respelled in GPT-2's byte alphabet when they are not),
//          the file's merges, and the split regex of its tokenizer.ggml.pre family (qwen2,
//          llama-bpe, ...; GPT-2's own regex for the others, smollm among them);
//   llama  SentencePiece-style BPE with byte fallback, merges from the file or rebuilt from the
//          vocabulary, best score first; Gemma files (general.architecture gemma*) rank them by
//          the order of the tokens and respell tokens made only of spaces as "▁"s.
// Control tokens (type 3) become special added tokens, user-defined ones (4) plain added tokens;
// BOS / EOS follow tokenizer.ggml.add_bos_token / add_eos_token (SentencePiece files add BOS
// unless they say otherwise). Other tokenizer models are an error naming the file and the model.
#include "io/gguf_file.hpp"
#include "text/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <memory>

namespace relmoe {

// The tokenizer.json transformers would save for `file` (what `relmoe convert` writes).
nlohmann::json gguf_tokenizer_json(const GgufFile& file);
// Its tokenizer_config.json: the named special tokens and add_bos_token / add_eos_token.
nlohmann::json gguf_tokenizer_config_json(const GgufFile& file);

std::unique_ptr<Tokenizer> gguf_tokenizer(const GgufFile& file);

}  // namespace relmoe
