#pragma once
// `relmoe convert`: a GGUF file written out as a Hugging Face checkpoint directory that
// transformers and relmoe both load: model.safetensors (every tensor dequantized to one dtype,
// under its Hugging Face name), config.json (the metadata as models/gguf_config reads it, with
// `architectures`), tokenizer.json and tokenizer_config.json (io/gguf_tokenizer).
#include <torch/types.h>

#include <cstdint>
#include <filesystem>

namespace relmoe {

struct ConvertedCheckpoint {
  std::size_t tensors = 0;
  std::uint64_t bytes = 0;  // of model.safetensors' tensor data
};

// Writes into `out` (created; existing checkpoint files there are an error). config.json comes
// last, so a run that stops early leaves no directory that looks like a checkpoint.
ConvertedCheckpoint convert_gguf(const std::filesystem::path& gguf, const std::filesystem::path& out,
                                 torch::ScalarType dtype);

}  // namespace relmoe
