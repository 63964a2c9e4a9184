#include "text/char_ngrams.hpp"

#include <utf8proc.h>

namespace relmoe {

void ngram_codepoints(std::string_view text, int max_chars, std::vector<std::int32_t>& out) {
  out.clear();
  out.push_back(2);
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0 && static_cast<int>(out.size()) <= max_chars) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      n = 1;
    } else {
      out.push_back(cp < 128 ? (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp) : utf8proc_tolower(cp));
    }
    p += n;
    left -= n;
  }
  out.push_back(2);
}

}  // namespace relmoe
