// relmoe convert: a GGUF file written out as a Hugging Face checkpoint directory
// (model.safetensors, config.json, tokenizer.json, tokenizer_config.json).
#include "cli/command.hpp"
#include "models/gguf_convert.hpp"
#include "runtime/compute.hpp"

#include <iostream>

namespace relmoe::cli {
namespace {

struct ConvertArgs {
  std::string gguf, out, dtype = "f32";
};

const Register command{{"convert", "Write a GGUF file out as a Hugging Face checkpoint (safetensors, config, tokenizer)",
  [](CLI::App& app) {
    auto a = std::make_shared<ConvertArgs>();
    app.add_option("gguf", a->gguf, "the GGUF file")->required();
    app.add_option("--out", a->out, "a new directory for the checkpoint")->required();
    app.add_option("--dtype", a->dtype, "dtype the tensors are dequantized to: f32, bf16 or f16")->capture_default_str();
    return [a] {
      const auto r = convert_gguf(a->gguf, a->out, parse_dtype(a->dtype));
      std::cerr << "convert: " << r.tensors << " tensors, " << r.bytes / (1 << 20) << " MiB (" << a->dtype << ") -> "
                << a->out << "\n";
      return 0;
    };
  }}};

}  // namespace
}  // namespace relmoe::cli
