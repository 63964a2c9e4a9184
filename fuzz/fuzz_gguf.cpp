// libFuzzer target: arbitrary bytes as a GGUF file must either parse into tensors whose data lie
// inside the file, every one of them dequantizable without reading outside it, and a tokenizer
// (when the metadata describes one) that encodes text, or fail with relmoe::Error -- never
// crash, read out of bounds or allocate beyond the input's size.
#include "base/error.hpp"
#include "io/gguf_file.hpp"
#include "io/gguf_tokenizer.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = relmoe::GgufFile::parse(data, size, "fuzz.gguf");
    std::vector<float> values;
    for (const auto& t : file.tensors()) {
      if (t.offset + t.bytes > size) std::abort();
      if (!t.type->dequantizable) continue;
      // Whole blocks, and few of them: a row of a huge, mostly-zero tensor is enough to probe.
      const std::uint64_t block = t.type->block_elements;
      const std::uint64_t n = std::min<std::uint64_t>(t.elements, 4096) / block * block;
      values.resize(n);
      relmoe::dequantize_elements(file, t, t.elements - n, n, values.data());
    }
    for (const auto& [key, value] : file.metadata())
      if (value.type == relmoe::GgufType::Array && value.array.data)
        for (std::size_t i = 0; i < std::min<std::uint64_t>(value.array.count, 64); ++i) (void)value.array.number(i);
    if (file.find("tokenizer.ggml.model")) {
      const auto tokenizer = relmoe::gguf_tokenizer(file);
      for (auto id : tokenizer->encode("Query: red shoes <s>\n", true))
        if (id < 0 || static_cast<std::size_t>(id) >= tokenizer->vocab_size()) std::abort();
    }
  } catch (const relmoe::Error&) {
  }
  return 0;
}
