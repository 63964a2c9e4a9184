#pragma once
// A Hugging Face checkpoint's tensors: model.safetensors or a sharded
// model.safetensors.index.json, memory-mapped, with metadata aliases resolved
// (e.g. story-llama stores only lm_head.weight and maps model.embed_tokens.weight to it);
// or a GGUF file, whose llama.cpp tensors appear under their Hugging Face names, dequantized at
// `get`, with the converter's transforms undone (io/gguf_tensors.hpp).
#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

class GgufFile;

class Checkpoint {
 public:
  // `dir` holds model.safetensors or model.safetensors.index.json (or is a .safetensors or
  // .gguf file).
  static Checkpoint open(const std::filesystem::path& dir);
  // The parsed GGUF file (its metadata give the config and tokenizer), or nullptr.
  const GgufFile* gguf() const;

  bool contains(const std::string& name) const;
  std::vector<std::string> names() const;
  std::vector<std::int64_t> shape(const std::string& name) const;
  // The name under which `name` is stored (itself, or its alias target); "" when missing.
  std::string stored_name(const std::string& name) const;
  // The names physically stored in the shards (aliases excluded), sorted.
  std::vector<std::string> stored_names() const;
  // The shard file holding `name` (for messages); throws when missing.
  std::filesystem::path file_of(const std::string& name) const;
  // The directory or file opened, for messages.
  const std::string& source() const;

  // The tensor converted to `dtype` on `device`. When no conversion or copy is needed
  // (same dtype, CPU) the tensor aliases the mapped file: no copy, pages load on demand.
  // A missing tensor, or one whose shape differs from `expected_shape` (when given),
  // throws relmoe::Error naming the file and tensor.
  torch::Tensor get(const std::string& name, torch::ScalarType dtype, torch::Device device,
                    const std::optional<std::vector<std::int64_t>>& expected_shape = {}) const;

  // Total bytes of tensor data across shards.
  std::size_t data_bytes() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace relmoe
