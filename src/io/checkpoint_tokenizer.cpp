#include "io/checkpoint_tokenizer.hpp"

#include "io/gguf_tensors.hpp"
#include "io/gguf_tokenizer.hpp"
#include "io/json_file.hpp"
#include "io/mapped_file.hpp"
#include "base/error.hpp"

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

void write_checkpoint_tokenizer(const fs::path& checkpoint, const fs::path& dir) {
  if (is_gguf_file(checkpoint)) {
    const auto mapped = MappedFile::open(checkpoint);
    const auto file = GgufFile::parse(mapped->data(), mapped->size(), checkpoint.string());
    write_json_file(dir / "tokenizer.json", gguf_tokenizer_json(file));
    write_json_file(dir / "tokenizer_config.json", gguf_tokenizer_config_json(file));
    return;
  }
  bool any = false;
  for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::exists(checkpoint / name)) {
      fs::copy_file(checkpoint / name, dir / name, fs::copy_options::overwrite_existing);
      any = true;
    }
  if (!any) fail(checkpoint.string(), "has no tokenizer (tokenizer.json or tokenizer.model)");
}

}  // namespace relmoe
