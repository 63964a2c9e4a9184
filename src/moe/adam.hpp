#pragma once
// Adam for the MoE trainer, one fused pass over each parameter per step.
//
// libtorch's Adam (1.13) runs eight tensor operations per parameter and step and zero-fills every
// gradient first; with a router embedding and three projections (~1.7M floats) and batches of 128
// that was a third of a training step. This one reads p, g, m, v once and writes p, m, v once
// (CPU float32 tensors; other devices and dtypes take the same formula as tensor operations), and
// `zero_grad` drops the gradients so autograd writes fresh ones instead of adding into zeros.
// The update is torch::optim::Adam's, bit for bit up to float rounding order:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²;  p -= lr / (1 - b1^t) · m / (√v / √(1 - b2^t) + eps)
// preceded, with weight decay wd, by AdamW's decoupled p *= 1 - lr · wd.
#include <torch/torch.h>

#include <vector>

namespace relmoe {

class FusedAdam {
 public:
  explicit FusedAdam(std::vector<torch::Tensor> params, double lr, double weight_decay = 0, double beta1 = 0.9,
                     double beta2 = 0.999, double eps = 1e-8);

  // Drops the gradients; a parameter that then gets none counts as a zero gradient once it has
  // had one (libtorch's zero-filled gradients), and is left alone before that.
  void zero_grad();
  void step();

 private:
  struct Slot {
    torch::Tensor param, m, v;
    std::int64_t steps = 0;
  };
  void update(Slot& s, const torch::Tensor& grad) const;

  std::vector<Slot> slots_;
  double lr_, weight_decay_, beta1_, beta2_, eps_;
};

}  // namespace relmoe
