#pragma once
// A fine-tuned expert directory may hold only what fine-tuning added (relmoe.json and a LoRA
// adapter) and name the pretrained checkpoint it starts from in relmoe.json:
//   {"base": "../models/gemma-3-270m-q4_k_m.gguf", "adapter": "adapter", ...}
// "base" is a checkpoint directory or a GGUF file; a relative path is relative to the expert
// directory. Config, weights and tokenizer then come from the base.
#include <filesystem>

namespace relmoe {

// The checkpoint whose config, weights and tokenizer `expert` uses: its base when relmoe.json
// names one (which must exist; the error names relmoe.json and the field), else `expert`.
std::filesystem::path expert_checkpoint(const std::filesystem::path& expert);

// Whether `path` is already a relevance expert (trained or fine-tuned by relmoe: its relmoe.json
// says how, or it carries a LoRA adapter) rather than a pretrained checkpoint to fine-tune.
bool is_trained_expert(const std::filesystem::path& path);

}  // namespace relmoe
