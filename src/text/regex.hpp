#pragma once
// A compiled PCRE2 pattern in UTF + UCP mode (\p{L}, \s, \w follow Unicode properties),
// JIT-compiled when available. Matching is const and thread-safe.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relmoe {

class Regex {
 public:
  // Throws relmoe::Error naming `where` when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // [begin, end) byte ranges of successive non-overlapping matches in valid UTF-8 `text`.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
};

}  // namespace relmoe
