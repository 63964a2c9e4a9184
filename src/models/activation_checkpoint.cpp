#include "models/activation_checkpoint.hpp"

#include <torch/torch.h>

namespace relmoe {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The block and its parameters, carried from the forward to the backward in the context.
struct Block : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor&)> run;
  std::vector<torch::Tensor> params;
};

struct Recompute : torch::autograd::Function<Recompute> {
  // Runs with gradients off (autograd's rule for custom functions): nothing inside is kept.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, at::TensorList params,
                               const c10::intrusive_ptr<Block>& block) {
    ctx->save_for_backward({x});
    ctx->saved_data["block"] = c10::IValue::make_capsule(block);
    ctx->saved_data["x_grad"] = x.requires_grad();
    return block->run(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto block = c10::static_intrusive_pointer_cast<Block>(ctx->saved_data["block"].toCapsule());
    const bool x_grad = ctx->saved_data["x_grad"].toBool();
    auto x = ctx->get_saved_variables()[0].detach().requires_grad_(x_grad);
    torch::Tensor y;
    {
      torch::AutoGradMode enable(true);
      y = block->run(x);
    }
    variable_list inputs;
    if (x_grad) inputs.push_back(x);
    inputs.insert(inputs.end(), block->params.begin(), block->params.end());
    variable_list out;
    auto g = inputs.empty() ? variable_list{}
                            : torch::autograd::grad({y}, inputs, {grads[0]}, false, false, /*allow_unused=*/true);
    out.push_back(x_grad ? g[0] : torch::Tensor());
    out.insert(out.end(), g.begin() + (x_grad ? 1 : 0), g.end());
    out.emplace_back();  // the block itself
    return out;
  }
};

}  // namespace

torch::Tensor checkpointed(std::function<torch::Tensor(const torch::Tensor&)> block, const torch::Tensor& x,
                           const std::vector<torch::Tensor>& params) {
  auto holder = c10::make_intrusive<Block>();
  holder->run = std::move(block);
  holder->params = params;
  return Recompute::apply(x, at::TensorList(params), holder);
}

}  // namespace relmoe
