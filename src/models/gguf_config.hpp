#pragma once
// A decoder's config from a GGUF file's metadata ({arch}.block_count, embedding_length, ...),
// written as the config.json fields Hugging Face would have and parsed by parse_model_config, so
// GGUF and safetensors checkpoints meet the same checks. What llama.cpp fixes in code rather
// than metadata is filled in as llama.cpp does: Gemma3's local rope base 10000 and its five local
// layers to one global, the attention scale of Gemma's 27B models.
#include "io/gguf_file.hpp"
#include "models/model_config.hpp"

#include <nlohmann/json.hpp>

namespace relmoe {

nlohmann::json gguf_config_json(const GgufFile& file);
ModelConfig gguf_model_config(const GgufFile& file);

}  // namespace relmoe
