#include "moe/adam.hpp"

#include <ATen/Parallel.h>

#include <cmath>

namespace relmoe {

namespace {

struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, root_correction2, step_size;
};

// restrict and -fno-math-errno (CMakeLists.txt) let the compiler vectorise this loop.
void adam_span(const AdamScalars& k, float* __restrict p, float* __restrict m, float* __restrict v,
               const float* __restrict g, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    m[i] = k.beta1 * m[i] + k.one_minus_beta1 * g[i];
    v[i] = k.beta2 * v[i] + k.one_minus_beta2 * g[i] * g[i];
    p[i] -= k.step_size * m[i] / (std::sqrt(v[i]) / k.root_correction2 + k.eps);
  }
}

}  // namespace

FusedAdam::FusedAdam(std::vector<torch::Tensor> params, double lr, double weight_decay, double beta1, double beta2,
                     double eps)
    : lr_(lr), weight_decay_(weight_decay), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (auto& p : params) slots_.push_back({p, torch::zeros_like(p), torch::zeros_like(p)});
}

void FusedAdam::zero_grad() {
  for (auto& s : slots_) s.param.mutable_grad().reset();
}

void FusedAdam::step() {
  torch::NoGradGuard no_grad;
  for (auto& s : slots_) {
    const auto& grad = s.param.grad();
    if (!grad.defined() && s.steps == 0) continue;
    update(s, grad.defined() ? grad : torch::zeros_like(s.param));
  }
}

void FusedAdam::update(Slot& s, const torch::Tensor& grad) const {
  ++s.steps;
  if (weight_decay_ > 0) s.param.mul_(1 - lr_ * weight_decay_);
  const double correction1 = 1 - std::pow(beta1_, static_cast<double>(s.steps));
  const double correction2 = 1 - std::pow(beta2_, static_cast<double>(s.steps));
  const double step_size = lr_ / correction1, root2 = std::sqrt(correction2);
  const bool fused = s.param.is_cpu() && s.param.scalar_type() == torch::kFloat32 && s.param.is_contiguous() &&
                     grad.is_contiguous() && grad.scalar_type() == torch::kFloat32;
  if (!fused) {
    s.m.mul_(beta1_).add_(grad, 1 - beta1_);
    s.v.mul_(beta2_).addcmul_(grad, grad, 1 - beta2_);
    s.param.addcdiv_(s.m, (s.v.sqrt() / root2).add_(eps_), -step_size);
    return;
  }
  const AdamScalars k{static_cast<float>(beta1_),     static_cast<float>(1 - beta1_), static_cast<float>(beta2_),
                      static_cast<float>(1 - beta2_), static_cast<float>(eps_),       static_cast<float>(root2),
                      static_cast<float>(step_size)};
  float* p = s.param.data_ptr<float>();
  float* m = s.m.data_ptr<float>();
  float* v = s.v.data_ptr<float>();
  const float* g = grad.data_ptr<float>();
  at::parallel_for(0, s.param.numel(), 1 << 14, [&](std::int64_t begin, std::int64_t end) {
    adam_span(k, p + begin, m + begin, v + begin, g + begin, end - begin);
  });
}

}  // namespace relmoe
