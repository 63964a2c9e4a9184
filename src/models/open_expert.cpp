#include "models/open_expert.hpp"

#include "io/json_file.hpp"

namespace relmoe {

ExpertKind expert_kind(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) return ExpertKind::Decoder;  // a GGUF file
  const auto config = read_json_file_or_null(path / "config.json");
  // Anything but the lexical model_type string (absent, null, another type) is left to the
  // decoder's config reader, whose errors name the file and the field.
  const bool lexical = config.is_object() && config.contains("model_type") && config["model_type"].is_string() &&
                       config["model_type"].get<std::string>() == LexicalExpert::kModelType;
  return lexical ? ExpertKind::Lexical : ExpertKind::Decoder;
}

OpenedExpert open_expert(const std::filesystem::path& path, const ExpertOptions& options) {
  if (expert_kind(path) == ExpertKind::Lexical) return LexicalExpert::load(path);
  return Expert::load(path, options);
}

}  // namespace relmoe
