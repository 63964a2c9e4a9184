#pragma once
// The one place that decides what an expert path holds: relmoe's lexical expert (a directory
// whose config.json has model_type "relmoe-lexical"), or a decoder checkpoint (a directory with
// config.json and safetensors, or a GGUF file). Scoring lanes, a model's expert list, the
// embed step and the flow's report all ask here.
#include "models/expert.hpp"
#include "models/lexical_expert.hpp"

#include <filesystem>
#include <variant>

namespace relmoe {

enum class ExpertKind { Lexical, Decoder };

// Reads at most a config.json; anything that is not a lexical expert is taken for a decoder,
// whose loading then names what is missing.
ExpertKind expert_kind(const std::filesystem::path& path);

using OpenedExpert = std::variant<LexicalExpert, Expert>;
OpenedExpert open_expert(const std::filesystem::path& path, const ExpertOptions& options);

}  // namespace relmoe
