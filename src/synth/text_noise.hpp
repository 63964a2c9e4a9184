#pragma once
// Query noise as shoppers make it: typos, shorthand, dropped diacritics. UTF-8 in, UTF-8 out;
// edits work on code points, so Thai or Vietnamese text stays valid UTF-8.
#include "base/rng.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relmoe::synth {

// One edit (swap two neighbours, drop one, double one) inside a random word of >= 4 code points;
// the text is returned unchanged when no word is long enough.
std::string add_typo(std::string_view text, Rng& rng);

// Removes combining marks after canonical decomposition and maps đ/Đ to d/D:
// "giày thể thao" -> "giay the thao".
std::string strip_diacritics(std::string_view text);

// Replaces each whole-word occurrence of a `from` with its `to` with probability p.
std::string abbreviate(std::string text, const std::vector<std::pair<std::string, std::string>>& table,
                       double p, Rng& rng);

// ASCII letters to lower case; other bytes unchanged.
std::string lower_ascii(std::string text);

}  // namespace relmoe::synth
