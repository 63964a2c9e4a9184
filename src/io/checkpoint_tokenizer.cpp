#include "io/checkpoint_tokenizer.hpp"

#include "io/gguf_tensors.hpp"
#include "io/gguf_tokenizer.hpp"
#include "io/mapped_file.hpp"

namespace relmoe {
namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> load_checkpoint_tokenizer(const fs::path& path) {
  if (!is_gguf_file(path)) return load_tokenizer(path);
  const auto mapped = MappedFile::open(path);
  return gguf_tokenizer(GgufFile::parse(mapped->data(), mapped->size(), path.string()));
}

std::unique_ptr<Tokenizer> find_checkpoint_tokenizer(const fs::path& checkpoint) {
  if (is_gguf_file(checkpoint) || fs::exists(checkpoint / "tokenizer.json") || fs::exists(checkpoint / "tokenizer.model"))
    return load_checkpoint_tokenizer(checkpoint);
  return nullptr;
}

}  // namespace relmoe
