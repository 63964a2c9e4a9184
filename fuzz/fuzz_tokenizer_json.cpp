// libFuzzer target: arbitrary bytes as tokenizer.json text. Loading must either succeed or throw
// relmoe::Error; a loaded tokenizer must encode a few strings (alone and as sentence pairs) without
// crashing and produce ids below vocab_size(). Seeds cover BPE, WordPiece and Unigram with a
// Precompiled charsmap.
#include "base/error.hpp"
#include "text/tokenizer.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<relmoe::Tokenizer> tokenizer;
  try {
    tokenizer = relmoe::load_tokenizer_json_text(text, "fuzz.json");
  } catch (const relmoe::Error&) {
    return 0;
  }
  for (std::string_view sample : {"Hello world", " a  b\n\tc ", "Grüße, 東京 🙂 <s>", "aaaaaaaaaaaaaaaa", ""}) {
    for (bool add_special : {false, true}) {
      try {
        for (relmoe::TokenId id : tokenizer->encode(sample, add_special))
          if (id < 0 || static_cast<std::size_t>(id) >= tokenizer->vocab_size()) std::abort();
      } catch (const relmoe::Error&) {
      }
      try {
        const auto pair = tokenizer->encode_pair(sample, "second text", add_special);
        if (pair.ids.size() != pair.type_ids.size()) std::abort();
        for (relmoe::TokenId id : pair.ids)
          if (id < 0 || static_cast<std::size_t>(id) >= tokenizer->vocab_size()) std::abort();
      } catch (const relmoe::Error&) {
      }
    }
  }
  return 0;
}
