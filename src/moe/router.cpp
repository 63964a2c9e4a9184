#include "moe/router.hpp"

namespace relmoe {

namespace {

// to[ids[j]] += from[bags[j]] for every j: what index_add_ does, without its per-index dispatch.
void add_rows(torch::Tensor& to, const torch::Tensor& ids, const torch::Tensor& bags, const torch::Tensor& from) {
  const auto width = to.size(1);
  float* out = to.data_ptr<float>();
  const float* in = from.data_ptr<float>();
  const auto* id = ids.data_ptr<std::int64_t>();
  const auto* bag = bags.data_ptr<std::int64_t>();
  for (std::int64_t j = 0; j < ids.size(0); ++j) {
    float* row = out + id[j] * width;
    const float* add = in + bag[j] * width;
    for (std::int64_t d = 0; d < width; ++d) row[d] += add[d];
  }
}

// Mean of each bag's embedding rows. EmbeddingBag's own backward sorts the ids every step
// (about a tenth of a training step at batch 128 with ~300 n-grams per pair); here the gradient
// adds each id's bag gradient / bag length into a zero table.
struct BagMean : torch::autograd::Function<BagMean> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& weight,
                               const torch::Tensor& ids, const torch::Tensor& offsets) {
    ctx->save_for_backward({ids, offsets});
    ctx->saved_data["rows"] = weight.size(0);
    return std::get<0>(torch::embedding_bag(weight, ids, offsets, /*scale_grad_by_freq=*/false, /*mode=mean*/ 1));
  }

  // Bag sizes and each id's bag are derived here, so inference pays nothing for them.
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& ids = saved[0];
    const auto& offsets = saved[1];
    const auto ends =
        torch::cat({offsets.narrow(0, 1, offsets.size(0) - 1), torch::full({1}, ids.size(0), offsets.options())});
    const auto lengths = ends - offsets;
    const auto bag_of_id = torch::repeat_interleave(lengths);
    const auto per_bag = grads[0] / lengths.clamp_min(1).unsqueeze(1).to(grads[0].scalar_type());
    auto grad_weight = torch::zeros({ctx->saved_data["rows"].toInt(), grads[0].size(1)}, grads[0].options());
    if (grad_weight.is_cpu() && grad_weight.scalar_type() == torch::kFloat32)
      add_rows(grad_weight, ids, bag_of_id, per_bag.contiguous());
    else
      grad_weight.index_add_(0, ids, per_bag.index_select(0, bag_of_id));
    return {grad_weight, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

RouterImpl::RouterImpl(std::int64_t buckets, std::int64_t markets, std::int64_t experts, std::int64_t text_dim,
                       std::int64_t market_dim, std::int64_t hidden_dim) {
  text = register_module(
      "text", torch::nn::EmbeddingBag(torch::nn::EmbeddingBagOptions(buckets, text_dim).mode(torch::kMean)));
  market = register_module("market", torch::nn::Embedding(std::max<std::int64_t>(markets, 1), market_dim));
  hidden = register_module("hidden", torch::nn::Linear(text_dim + market_dim, hidden_dim));
  out = register_module("out", torch::nn::Linear(hidden_dim, experts));
  // Start near uniform routing: no expert is favoured before training says so.
  torch::NoGradGuard no_grad;
  out->weight.mul_(0.1);
  out->bias.zero_();
}

torch::Tensor RouterImpl::forward(const torch::Tensor& ids, const torch::Tensor& offsets, const torch::Tensor& markets) {
  auto x = torch::cat({BagMean::apply(text->weight, ids, offsets), market->forward(markets)}, 1);
  return out->forward(torch::relu(hidden->forward(x)));
}

}  // namespace relmoe
