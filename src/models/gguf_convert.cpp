#include "models/gguf_convert.hpp"

#include "base/error.hpp"
#include "io/gguf_tensors.hpp"
#include "io/gguf_tokenizer.hpp"
#include "io/json_file.hpp"
#include "io/safetensors_writer.hpp"
#include "models/gguf_config.hpp"
#include "models/weights.hpp"

namespace relmoe {
namespace fs = std::filesystem;

ConvertedCheckpoint convert_gguf(const fs::path& gguf, const fs::path& out, torch::ScalarType dtype) {
  if (!is_gguf_file(gguf)) fail(gguf.string(), "is not a GGUF file");
  const GgufTensors tensors(gguf);
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    if (fs::exists(out / name)) fail((out / name).string(), "already exists; convert writes into a new directory");
  auto config = gguf_config_json(tensors.file());
  gguf_model_config(tensors.file());  // the same checks a load makes, before anything is written
  fs::create_directories(out);
  write_json_file(out / "tokenizer.json", gguf_tokenizer_json(tensors.file()));
  write_json_file(out / "tokenizer_config.json", gguf_tokenizer_config_json(tensors.file()));

  const auto names = tensors.names();
  std::vector<SafetensorsEntry> entries;
  for (const auto& name : names) entries.push_back({name, safetensors_dtype(dtype), tensors.shape(name)});
  SafetensorsWriter writer(out / "model.safetensors", entries, {{"format", "pt"}});
  ConvertedCheckpoint result;
  for (const auto& name : names) {
    const auto t = tensors.get(name, dtype, torch::kCPU).contiguous();
    const auto bytes = static_cast<std::size_t>(t.numel()) * t.element_size();
    writer.write(t.data_ptr(), bytes);
    result.bytes += bytes;
    ++result.tensors;
  }
  writer.finish();
  config["torch_dtype"] = dtype == torch::kFloat32 ? "float32" : dtype == torch::kFloat16 ? "float16" : "bfloat16";
  write_json_file(out / "config.json", config);
  return result;
}

}  // namespace relmoe
