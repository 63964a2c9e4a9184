#pragma once
// The tokenizer that comes with a checkpoint: a GGUF file's own (built from its metadata,
// io/gguf_tokenizer.hpp), or the tokenizer.json / tokenizer.model of a checkpoint directory.
#include "text/tokenizer.hpp"

#include <filesystem>
#include <memory>

namespace relmoe {

// `path` is a GGUF file, a tokenizer file or a directory holding one; errors name the file.
std::unique_ptr<Tokenizer> load_checkpoint_tokenizer(const std::filesystem::path& path);

// The checkpoint's tokenizer, or null when a directory holds none.
std::unique_ptr<Tokenizer> find_checkpoint_tokenizer(const std::filesystem::path& checkpoint);

// Gives directory `dir` the tokenizer of `checkpoint`: its tokenizer files copied, or for a GGUF
// file the tokenizer.json and tokenizer_config.json transformers would build from it.
void write_checkpoint_tokenizer(const std::filesystem::path& checkpoint, const std::filesystem::path& dir);

}  // namespace relmoe
