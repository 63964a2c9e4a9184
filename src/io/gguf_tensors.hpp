#pragma once
// A GGUF file's tensors under their Hugging Face names, dequantized on request: the inverse of
// llama.cpp's convert_hf_to_gguf.py for the decoder families relmoe runs. Per architecture it
// renames (blk.N.attn_q -> model.layers.N.self_attn.q_proj, ...), undoes the Q/K row permutation
// of llama-architecture files, and stores Gemma's RMSNorm weights back as w where the file holds
// 1 + w. A missing output.weight means tied embeddings (no lm_head).
#include "io/gguf_file.hpp"
#include "io/mapped_file.hpp"

#include <torch/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

// A regular file that starts with GGUF's magic, whatever it is called.
bool is_gguf_file(const std::filesystem::path& path);

// llama.cpp's general.architecture and what reading it takes.
struct GgufArchitecture {
  const char* name;        // general.architecture
  const char* model_type;  // the Hugging Face model_type it converts from
  const char* hf_class;    // the transformers class of that model with its LM head
  bool permute_qk;         // Q/K rows interleaved for llama.cpp's rope (llama)
  bool norm_plus_one;      // RMSNorm weights stored as 1 + w (Gemma)
  bool sandwich_norms;     // ffn_norm is pre_feedforward_layernorm; post_* norms exist (Gemma)
};
// The row for `name`; an unsupported architecture is an error naming `file` and the supported.
const GgufArchitecture& gguf_architecture(const std::string& name, const std::string& file);

class GgufTensors {
 public:
  // Maps and parses `path`; the architecture comes from general.architecture, and Q/K
  // un-permutation takes its head counts from the metadata.
  explicit GgufTensors(const std::filesystem::path& path);

  const GgufFile& file() const { return file_; }
  const GgufArchitecture& architecture() const { return *arch_; }
  // Hugging Face names, sorted; shapes in PyTorch's order.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return by_name_.count(name) != 0; }
  std::vector<std::int64_t> shape(const std::string& name) const;
  // The tensor dequantized to `dtype` on `device`, converted row block by row block, and the
  // source's pages released from memory as they are read, so peak memory stays near the result's
  // own size. An F32 tensor read as f32 aliases the mapping (and stays resident).
  torch::Tensor get(const std::string& name, torch::ScalarType dtype, torch::Device device) const;
  std::size_t data_bytes() const;

 private:
  const GgufTensorInfo& info(const std::string& name) const;
  std::shared_ptr<MappedFile> mapped_;
  GgufFile file_;
  const GgufArchitecture* arch_ = nullptr;
  std::int64_t heads_ = 0, kv_heads_ = 0;
  std::map<std::string, const GgufTensorInfo*> by_name_;  // Hugging Face name -> tensor
};

}  // namespace relmoe
