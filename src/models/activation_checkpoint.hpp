#pragma once
// Gradient checkpointing for one block of a forward pass: the block runs without keeping its
// intermediates, and autograd's backward pass runs it again (with gradients) from its saved
// input. Memory for activations drops from every block's to one block's at a time, for about
// one more forward of compute.
#include <torch/types.h>

#include <functional>
#include <vector>

namespace relmoe {

// `block(x)`, checkpointed. `params` are the tensors requiring gradients that `block` reads
// (they receive their gradients in the backward pass); `block` must be a pure function of `x`
// and them, and stay callable until the backward pass has run.
torch::Tensor checkpointed(std::function<torch::Tensor(const torch::Tensor&)> block, const torch::Tensor& x,
                           const std::vector<torch::Tensor>& params);

}  // namespace relmoe
