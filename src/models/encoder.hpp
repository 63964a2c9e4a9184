#pragma once
// One forward for the encoder families of encoder_config.hpp: embeddings (word + absolute
// position + token type, LayerNorm), post-LN layers (self-attention over the real tokens,
// GELU MLP), every token's final hidden state. BERT counts positions from 0; XLM-R / RoBERTa
// from pad_token_id + 1 over the real tokens.
#include "models/encoder_config.hpp"
#include "models/weights.hpp"
#include "text/tokenizer.hpp"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace relmoe {

// A right-padded batch with token types.
struct EncoderBatch {
  torch::Tensor ids;       // [B, T] int64
  torch::Tensor mask;      // [B, T] bool, true at real tokens
  torch::Tensor type_ids;  // [B, T] int64
};

// Pads `encodings` (ids + type ids; empty type ids mean all 0) to the longest one.
EncoderBatch make_encoder_batch(const std::vector<Encoding>& encodings, std::int64_t pad_id, torch::Device device);

class Encoder {
 public:
  // config.json + model.safetensors (bare, or under the family's "bert." / "roberta." prefix;
  // pooler and task heads in the file are ignored) in `dtype` on `device`.
  static Encoder load(const std::filesystem::path& dir, torch::ScalarType dtype, torch::Device device,
                      bool allow_unused_tensors = false);

  // Randomly initialised in f32 on `device` as Hugging Face initialises BERT: matrices and
  // embeddings ~ N(0, 0.02), biases 0, LayerNorm scales 1 (a student trained from scratch).
  static Encoder random(EncoderConfig config, torch::Device device, std::uint64_t seed);

  // For training: every tensor becomes an owned f32 copy (loaded f32 tensors alias the read-only
  // mapped checkpoint) that requires grad; returns them.
  std::vector<torch::Tensor> make_trainable();
  // config.json + model.safetensors (f32, bare tensor names) that load() reads back.
  void save(const std::filesystem::path& dir) const;

  // [B, T, hidden] in the model dtype; rows of padded positions are computed but meaningless.
  // Ids outside the vocabulary, type ids outside type_vocab_size and sequences longer than the
  // positions throw relmoe::Error.
  torch::Tensor forward(const EncoderBatch& batch) const;

  const EncoderConfig& config() const { return config_; }

 private:
  Encoder(EncoderConfig config, Weights weights, std::string prefix);
  const torch::Tensor& w(const std::string& module, std::int64_t layer, const char* suffix) const;
  torch::Tensor norm(const torch::Tensor& x, const std::string& module, std::int64_t layer) const;
  torch::Tensor dense(const torch::Tensor& x, const std::string& module, std::int64_t layer) const;
  torch::Tensor attention(const torch::Tensor& x, const torch::Tensor& key_mask, std::int64_t layer) const;

  EncoderConfig config_;
  Weights weights_;
  std::string prefix_;
};

}  // namespace relmoe
