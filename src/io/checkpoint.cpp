#include "io/checkpoint.hpp"

#include "base/error.hpp"
#include "io/gguf_tensors.hpp"
#include "io/json_file.hpp"
#include "io/mapped_file.hpp"
#include "io/safetensors_header.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <unordered_map>

namespace relmoe {
namespace {

namespace fs = std::filesystem;

struct Shard {
  std::shared_ptr<MappedFile> file;
  SafetensorsHeader header;
};

torch::ScalarType to_torch(StDType dtype, const std::string& where) {
  switch (dtype) {
    case StDType::F64: return torch::kFloat64;
    case StDType::F32: return torch::kFloat32;
    case StDType::F16: return torch::kFloat16;
    case StDType::BF16: return torch::kBFloat16;
    case StDType::I64: return torch::kInt64;
    case StDType::I32: return torch::kInt32;
    case StDType::I16: return torch::kInt16;
    case StDType::I8: return torch::kInt8;
    case StDType::U8: return torch::kUInt8;
    case StDType::BOOL: return torch::kBool;
  }
  fail(where, "unsupported dtype");
}

// Shard file names of a sharded checkpoint, from model.safetensors.index.json's weight_map.
std::vector<fs::path> shard_files(const fs::path& index_path) {
  auto index = read_json_file(index_path);
  auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) fail(index_path.string(), "lacks a 'weight_map' object");
  std::vector<fs::path> files;
  for (const auto& [name, file] : map->items()) {
    if (!file.is_string()) fail(index_path.string(), "weight_map['" + name + "'] is not a file name");
    auto path = index_path.parent_path() / file.get<std::string>();
    if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  }
  return files;
}

}  // namespace

struct Checkpoint::Impl {
  std::string source;  // for messages: the directory or file opened
  std::shared_ptr<const GgufTensors> gguf;  // set for a GGUF file; the rest is for safetensors
  std::vector<Shard> shards;
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> where;  // name -> shard, entry
  std::unordered_map<std::string, std::string> aliases;                       // name -> stored name
  std::string text_prefix;  // where a multimodal checkpoint keeps its text model, else empty

  const std::pair<std::size_t, std::size_t>* find(const std::string& name) const {
    auto it = where.find(name);
    if (it != where.end()) return &it->second;
    auto alias = aliases.find(name);
    if (alias == aliases.end()) return nullptr;
    it = where.find(alias->second);
    return it == where.end() ? nullptr : &it->second;
  }
};

namespace {

using TensorIndex = std::unordered_map<std::string, std::pair<std::size_t, std::size_t>>;

// A multimodal checkpoint (Gemma 3's Gemma3ForConditionalGeneration) keeps its text model under
// language_model.model. (model.language_model. as some transformers versions save it) beside a
// vision tower and a projector. The text model reads under the causal-LM names; the rest is
// set aside: not the decoder's, and not "unused" either. Returns the prefix, or "".
std::string alias_text_model(const TensorIndex& where, std::unordered_map<std::string, std::string>& aliases) {
  for (const std::string prefix : {"language_model.model.", "model.language_model."}) {
    const bool present =
        std::any_of(where.begin(), where.end(), [&](const auto& entry) { return entry.first.rfind(prefix, 0) == 0; });
    if (!present) continue;
    for (const auto& [name, _] : where)
      if (name.rfind(prefix, 0) == 0) aliases.emplace("model." + name.substr(prefix.size()), name);
    if (where.count("language_model.lm_head.weight")) aliases.emplace("lm_head.weight", "language_model.lm_head.weight");
    return prefix;
  }
  return "";
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& path) {
  std::vector<fs::path> files;
  if (is_gguf_file(path)) {
    auto impl = std::make_shared<Impl>();
    impl->source = path.string();
    impl->gguf = std::make_shared<const GgufTensors>(path);
    Checkpoint checkpoint;
    checkpoint.impl_ = std::move(impl);
    return checkpoint;
  }
  if (fs::is_regular_file(path)) {
    files = {path};
  } else if (fs::exists(path / "model.safetensors")) {
    files = {path / "model.safetensors"};
  } else if (fs::exists(path / "model.safetensors.index.json")) {
    files = shard_files(path / "model.safetensors.index.json");
  } else {
    fail(path.string(), "no model.safetensors or model.safetensors.index.json found");
  }
  auto impl = std::make_shared<Impl>();
  impl->source = path.string();
  for (const auto& file : files) {
    Shard shard{MappedFile::open(file), {}};
    shard.header = parse_safetensors_header(shard.file->data(), shard.file->size(), file.string());
    const std::size_t s = impl->shards.size();
    for (std::size_t e = 0; e < shard.header.tensors.size(); ++e) {
      const auto& name = shard.header.tensors[e].name;
      if (!impl->where.emplace(name, std::pair{s, e}).second)
        fail(file.string() + ": tensor '" + name + "'", "appears in more than one shard");
    }
    // Tied weights saved once: metadata maps the missing name to the stored one.
    for (const auto& [key, value] : shard.header.metadata) impl->aliases.emplace(key, value);
    impl->shards.push_back(std::move(shard));
  }
  // A decoder's base model saved alone (architectures LlamaModel, Gemma3TextModel, ...) stores
  // its tensors without the "model." prefix of the causal-LM checkpoints; both read alike.
  if (impl->where.count("embed_tokens.weight") && !impl->where.count("model.embed_tokens.weight"))
    for (const auto& [name, _] : impl->where)
      if (name.rfind("lm_head.", 0) != 0) impl->aliases.emplace("model." + name, name);
  impl->text_prefix = alias_text_model(impl->where, impl->aliases);
  Checkpoint checkpoint;
  checkpoint.impl_ = std::move(impl);
  return checkpoint;
}

const GgufFile* Checkpoint::gguf() const { return impl_->gguf ? &impl_->gguf->file() : nullptr; }

bool Checkpoint::contains(const std::string& name) const {
  return impl_->gguf ? impl_->gguf->contains(name) : impl_->find(name) != nullptr;
}

std::vector<std::string> Checkpoint::names() const {
  if (impl_->gguf) return impl_->gguf->names();
  std::vector<std::string> names;
  for (const auto& [name, _] : impl_->where) names.push_back(name);
  for (const auto& [name, target] : impl_->aliases)
    if (!impl_->where.count(name) && impl_->where.count(target)) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Checkpoint::stored_name(const std::string& name) const {
  if (impl_->gguf) return impl_->gguf->contains(name) ? name : std::string();
  if (impl_->where.count(name)) return name;
  auto alias = impl_->aliases.find(name);
  return alias != impl_->aliases.end() && impl_->where.count(alias->second) ? alias->second : std::string();
}

std::vector<std::string> Checkpoint::stored_names() const {
  if (impl_->gguf) return impl_->gguf->names();
  std::vector<std::string> names;
  for (const auto& [name, _] : impl_->where)  // a multimodal checkpoint's: its text model's
    if (impl_->text_prefix.empty() || name.rfind(impl_->text_prefix, 0) == 0 || name.rfind("lm_head.", 0) == 0 ||
        name == "language_model.lm_head.weight")
      names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path Checkpoint::file_of(const std::string& name) const {
  if (impl_->gguf) return impl_->source;
  auto loc = impl_->find(name);
  if (!loc) fail(impl_->source + ": tensor '" + name + "'", "missing from the checkpoint");
  return impl_->shards[loc->first].file->path();
}

const std::string& Checkpoint::source() const { return impl_->source; }

std::vector<std::int64_t> Checkpoint::shape(const std::string& name) const {
  if (impl_->gguf) return impl_->gguf->shape(name);
  auto loc = impl_->find(name);
  if (!loc) fail(impl_->source + ": tensor '" + name + "'", "missing from the checkpoint");
  return impl_->shards[loc->first].header.tensors[loc->second].shape;
}

torch::Tensor Checkpoint::get(const std::string& name, torch::ScalarType dtype, torch::Device device,
                              const std::optional<std::vector<std::int64_t>>& expected_shape) const {
  if (impl_->gguf) {
    if (expected_shape && *expected_shape != impl_->gguf->shape(name))
      fail(impl_->source + ": tensor '" + name + "'",
           "shape " + c10::str(c10::IntArrayRef(impl_->gguf->shape(name))) + " does not match the config's " +
               c10::str(c10::IntArrayRef(*expected_shape)));
    return impl_->gguf->get(name, dtype, device);
  }
  auto loc = impl_->find(name);
  if (!loc) fail(impl_->source + ": tensor '" + name + "'", "missing from the checkpoint");
  const Shard& shard = impl_->shards[loc->first];
  const TensorEntry& entry = shard.header.tensors[loc->second];
  const std::string where = shard.file->path().string() + ": tensor '" + name + "'";
  if (expected_shape && *expected_shape != entry.shape)
    fail(where, "shape " + c10::str(c10::IntArrayRef(entry.shape)) + " does not match the config's " +
                    c10::str(c10::IntArrayRef(*expected_shape)));
  const auto stored = to_torch(entry.dtype, where);
  void* data = shard.file->data() + shard.header.data_offset + entry.begin;
  auto keep_alive = shard.file;
  auto tensor = torch::from_blob(data, entry.shape, [keep_alive](void*) {},
                                 torch::TensorOptions().dtype(stored));
  const bool aligned = reinterpret_cast<std::uintptr_t>(data) % dtype_size(entry.dtype) == 0;
  if (!aligned) tensor = tensor.clone();
  return tensor.to(device, dtype);  // no copy when dtype and device already match
}

std::size_t Checkpoint::data_bytes() const {
  if (impl_->gguf) return impl_->gguf->data_bytes();
  std::size_t total = 0;
  for (const auto& shard : impl_->shards)
    for (const auto& t : shard.header.tensors) total += t.end - t.begin;
  return total;
}

}  // namespace relmoe
