#include "models/transformer.hpp"

#include "base/error.hpp"
#include "models/activation_checkpoint.hpp"
#include "models/decoder_tensors.hpp"
#include "runtime/torch_compat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace relmoe {

namespace {



// Under InferenceMode the forward may overwrite its own intermediates, saving allocations.
// Not merely without gradients: a checkpointed layer's forward runs so and must keep its input.
bool in_place() { return c10::InferenceMode::is_enabled(); }

torch::Tensor softcap(const torch::Tensor& x, std::optional<double> cap) {
  return cap ? torch::tanh(x / *cap) * *cap : x;
}

// Rotary inverse frequencies for base `theta`, with the config's linear or Llama-3 scaling when
// `scaled` (Gemma3's local layers rotate unscaled, with their own base).
std::vector<double> rope_inverse_frequencies(const ModelConfig& c, double theta, bool scaled) {
  std::vector<double> inv(static_cast<std::size_t>(c.head_dim / 2));
  for (std::size_t i = 0; i < inv.size(); ++i)
    inv[i] = 1.0 / std::pow(theta, 2.0 * static_cast<double>(i) / c.head_dim);
  if (!c.rope_scaling || !scaled) return inv;
  const RopeScaling& s = *c.rope_scaling;
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  for (double& f : inv) {
    if (s.type == "linear") {
      f /= s.factor;
      continue;
    }
    const double wavelen = 2 * M_PI / f;
    if (wavelen > old_len / s.low_freq_factor) {
      f /= s.factor;
    } else if (wavelen >= old_len / s.high_freq_factor) {
      const double smooth =
          (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      f = (1 - smooth) * f / s.factor + smooth * f;
    }
  }
  return inv;
}

// Additive attention mask [B, 1, 1, Tq, T]: query row i (token index q_index) sees real keys
// j <= i, within `window` positions when given. A row always sees itself, so padded query
// rows stay finite and never turn padded values into NaN for the real rows.
torch::Tensor attention_mask(const torch::Tensor& real, const torch::Tensor& q_index,
                             const torch::Tensor& positions, std::optional<std::int64_t> window) {
  const auto batch = real.size(0), keys = real.size(1), queries = q_index.size(1);
  auto j = torch::arange(keys, q_index.options()).view({1, 1, keys});
  auto i = q_index.unsqueeze(-1);
  auto allowed = (j <= i) & real.unsqueeze(1);
  if (window) {
    auto query_pos = positions.gather(1, q_index).unsqueeze(-1);
    allowed &= (query_pos - positions.unsqueeze(1)) < *window;
  }
  allowed |= (j == i);
  auto mask = torch::zeros(allowed.sizes(), real.options().dtype(torch::kFloat32));
  mask.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  return mask.view({batch, 1, 1, queries, keys});
}

}  // namespace

struct Transformer::Context {
  // Rotary tables: all positions [B, 1, T, hd], and each sequence's last one [B, 1, 1, hd].
  struct Rotary {
    torch::Tensor cos, sin, cos_last, sin_last;
  };
  std::int64_t batch = 0, tokens = 0, attention_block = 0;
  torch::Tensor rows, last;  // [B]: arange(B), index of each last real token
  Rotary rotary, local_rotary;  // local_rotary: sliding layers with their own base (Gemma3)
  torch::Tensor mask, mask_last, sliding_mask, sliding_mask_last;

  const Rotary& rotary_of(const Layer& layer) const {
    return layer.sliding && local_rotary.cos.defined() ? local_rotary : rotary;
  }

  torch::Tensor at_last(const torch::Tensor& x) const { return x.index({rows, last}).unsqueeze(1); }
};

Transformer::Transformer(ModelConfig config, Weights weights)
    : config_(std::move(config)), family_(&family_of(config_)), weights_(std::move(weights)) {
  for (const auto& spec : tensor_specs(config_)) {
    auto it = weights_.find(spec.name);
    if (it == weights_.end()) fail("model weights", "missing tensor '" + spec.name + "'");
    if (it->second.sizes() != c10::IntArrayRef(spec.shape))
      fail("model weights", "tensor '" + spec.name + "' has shape " +
                                c10::str(it->second.sizes()) + ", expected " +
                                c10::str(c10::IntArrayRef(spec.shape)));
  }
  const auto& any = weights_.begin()->second;
  if (any.scalar_type() == torch::kFloat16 && any.device().is_cpu())
    fail("--dtype", "f16 is not supported on CPU (libtorch has no half-precision CPU matmul); "
                    "use bf16 or f32, or a CUDA device");
  auto get = [&](const std::string& module, std::int64_t layer, const char* suffix,
                 bool present = true) {
    if (module.empty() || !present) return torch::Tensor();
    return weights_.at(layer_name(module, layer) + suffix);
  };
  auto projection = [&](const std::string& module, std::int64_t layer, bool bias) {
    return Projection{layer_name(module, layer), get(module, layer, ".weight"), get(module, layer, ".bias", bias), {}, {}, 0};
  };
  const auto& n = family_->names;
  for (std::int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    Layer L;
    L.attn_norm = get(n.attn_norm, l, ".weight");
    L.q = projection(n.q, l, config_.qkv_bias);
    L.k = projection(n.k, l, config_.qkv_bias);
    L.v = projection(n.v, l, config_.qkv_bias);
    L.q_norm = get(n.q_norm, l, ".weight");
    L.k_norm = get(n.k_norm, l, ".weight");
    L.o = projection(n.o, l, config_.o_bias);
    L.attn_post_norm = get(n.attn_post_norm, l, ".weight");
    L.ffn_norm = get(n.ffn_norm, l, ".weight");
    L.gate = projection(n.gate, l, config_.mlp_bias);
    L.up = projection(n.up, l, config_.mlp_bias);
    L.down = projection(n.down, l, config_.mlp_bias);
    L.ffn_post_norm = get(n.ffn_post_norm, l, ".weight");
    L.sliding = config_.sliding_window && l < static_cast<std::int64_t>(config_.sliding_layers.size()) &&
                config_.sliding_layers[static_cast<std::size_t>(l)];
    layers_.push_back(std::move(L));
  }
  embed_ = get(n.embed, 0, ".weight");
  final_norm_ = get(n.final_norm, 0, ".weight");
  head_ = config_.tie_word_embeddings ? embed_ : get(n.lm_head, 0, ".weight");
  inv_freq_ = rope_inverse_frequencies(config_, config_.rope_theta, true);
  if (config_.rope_local_theta) inv_freq_local_ = rope_inverse_frequencies(config_, *config_.rope_local_theta, false);
}

Transformer Transformer::load(const std::filesystem::path& dir, torch::ScalarType dtype,
                              torch::Device device) {
  auto config = load_model_config(dir);
  return Transformer(config, load_weights(Checkpoint::open(dir), config, dtype, device));
}

torch::ScalarType Transformer::dtype() const { return embed_.scalar_type(); }

void Transformer::attach_lora(const LoraAdapter& adapter) {
  std::map<std::string, Projection*> projections;
  for (auto& L : layers_)
    for (auto* p : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) projections[p->module] = p;
  for (const auto& [module, m] : adapter.modules) {
    auto it = projections.find(module);
    if (it == projections.end()) fail("LoRA adapter", "module '" + module + "' is not a projection of this model");
    auto& p = *it->second;
    if (m.a.dim() != 2 || m.b.dim() != 2 || m.a.size(1) != p.weight.size(1) || m.b.size(0) != p.weight.size(0) ||
        m.a.size(0) != m.b.size(1))
      fail("LoRA adapter", "module '" + module + "': lora_B " + c10::str(m.b.sizes()) + " x lora_A " +
                               c10::str(m.a.sizes()) + " does not match weight " + c10::str(p.weight.sizes()));
    p.lora_a = m.a;
    p.lora_b = m.b;
    p.lora_scale = adapter.config.scale();
  }
}

std::vector<torch::Tensor> Transformer::trainable(const Layer& L) {
  std::vector<torch::Tensor> out;
  auto add = [&](const torch::Tensor& t) {
    if (t.defined() && t.requires_grad()) out.push_back(t);
  };
  for (const auto* t : {&L.attn_norm, &L.q_norm, &L.k_norm, &L.attn_post_norm, &L.ffn_norm, &L.ffn_post_norm}) add(*t);
  for (const auto* p : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down})
    for (const auto* t : {&p->weight, &p->bias, &p->lora_a, &p->lora_b}) add(*t);
  return out;
}

torch::Tensor Transformer::Projection::operator()(const torch::Tensor& x) const {
  auto y = torch::linear(x, weight, bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt);
  if (!lora_a.defined()) return y;
  // The adapter in float32 master copies, applied in the run dtype.
  auto low = torch::linear(torch::linear(x, lora_a.to(x.scalar_type())), lora_b.to(x.scalar_type()));
  return y + low * lora_scale;
}
torch::Device Transformer::device() const { return embed_.device(); }

torch::Tensor Transformer::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  // Computed in float32 whatever the run dtype, as Hugging Face does.
  auto xf = x.to(torch::kFloat32);
  auto y = xf * torch::rsqrt(xf.square().mean(-1, true) + config_.rms_norm_eps);
  auto scale = weight.to(torch::kFloat32);
  if (family_->norm_offset) scale = scale + 1.0;
  return (y * scale).to(x.scalar_type());
}

torch::Tensor Transformer::rope(const torch::Tensor& x, const torch::Tensor& cos,
                                const torch::Tensor& sin) const {
  const auto half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

Transformer::Context Transformer::context(const TokenBatch& batch, std::int64_t attention_block) const {
  Context ctx;
  ctx.attention_block = attention_block;
  ctx.batch = batch.ids.size(0);
  ctx.tokens = batch.ids.size(1);
  auto long_opts = batch.ids.options().dtype(torch::kInt64);
  auto real = batch.mask.to(torch::kBool);
  auto positions = (real.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  ctx.rows = torch::arange(ctx.batch, long_opts);
  auto index = torch::arange(ctx.tokens, long_opts);
  ctx.last = (index.unsqueeze(0) + 1).mul(real).amax(1) - 1;
  if ((ctx.last < 0).any().item<bool>()) fail("batch", "a sequence has no real tokens");

  // Angles in float64, then cos/sin in the run dtype.
  auto rotary = [&](const std::vector<double>& inv_freq) {
    auto inv = torch::tensor(inv_freq, torch::kFloat64).to(positions.device());
    auto angles = positions.to(torch::kFloat64).unsqueeze(-1) * inv;  // [B, T, hd/2]
    angles = torch::cat({angles, angles}, -1).unsqueeze(1);           // [B, 1, T, hd]
    Context::Rotary r{angles.cos().to(dtype()), angles.sin().to(dtype()), {}, {}};
    r.cos_last = r.cos.index({ctx.rows, torch::indexing::Slice(), ctx.last}).unsqueeze(2);
    r.sin_last = r.sin.index({ctx.rows, torch::indexing::Slice(), ctx.last}).unsqueeze(2);
    return r;
  };
  ctx.rotary = rotary(inv_freq_);
  if (!inv_freq_local_.empty()) ctx.local_rotary = rotary(inv_freq_local_);

  auto all_queries = index.unsqueeze(0).expand({ctx.batch, ctx.tokens});
  auto last_query = ctx.last.unsqueeze(1);
  ctx.mask = attention_mask(real, all_queries, positions, std::nullopt);
  ctx.mask_last = attention_mask(real, last_query, positions, std::nullopt);
  if (std::any_of(layers_.begin(), layers_.end(), [](const Layer& l) { return l.sliding; })) {
    ctx.sliding_mask = attention_mask(real, all_queries, positions, config_.sliding_window);
    ctx.sliding_mask_last = attention_mask(real, last_query, positions, config_.sliding_window);
  }
  return ctx;
}

torch::Tensor Transformer::attention(const Layer& L, const torch::Tensor& h_query,
                                     const torch::Tensor& h, const Context& ctx,
                                     bool last_only) const {
  const auto B = ctx.batch, T = ctx.tokens, Tq = h_query.size(1), hd = config_.head_dim;
  const auto heads = config_.num_attention_heads, kv_heads = config_.num_key_value_heads;
  auto q = L.q(h_query).view({B, Tq, heads, hd}).transpose(1, 2);
  auto k = L.k(h).view({B, T, kv_heads, hd}).transpose(1, 2);
  auto v = L.v(h).view({B, T, kv_heads, hd}).transpose(1, 2);
  if (L.q_norm.defined()) {
    q = rms_norm(q, L.q_norm);
    k = rms_norm(k, L.k_norm);
  }
  const auto& rot = ctx.rotary_of(L);
  q = rope(q, last_only ? rot.cos_last : rot.cos, last_only ? rot.sin_last : rot.sin);
  k = rope(k, rot.cos, rot.sin);

  const auto& mask = L.sliding ? (last_only ? ctx.sliding_mask_last : ctx.sliding_mask)
                               : (last_only ? ctx.mask_last : ctx.mask);
  // Query rows in blocks, so the score matrix of a long batch never exceeds attention_block
  // elements: attention memory grows with the batch's tokens, not with their square.
  const std::int64_t rows = std::max<std::int64_t>(1, ctx.attention_block / std::max<std::int64_t>(1, B * heads * T));
  torch::Tensor out;
  if (rows >= Tq) {
    out = attend(q, k, v, mask);
  } else {
    std::vector<torch::Tensor> blocks;
    for (std::int64_t start = 0; start < Tq; start += rows) {
      const auto n = std::min(rows, Tq - start);
      blocks.push_back(attend(q.narrow(2, start, n), k, v, mask.narrow(3, start, n)));
    }
    out = torch::cat(blocks, 2);
  }
  out = out.transpose(1, 2).reshape({B, Tq, heads * hd});
  return L.o(out);
}

torch::Tensor Transformer::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& mask) const {
  const double scale = std::pow(config_.query_pre_attn_scalar, -0.5);
  // libtorch 2.x's fused kernel where it computes the same function (it has no logit softcap).
  if (compat::has_fused_attention && !config_.attn_logit_softcapping)
    return compat::fused_attention(q, k, v, mask.squeeze(2).to(q.scalar_type()), scale);
  const auto B = q.size(0), heads = q.size(1), Tq = q.size(2), hd = q.size(3), T = k.size(2);
  const auto kv_heads = k.size(1), group = heads / kv_heads;
  // Query heads sharing a KV head are stacked along the row axis: no repeated K/V copies.
  auto scores = torch::matmul(q.reshape({B, kv_heads, group * Tq, hd}), k.transpose(-1, -2));
  scores = softcap(scores * scale, config_.attn_logit_softcapping);
  scores = scores.view({B, kv_heads, group, Tq, T}).to(torch::kFloat32) + mask;
  auto probs = torch::softmax(scores, -1).to(v.scalar_type());
  auto out = torch::matmul(probs.view({B, kv_heads, group * Tq, T}), v);  // [B, kv, g*Tq, hd]
  return out.view({B, heads, Tq, hd});
}

torch::Tensor Transformer::mlp(const Layer& L, const torch::Tensor& h) const {
  auto gate = L.gate(h);
  auto up = L.up(h);
  const bool silu = config_.activation == Activation::Silu;
  if (in_place()) {
    gate = silu ? torch::silu_(gate) : torch::gelu(gate, "tanh");
    gate.mul_(up);
  } else {
    gate = (silu ? torch::silu(gate) : torch::gelu(gate, "tanh")) * up;
  }
  return L.down(gate);
}

torch::Tensor Transformer::layer(const Layer& L, torch::Tensor x, const Context& ctx,
                                 bool last_only) const {
  auto h = rms_norm(x, L.attn_norm);
  if (last_only) x = ctx.at_last(x);
  auto a = attention(L, last_only ? ctx.at_last(h) : h, h, ctx, last_only);
  if (L.attn_post_norm.defined()) a = rms_norm(a, L.attn_post_norm);
  x = in_place() ? x.add_(a) : x + a;
  auto f = mlp(L, rms_norm(x, L.ffn_norm));
  if (L.ffn_post_norm.defined()) f = rms_norm(f, L.ffn_post_norm);
  return in_place() ? x.add_(f) : x + f;
}

ForwardResult Transformer::forward(const TokenBatch& batch, const ForwardOptions& options) const {
  if (batch.ids.dim() != 2 || batch.ids.sizes() != batch.mask.sizes())
    fail("batch", "ids and mask must both be [batch, tokens]");
  auto ids = batch.ids.to(device(), torch::kInt64);
  const auto lowest = ids.min().item<std::int64_t>(), highest = ids.max().item<std::int64_t>();
  if (lowest < 0 || highest >= config_.vocab_size)
    fail("batch", "token id " + std::to_string(lowest < 0 ? lowest : highest) +
                      " is outside the vocabulary (size " + std::to_string(config_.vocab_size) +
                      ")");
  if (options.attention_block < 1) fail("attention_block", "must be positive");
  const Context ctx = context({ids, batch.mask.to(device())}, options.attention_block);
  auto x = embed_.index_select(0, ids.flatten()).view({ctx.batch, ctx.tokens, -1});
  if (family_->scale_embedding)  // the scale is rounded to the run dtype, as Hugging Face does
    x = x * torch::tensor(std::sqrt(static_cast<double>(config_.hidden_size)), x.options());
  const bool checkpoint = options.checkpoint_layers && torch::GradMode::is_enabled();
  for (std::size_t l = 0; l < layers_.size(); ++l) {  // the last layer: last tokens only
    const Layer& L = layers_[l];
    const bool last_only = !options.all_positions && l + 1 == layers_.size();
    if (checkpoint)
      x = checkpointed([this, &L, ctx, last_only](const torch::Tensor& in) { return layer(L, in, ctx, last_only); }, x,
                       trainable(L));
    else
      x = layer(L, x, ctx, last_only);
  }
  ForwardResult result;
  if (options.all_positions) {
    result.hidden = rms_norm(x, final_norm_);
    x = ctx.at_last(x);
  }
  auto pre = x.squeeze(1);
  auto normed = options.all_positions ? ctx.at_last(result.hidden).squeeze(1) : rms_norm(pre, final_norm_);
  result.last_hidden = options.pre_norm ? pre : normed;
  if (options.answer_ids) {
    auto rows = torch::tensor({(*options.answer_ids)[0], (*options.answer_ids)[1]},
                              ids.options());
    auto logits = torch::linear(normed, head_.index_select(0, rows)).to(torch::kFloat32);
    logits = softcap(logits, config_.final_logit_softcapping);
    result.score = logits.select(1, 0) - logits.select(1, 1);
  }
  return result;
}

}  // namespace relmoe
