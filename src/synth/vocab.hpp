#pragma once
// Hand-written vocabularies for the synthetic markets: product categories, brands, colours,
// sizes and filler words in English, Indonesian, Thai (Thai script), Vietnamese (with
// diacritics), Malay and Filipino. Each entry lists synonyms; the first is the most common.
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace relmoe::synth {

enum Lang : int { kEn, kId, kTh, kVi, kMs, kFil, kLangCount };

using Words = std::vector<std::string>;  // synonyms, most common first

struct Category {
  std::string department;             // categories of one department are hard negatives for
                                      // each other
  Words sizes;                        // empty: the category has no size attribute
  std::array<Words, kLangCount> name;  // per language
};

struct Brand {
  std::string latin;  // as written on product titles
  std::string thai;   // Thai transliteration, as Thai shoppers type it
};

struct LanguageWords {
  std::string code;                                      // ISO 639 code written to `lang`
  std::vector<Words> colours;                            // same order in every language
  Words title_fillers;                                   // "original", "free shipping", ...
  Words query_fillers;                                   // "cheap", "best", ...
  std::vector<std::pair<std::string, std::string>> abbreviations;  // word -> shorthand
  std::string brand_key, colour_key, size_key;           // item_desc field names
  Words second_hand;                                     // "used", "second hand", ...: listing markers
};

const std::vector<Category>& categories();
const std::vector<Brand>& brands();
const LanguageWords& language(Lang lang);

}  // namespace relmoe::synth
