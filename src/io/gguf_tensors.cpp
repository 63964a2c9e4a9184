#include "io/gguf_tensors.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <array>
#include <fstream>

namespace relmoe {
namespace {

constexpr std::array<GgufArchitecture, 5> kArchitectures = {{
    {"llama", "llama", "LlamaForCausalLM", true, false, false},
    {"qwen2", "qwen2", "Qwen2ForCausalLM", false, false, false},
    {"qwen3", "qwen3", "Qwen3ForCausalLM", false, false, false},
    {"gemma2", "gemma2", "Gemma2ForCausalLM", false, true, true},
    {"gemma3", "gemma3_text", "Gemma3ForCausalLM", false, true, true},
}};

// llama.cpp's per-layer module names and Hugging Face's (convert_hf_to_gguf.py's tensor map).
struct LayerName {
  const char* gguf;
  const char* hf;
};
constexpr LayerName kLayerNames[] = {
    {"attn_norm", "input_layernorm"},           {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},             {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},        {"attn_q_norm", "self_attn.q_norm"},
    {"attn_k_norm", "self_attn.k_norm"},        {"post_attention_norm", "post_attention_layernorm"},
    {"post_ffw_norm", "post_feedforward_layernorm"}, {"ffn_gate", "mlp.gate_proj"},
    {"ffn_up", "mlp.up_proj"},                  {"ffn_down", "mlp.down_proj"},
};

// The Hugging Face name of a GGUF tensor; names it does not know are kept as they are, so
// loading reports them as tensors the model does not use.
std::string hf_name(const std::string& name, const GgufArchitecture& arch) {
  if (name == "token_embd.weight") return "model.embed_tokens.weight";
  if (name == "output_norm.weight") return "model.norm.weight";
  if (name == "output.weight") return "lm_head.weight";
  if (name.rfind("blk.", 0) != 0) return name;
  const auto dot = name.find('.', 4);
  const auto last = name.rfind('.');
  if (dot == std::string::npos || last <= dot) return name;
  const std::string layer = name.substr(4, dot - 4);
  const std::string module = name.substr(dot + 1, last - dot - 1);
  const std::string suffix = name.substr(last);  // ".weight" or ".bias"
  if (layer.empty() || !std::all_of(layer.begin(), layer.end(), ::isdigit)) return name;
  std::string hf;
  if (module == "ffn_norm") hf = arch.sandwich_norms ? "pre_feedforward_layernorm" : "post_attention_layernorm";
  for (const auto& n : kLayerNames)
    if (module == n.gguf) hf = n.hf;
  return hf.empty() ? name : "model.layers." + layer + "." + hf + suffix;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// convert_hf_to_gguf.py interleaves each head's rotary halves for llama.cpp's rope:
// rows (head, 2, half) became (head, half, 2). This restores (head, 2, half).
torch::Tensor unpermute_rows(const torch::Tensor& w, std::int64_t heads, const std::string& where) {
  const auto rows = w.size(0);
  if (heads <= 0 || rows % (2 * heads) != 0)
    fail(where, std::to_string(rows) + " rows do not split into " + std::to_string(heads) + " rotary heads");
  std::vector<std::int64_t> shape = {heads, rows / heads / 2, 2};
  for (std::int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes()).contiguous();
}

}  // namespace

bool is_gguf_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

const GgufArchitecture& gguf_architecture(const std::string& name, const std::string& file) {
  for (const auto& a : kArchitectures)
    if (name == a.name) return a;
  std::string supported;
  for (const auto& a : kArchitectures) supported += (supported.empty() ? "" : ", ") + std::string(a.name);
  fail(file, "general.architecture '" + name + "' is not supported (supported: " + supported + ")");
}

GgufTensors::GgufTensors(const std::filesystem::path& path)
    : mapped_(MappedFile::open(path)), file_(GgufFile::parse(mapped_->data(), mapped_->size(), path.string())) {
  const auto arch = file_.string("general.architecture");
  if (!arch) fail(path.string(), "lacks general.architecture");
  arch_ = &gguf_architecture(*arch, path.string());
  const std::string prefix = *arch + ".attention.";
  heads_ = static_cast<std::int64_t>(file_.uint(prefix + "head_count").value_or(0));
  kv_heads_ = static_cast<std::int64_t>(file_.uint(prefix + "head_count_kv").value_or(heads_));
  for (const auto& t : file_.tensors()) {
    const std::string name = hf_name(t.name, *arch_);
    if (!by_name_.emplace(name, &t).second)
      fail(path.string() + ": tensor '" + t.name + "'", "maps onto '" + name + "', which another tensor already has");
  }
}

std::vector<std::string> GgufTensors::names() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : by_name_) names.push_back(name);
  return names;
}

const GgufTensorInfo& GgufTensors::info(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) fail(file_.file() + ": tensor '" + name + "'", "missing from the checkpoint");
  return *it->second;
}

std::vector<std::int64_t> GgufTensors::shape(const std::string& name) const { return info(name).shape(); }

torch::Tensor GgufTensors::get(const std::string& name, torch::ScalarType dtype, torch::Device device) const {
  const GgufTensorInfo& t = info(name);
  const std::string where = file_.file() + ": tensor '" + t.name + "'";
  const bool minus_one = arch_->norm_plus_one && ends_with(t.name, "norm.weight");
  const bool is_q = ends_with(name, "self_attn.q_proj.weight") || ends_with(name, "self_attn.q_proj.bias");
  const bool is_k = ends_with(name, "self_attn.k_proj.weight") || ends_with(name, "self_attn.k_proj.bias");
  const bool permute = arch_->permute_qk && (is_q || is_k);
  const auto shape = t.shape();
  // An F32 tensor may also be read as f32, aliased and edited in place (a LoRA merge): its pages
  // are never released. Other types are never aliased.
  const bool aliasable = t.type->id == 0;
  if (aliasable && dtype == torch::kFloat32 && !minus_one && !permute) {
    auto keep_alive = mapped_;
    return torch::from_blob(const_cast<std::uint8_t*>(file_.bytes()) + t.offset, shape, [keep_alive](void*) {},
                            torch::TensorOptions().dtype(torch::kFloat32))
        .to(device);
  }
  auto out = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  auto flat = out.view({-1});
  const std::uint64_t block = t.type->block_elements;
  const std::uint64_t chunk = std::max<std::uint64_t>(block, (std::uint64_t{1} << 20) / block * block);
  std::vector<float> buffer(std::min<std::uint64_t>(chunk, t.elements));
  for (std::uint64_t first = 0; first < t.elements; first += chunk) {
    const std::uint64_t n = std::min(chunk, t.elements - first);
    dequantize_elements(file_, t, first, n, buffer.data());
    const std::uint64_t from = t.offset + first / block * t.type->block_bytes;
    if (!aliasable) mapped_->release(from, from + n / block * t.type->block_bytes);
    auto values = torch::from_blob(buffer.data(), {static_cast<std::int64_t>(n)}, torch::kFloat32);
    if (minus_one) values = values - 1.0f;  // in f32, before any narrowing, as transformers does
    flat.narrow(0, static_cast<std::int64_t>(first), static_cast<std::int64_t>(n)).copy_(values);
  }
  if (!aliasable) mapped_->release(t.offset, t.offset + t.bytes);  // the pages that straddled two chunks
  if (permute) out = unpermute_rows(out, is_q ? heads_ : kv_heads_, where);
  return out.to(device);
}

std::size_t GgufTensors::data_bytes() const {
  std::size_t total = 0;
  for (const auto& t : file_.tensors()) total += t.bytes;
  return total;
}

}  // namespace relmoe
