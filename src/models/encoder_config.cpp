#include "models/encoder_config.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "models/config_fields.hpp"

#include <array>
#include <fstream>

namespace relmoe {
namespace {

const std::array<EncoderFamily, 3>& families() {
  static const std::array<EncoderFamily, 3> table{{
      {"bert", "bert.", false},
      {"xlm-roberta", "roberta.", true},
      {"roberta", "roberta.", true},
  }};
  return table;
}

}  // namespace

const EncoderFamily* find_encoder_family(const std::string& model_type) {
  for (const auto& f : families())
    if (f.model_type == model_type) return &f;
  return nullptr;
}

const EncoderFamily& EncoderConfig::family() const {
  const auto* f = find_encoder_family(model_type);
  if (!f) fail("config.json", "model_type '" + model_type + "' is not an encoder");
  return *f;
}

nlohmann::json EncoderConfig::to_json() const {
  return {{"model_type", model_type},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"intermediate_size", intermediate_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"max_position_embeddings", max_position_embeddings},
          {"type_vocab_size", type_vocab_size},
          {"pad_token_id", pad_token_id},
          {"layer_norm_eps", layer_norm_eps},
          {"hidden_act", gelu_tanh ? "gelu_new" : "gelu"}};
}

EncoderConfig parse_encoder_config(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "expected a JSON object");
  ConfigFields f(j, where);
  EncoderConfig c;
  c.model_type = f.string_or("model_type", "");
  if (!find_encoder_family(c.model_type))
    f.bad("model_type", "'" + c.model_type + "' is not an encoder (supported: bert, xlm-roberta, roberta)");
  c.vocab_size = f.positive_int("vocab_size");
  c.hidden_size = f.positive_int("hidden_size");
  c.intermediate_size = f.positive_int("intermediate_size");
  c.num_hidden_layers = f.positive_int("num_hidden_layers");
  c.num_attention_heads = f.positive_int("num_attention_heads");
  if (c.hidden_size % c.num_attention_heads != 0) f.bad("num_attention_heads", "must divide hidden_size");
  c.max_position_embeddings = f.positive_int("max_position_embeddings");
  c.type_vocab_size = f.positive_int_or("type_vocab_size", 2);
  c.layer_norm_eps = f.positive_number_or("layer_norm_eps", 1e-12);
  if (f.has("pad_token_id")) {
    const auto& pad = j["pad_token_id"];
    if (!pad.is_number_integer() || pad.get<std::int64_t>() < 0)
      f.bad("pad_token_id", "must be a non-negative integer, got " + pad.dump());
    c.pad_token_id = pad.get<std::int64_t>();
  }
  const auto act = f.string_or("hidden_act", "gelu");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") c.gelu_tanh = true;
  else if (act != "gelu") f.bad("hidden_act", "'" + act + "' is not supported (expected gelu or gelu_new)");
  if (c.family().positions_from_padding && c.pad_token_id + 2 > c.max_position_embeddings)
    f.bad("max_position_embeddings", "leaves no positions after pad_token_id + 1");
  return c;
}

EncoderConfig load_encoder_config(const std::filesystem::path& dir) {
  const auto file = dir / "config.json";
  return parse_encoder_config(read_json_file(file), file.string());
}

bool is_encoder_directory(const std::filesystem::path& dir) {
  const auto j = read_json_file_or_null(dir / "config.json");
  return j.is_object() && j.contains("model_type") && j["model_type"].is_string() &&
         find_encoder_family(j["model_type"].get<std::string>()) != nullptr;
}

std::vector<TensorSpec> encoder_tensor_specs(const EncoderConfig& c, const std::string& prefix) {
  const EncoderNames n;
  const std::int64_t h = c.hidden_size, ffn = c.intermediate_size;
  std::vector<TensorSpec> specs;
  auto add = [&](const char* module, std::int64_t layer, std::vector<std::int64_t> shape, TensorRole role) {
    const auto name = prefix + layer_name(module, layer);
    specs.push_back({name + ".weight", shape, role});
    if (role == TensorRole::Matrix || role == TensorRole::Norm) specs.push_back({name + ".bias", {shape[0]}, TensorRole::Bias});
  };
  add(n.word, 0, {c.vocab_size, h}, TensorRole::Embedding);
  add(n.position, 0, {c.max_position_embeddings, h}, TensorRole::Embedding);
  add(n.token_type, 0, {c.type_vocab_size, h}, TensorRole::Embedding);
  add(n.embed_norm, 0, {h}, TensorRole::Norm);
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    for (const char* m : {n.q, n.k, n.v, n.o}) add(m, l, {h, h}, TensorRole::Matrix);
    add(n.attn_norm, l, {h}, TensorRole::Norm);
    add(n.up, l, {ffn, h}, TensorRole::Matrix);
    add(n.down, l, {h, ffn}, TensorRole::Matrix);
    add(n.ffn_norm, l, {h}, TensorRole::Norm);
  }
  return specs;
}

bool ignorable_encoder_tensor(const std::string& name) {
  for (const char* head : {"pooler.", "cls.", "lm_head.", "classifier.", "qa_outputs."})
    if (name.find(head) != std::string::npos) return true;
  return name.ends_with("embeddings.position_ids");
}

}  // namespace relmoe
