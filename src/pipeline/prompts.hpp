#pragma once
// What an expert reads for a pair: its prompt template rendered with the pair's fields, then
// encoded with its tokenizer (special tokens added). Shared by `relmoe embed` and the batch
// scorer so both feed experts identical ids.
#include "io/pairs.hpp"
#include "models/expert.hpp"

#include <string>
#include <vector>

namespace relmoe {

std::string render_prompt(const Expert& expert, const Pair& pair);

// Errors name the expert and the pair: no tokenizer in the expert, or no tokens produced.
// A prompt over `limit` tokens is cut by truncate_prompt and counted in `truncated`.
std::vector<TokenId> encode_prompt(const Expert& expert, const std::string& expert_name, const Pair& pair,
                                   const std::string& prompt, std::size_t limit, std::int64_t& truncated);

}  // namespace relmoe
