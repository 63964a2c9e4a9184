#pragma once
// What a small expert trained from scratch looks like: the decoder shape per family and size,
// and the relevance prompt it learns to answer with " yes" / " no" (stored in relmoe.json).
#include "models/model_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace relmoe {

// A config for `arch` (qwen2 | llama | gemma2) and `size` (tiny: hidden 128, 2 layers;
// small: hidden 256, 4 layers) with `vocab_size` ids, built through the runtime's config
// parser so every family default is the runtime's. Errors name the flag.
ModelConfig expert_config(const std::string& arch, const std::string& size, std::int64_t vocab_size,
                          std::int64_t max_tokens);

// The prompt template written to relmoe.json (rendered by text/prompt_template); the answer
// token follows "relevant:". One line: SentencePiece normalisation would fold newlines anyway.
inline constexpr const char* kExpertPromptTemplate =
    "query: {query} | market: {market} | item: {item} | {item_desc} | relevant:";
inline constexpr const char* kAnswerYes = " yes";
inline constexpr const char* kAnswerNo = " no";

// relmoe.json for an expert trained here (prompt template, answer strings, provenance).
nlohmann::json expert_manifest(const nlohmann::json& provenance);

}  // namespace relmoe
