#include "synth/text_noise.hpp"

#include "base/error.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace relmoe::synth {
namespace {

std::vector<utf8proc_int32_t> decode(std::string_view text) {
  std::vector<utf8proc_int32_t> out;
  auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) fail("synth", "invalid UTF-8 in generated text");
    out.push_back(cp);
    p += n;
    left -= n;
  }
  return out;
}

std::string encode(const std::vector<utf8proc_int32_t>& cps) {
  std::string out;
  utf8proc_uint8_t buf[4];
  for (auto cp : cps) out.append(reinterpret_cast<char*>(buf), utf8proc_encode_char(cp, buf));
  return out;
}

bool at_word_boundary(const std::string& text, std::size_t begin, std::size_t end) {
  return (begin == 0 || text[begin - 1] == ' ') && (end == text.size() || text[end] == ' ');
}

}  // namespace

std::string add_typo(std::string_view text, Rng& rng) {
  auto cps = decode(text);
  // Words as [begin, end) ranges of code points.
  std::vector<std::pair<std::size_t, std::size_t>> words;
  for (std::size_t i = 0; i < cps.size();) {
    while (i < cps.size() && cps[i] == ' ') ++i;
    std::size_t begin = i;
    while (i < cps.size() && cps[i] != ' ') ++i;
    if (i - begin >= 4) words.emplace_back(begin, i);
  }
  if (words.empty()) return std::string(text);
  auto [begin, end] = rng.pick(words);
  // Keep the first code point: shoppers rarely mistype the first letter.
  std::size_t at = begin + 1 + rng.below(end - begin - 2);
  switch (rng.below(3)) {
    case 0: std::swap(cps[at], cps[at + 1]); break;
    case 1: cps.erase(cps.begin() + static_cast<std::ptrdiff_t>(at)); break;
    default: cps.insert(cps.begin() + static_cast<std::ptrdiff_t>(at), cps[at]); break;
  }
  return encode(cps);
}

std::string strip_diacritics(std::string_view text) {
  utf8proc_uint8_t* mapped = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                        static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                                                       UTF8PROC_STRIPMARK));
  if (n < 0) fail("synth", std::string("strip_diacritics: ") + utf8proc_errmsg(n));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
  auto cps = decode(std::string_view(reinterpret_cast<char*>(mapped), static_cast<std::size_t>(n)));
  for (auto& cp : cps) {
    if (cp == 0x111) cp = 'd';  // đ has no decomposition
    if (cp == 0x110) cp = 'D';
  }
  return encode(cps);
}

std::string abbreviate(std::string text, const std::vector<std::pair<std::string, std::string>>& table,
                       double p, Rng& rng) {
  for (const auto& [from, to] : table) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      if (at_word_boundary(text, at, at + from.size()) && rng.chance(p)) {
        text.replace(at, from.size(), to);
        at += to.size();
      } else {
        at += from.size();
      }
    }
  }
  return text;
}

std::string lower_ascii(std::string text) {
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

}  // namespace relmoe::synth
