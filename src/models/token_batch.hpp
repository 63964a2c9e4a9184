#pragma once
// A padded batch of token-id sequences: ids plus a mask marking the real tokens.
#include "text/tokenizer.hpp"

#include <torch/types.h>

#include <vector>

namespace relmoe {

struct TokenBatch {
  torch::Tensor ids;   // [B, T] int64; padded slots hold 0
  torch::Tensor mask;  // [B, T] bool; true at real tokens, which form one contiguous run per row
};

enum class Padding { Right, Left };

// Pads `sequences` to the longest one. Empty sequences throw relmoe::Error naming the index.
TokenBatch make_batch(const std::vector<std::vector<TokenId>>& sequences, torch::Device device,
                      Padding padding = Padding::Right);

}  // namespace relmoe
