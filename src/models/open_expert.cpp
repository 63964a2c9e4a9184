#include "models/open_expert.hpp"

#include "io/json_file.hpp"

namespace relmoe {

ExpertKind expert_kind(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) return ExpertKind::Decoder;  // a GGUF file
  const auto config = read_json_file_or_null(path / "config.json");
  return config.is_object() && config.value("model_type", std::string()) == LexicalExpert::kModelType
             ? ExpertKind::Lexical
             : ExpertKind::Decoder;
}

OpenedExpert open_expert(const std::filesystem::path& path, const ExpertOptions& options) {
  if (expert_kind(path) == ExpertKind::Lexical) return LexicalExpert::load(path);
  return Expert::load(path, options);
}

}  // namespace relmoe
