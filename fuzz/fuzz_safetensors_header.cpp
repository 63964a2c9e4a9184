// libFuzzer target: arbitrary bytes as a safetensors file must either parse into a header whose
// every tensor lies inside the data, or fail with relmoe::Error -- never crash or read out of bounds.
#include "base/error.hpp"
#include "io/safetensors_header.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto header = relmoe::parse_safetensors_header(data, size, "fuzz.safetensors");
    for (const auto& t : header.tensors)
      if (header.data_offset + t.end > size) std::abort();
  } catch (const relmoe::Error&) {
  }
  return 0;
}
