#include "text/tokenizer.hpp"

#include "base/error.hpp"
#include "text/hf_tokenizer.hpp"
#include "text/read_file.hpp"
#include "text/spm_tokenizer.hpp"

namespace relmoe {
namespace fs = std::filesystem;
namespace {

// Parses JSON text into a tokenizer; nlohmann exceptions surface as relmoe::Error naming `source`.
template <typename Build>
std::unique_ptr<Tokenizer> with_json(std::string_view text, const std::string& source, Build&& build) {
  try {
    const auto root = parse_json_text(text, source);
    return build(JsonNode(root, source));
  } catch (const nlohmann::json::exception& e) {
    fail(source, one_line(e.what()));
  }
}

// tokenizer_config.json beside `tokenizer`, when present.
std::optional<nlohmann::json> read_config(const fs::path& tokenizer, std::string& source) {
  source = (tokenizer.parent_path() / "tokenizer_config.json").string();
  if (!fs::exists(source)) return std::nullopt;
  return parse_json_text(read_file(source), source);
}

std::unique_ptr<Tokenizer> load_json_file(const fs::path& path) {
  std::string config_source;
  const auto config = read_config(path, config_source);
  const auto config_node =
      config ? std::optional<JsonNode>(JsonNode(*config, config_source)) : std::nullopt;
  return with_json(read_file(path), path.string(), [&](const JsonNode& root) {
    return std::make_unique<HfTokenizer>(root, config_node);
  });
}

std::unique_ptr<Tokenizer> load_model_file(const fs::path& path) {
  std::string config_source;
  const auto config = read_config(path, config_source);
  return std::make_unique<SpmTokenizer>(
      read_spm_model(path), path.string(),
      config ? std::optional<JsonNode>(JsonNode(*config, config_source)) : std::nullopt);
}

}  // namespace

std::optional<TokenId> Tokenizer::single_token_id(std::string_view text) const {
  const auto ids = encode(text, false);
  if (ids.size() != 1) return std::nullopt;
  return ids.front();
}

std::unique_ptr<Tokenizer> load_tokenizer_json_text(std::string_view json, const std::string& source_name) {
  return with_json(json, source_name, [](const JsonNode& root) {
    return std::make_unique<HfTokenizer>(root, std::nullopt);
  });
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& path) {
  if (fs::is_directory(path)) {
    if (fs::exists(path / "tokenizer.json")) return load_json_file(path / "tokenizer.json");
    if (fs::exists(path / "tokenizer.model")) return load_model_file(path / "tokenizer.model");
    fail(path.string(), "directory holds neither tokenizer.json nor tokenizer.model");
  }
  if (!fs::exists(path)) fail(path.string(), "cannot open: no such file or directory");
  if (path.extension() == ".model") return load_model_file(path);
  return load_json_file(path);
}

}  // namespace relmoe
