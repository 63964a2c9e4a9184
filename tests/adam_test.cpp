// FusedAdam against libtorch's own torch::optim::Adam (and AdamW with weight decay): same
// parameters after several steps, on the fused CPU float32 path and on the tensor-operation path
// (float64), including a parameter that gets no gradient in some steps.
#include "moe/adam.hpp"

#include <gtest/gtest.h>

namespace {

// Runs `steps` updates of both optimisers on copies of the same parameters with the same
// gradients; parameter 1 has no gradient in step 0 and step 3.
void expect_same_as_torch_adam(torch::ScalarType dtype, double weight_decay = 0) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> mine, theirs, initial;
  for (auto shape : {std::vector<std::int64_t>{70000}, std::vector<std::int64_t>{33, 7}}) {
    auto init = torch::randn(shape, torch::dtype(dtype));
    initial.push_back(init);
    mine.push_back(init.clone().requires_grad_());
    theirs.push_back(init.clone().requires_grad_());
  }
  relmoe::FusedAdam fused(mine, 3e-3, weight_decay, 0.9, 0.99, 1e-6);
  std::unique_ptr<torch::optim::Optimizer> reference;
  if (weight_decay > 0)
    reference = std::make_unique<torch::optim::AdamW>(
        theirs, torch::optim::AdamWOptions(3e-3).betas({0.9, 0.99}).eps(1e-6).weight_decay(weight_decay));
  else
    reference = std::make_unique<torch::optim::Adam>(theirs, torch::optim::AdamOptions(3e-3).betas({0.9, 0.99}).eps(1e-6));
  for (int step = 0; step < 6; ++step) {
    fused.zero_grad();
    // Gradients zeroed, not reset: FusedAdam updates a parameter that has had a gradient with a
    // zero one when it gets none (libtorch 1.13's zero_grad; 2.x's resets them, and its Adam
    // then skips the parameter).
    for (auto& p : theirs)
      if (p.grad().defined()) p.mutable_grad().zero_();
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (i == 1 && (step == 0 || step == 3)) continue;
      const auto target = torch::randn(mine[i].sizes(), torch::dtype(dtype));
      (mine[i] * target).sum().backward();
      (theirs[i] * target).sum().backward();
    }
    fused.step();
    reference->step();
  }
  for (std::size_t i = 0; i < mine.size(); ++i) {
    EXPECT_GT((mine[i] - initial[i]).abs().mean().item<double>(), 1e-3) << "parameter " << i << " did not move";
    EXPECT_TRUE(torch::allclose(mine[i], theirs[i], /*rtol=*/1e-5, /*atol=*/1e-6))
        << "parameter " << i << " max diff " << (mine[i] - theirs[i]).abs().max().item<double>();
  }
}

}  // namespace

TEST(FusedAdam, MatchesTorchAdamOnTheFusedFloat32Path) { expect_same_as_torch_adam(torch::kFloat32); }

TEST(FusedAdam, MatchesTorchAdamOnTheTensorPath) { expect_same_as_torch_adam(torch::kFloat64); }

TEST(FusedAdam, MatchesTorchAdamWWithWeightDecay) {
  expect_same_as_torch_adam(torch::kFloat32, 0.5);
  expect_same_as_torch_adam(torch::kFloat64, 0.5);
}
