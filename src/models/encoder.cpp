#include "models/encoder.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "runtime/torch_compat.hpp"

#include <cmath>
#include <limits>

namespace relmoe {

using N = EncoderNames;

EncoderBatch make_encoder_batch(const std::vector<Encoding>& encodings, std::int64_t pad_id, torch::Device device) {
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < encodings.size(); ++i) {
    if (encodings[i].ids.empty()) fail("batch", "sequence " + std::to_string(i) + " is empty");
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(encodings[i].ids.size()));
  }
  const auto rows = static_cast<std::int64_t>(encodings.size());
  auto ids = torch::full({rows, longest}, pad_id, torch::kInt64);
  auto types = torch::zeros({rows, longest}, torch::kInt64);
  auto mask = torch::zeros({rows, longest}, torch::kBool);
  auto ia = ids.accessor<std::int64_t, 2>(), ta = types.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<bool, 2>();
  for (std::int64_t b = 0; b < rows; ++b) {
    const auto& e = encodings[static_cast<std::size_t>(b)];
    if (!e.type_ids.empty() && e.type_ids.size() != e.ids.size())
      fail("batch", "sequence " + std::to_string(b) + " has " + std::to_string(e.type_ids.size()) + " type ids for " +
                        std::to_string(e.ids.size()) + " ids");
    for (std::size_t t = 0; t < e.ids.size(); ++t) {
      ia[b][static_cast<std::int64_t>(t)] = e.ids[t];
      ta[b][static_cast<std::int64_t>(t)] = e.type_ids.empty() ? 0 : e.type_ids[t];
      ma[b][static_cast<std::int64_t>(t)] = true;
    }
  }
  return {ids.to(device), mask.to(device), types.to(device)};
}

Encoder Encoder::load(const std::filesystem::path& dir, torch::ScalarType dtype, torch::Device device,
                      bool allow_unused_tensors) {
  if (dtype == torch::kFloat16 && device.is_cpu())
    fail("--dtype", "f16 is not supported on CPU (libtorch has no half-precision CPU kernels); use bf16 or f32, "
                    "or a CUDA device");
  auto config = load_encoder_config(dir);
  const auto checkpoint = Checkpoint::open(dir);
  check_layer_count(checkpoint, config.num_hidden_layers);
  // Task-head checkpoints (BertForSequenceClassification, ...) nest the encoder under a prefix.
  const std::string nested = config.family().task_prefix;
  const std::string prefix = checkpoint.contains(nested + N::word + ".weight") ? nested : "";
  auto weights = load_checked(checkpoint, encoder_tensor_specs(config, prefix),
                              config.model_type + ", " + std::to_string(config.num_hidden_layers) + " layers",
                              ignorable_encoder_tensor, dtype, device, allow_unused_tensors);
  return Encoder(std::move(config), std::move(weights), prefix);
}

Encoder Encoder::random(EncoderConfig config, torch::Device device, std::uint64_t seed) {
  Weights weights;
  auto generator = at::detail::createCPUGenerator(seed);
  for (const auto& spec : encoder_tensor_specs(config, "")) {
    torch::Tensor t;
    switch (spec.role) {
      case TensorRole::Matrix:
      case TensorRole::Embedding: t = torch::randn(spec.shape, generator, torch::kFloat32) * 0.02; break;
      case TensorRole::Bias: t = torch::zeros(spec.shape); break;
      case TensorRole::Norm: t = torch::ones(spec.shape); break;
    }
    weights[spec.name] = t.to(device);
  }
  return Encoder(std::move(config), std::move(weights), "");
}

std::vector<torch::Tensor> Encoder::make_trainable() {
  std::vector<torch::Tensor> out;
  for (auto& [name, w] : weights_) {
    w = w.detach().to(torch::kFloat32).clone().requires_grad_(true);
    out.push_back(w);
  }
  return out;
}

void Encoder::save(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  Weights bare;
  for (const auto& [name, w] : weights_) bare[name.substr(prefix_.size())] = w;
  save_tensors(dir / "model.safetensors", bare);
  write_json_file(dir / "config.json", config_.to_json());
}

Encoder::Encoder(EncoderConfig config, Weights weights, std::string prefix)
    : config_(std::move(config)), weights_(std::move(weights)), prefix_(std::move(prefix)) {}

const torch::Tensor& Encoder::w(const std::string& module, std::int64_t layer, const char* suffix) const {
  return weights_.at(prefix_ + layer_name(module, layer) + suffix);
}

torch::Tensor Encoder::norm(const torch::Tensor& x, const std::string& module, std::int64_t layer) const {
  return torch::layer_norm(x, {config_.hidden_size}, w(module, layer, ".weight"), w(module, layer, ".bias"),
                           config_.layer_norm_eps);
}

torch::Tensor Encoder::dense(const torch::Tensor& x, const std::string& module, std::int64_t layer) const {
  return torch::linear(x, w(module, layer, ".weight"), w(module, layer, ".bias"));
}

torch::Tensor Encoder::attention(const torch::Tensor& x, const torch::Tensor& key_mask, std::int64_t l) const {
  const auto B = x.size(0), T = x.size(1), heads = config_.num_attention_heads, hd = config_.head_dim();
  auto split = [&](const char* module) { return dense(x, module, l).view({B, T, heads, hd}).transpose(1, 2); };
  const auto q = split(N::q);
  const auto k = split(N::k);
  const auto v = split(N::v);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  torch::Tensor context;
  if (compat::has_fused_attention) {
    context = compat::fused_attention(q, k, v, key_mask.to(q.scalar_type()), scale);
  } else {
    auto scores = torch::matmul(q, k.transpose(-1, -2)).to(torch::kFloat32) * scale;
    context = torch::matmul(torch::softmax(scores + key_mask, -1).to(v.scalar_type()), v);
  }
  context = context.transpose(1, 2).reshape({B, T, heads * hd});
  return dense(context, N::o, l);
}

torch::Tensor Encoder::forward(const EncoderBatch& batch) const {
  const auto device = weights_.begin()->second.device();
  const auto ids = batch.ids.to(device, torch::kInt64), types = batch.type_ids.to(device, torch::kInt64);
  const auto real = batch.mask.to(device, torch::kBool);
  if (ids.dim() != 2 || ids.sizes() != real.sizes() || ids.sizes() != types.sizes())
    fail("batch", "ids, mask and type ids must all be [batch, tokens]");
  auto check_range = [](const torch::Tensor& t, std::int64_t size, const char* what) {
    if (t.numel() > 0 && (t.min().item<std::int64_t>() < 0 || t.max().item<std::int64_t>() >= size))
      fail("batch", std::string(what) + " outside [0, " + std::to_string(size) + ")");
  };
  check_range(ids, config_.vocab_size, "a token id is");
  check_range(types, config_.type_vocab_size, "a token type id is");
  const auto& family = config_.family();
  // BERT: 0, 1, 2, ...; XLM-R / RoBERTa: pad + 1, pad + 2, ... over real tokens, pad at padding.
  auto positions = family.positions_from_padding
                       ? real.to(torch::kInt64).cumsum(1) * real.to(torch::kInt64) + config_.pad_token_id
                       : torch::arange(ids.size(1), ids.options()).unsqueeze(0).expand_as(ids);
  check_range(positions, config_.max_position_embeddings, "a position (the sequence is too long) is");

  auto x = torch::embedding(w(N::word, 0, ".weight"), ids) +
           torch::embedding(w(N::position, 0, ".weight"), positions) +
           torch::embedding(w(N::token_type, 0, ".weight"), types);
  x = norm(x, N::embed_norm, 0);
  // Additive mask over keys [B, 1, 1, T]: padded keys get -inf (every row has a real key).
  auto key_mask = torch::zeros(real.sizes(), real.options().dtype(torch::kFloat32))
                      .masked_fill_(real.logical_not(), -std::numeric_limits<float>::infinity())
                      .view({ids.size(0), 1, 1, ids.size(1)});
  for (std::int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    x = norm(attention(x, key_mask, l) + x, N::attn_norm, l);
    auto h = dense(x, N::up, l);
    h = config_.gelu_tanh ? torch::gelu(h, "tanh") : torch::gelu(h);
    x = norm(dense(h, N::down, l) + x, N::ffn_norm, l);
  }
  return x;
}

}  // namespace relmoe
