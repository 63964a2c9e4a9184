#include "synth/synth.hpp"

#include "base/error.hpp"
#include "base/rng.hpp"
#include "synth/text_noise.hpp"
#include "synth/vocab.hpp"
#include "io/json_file.hpp"
#include "io/pair_writer.hpp"

#include <fstream>
#include <unistd.h>

namespace relmoe::synth {
namespace {

enum class Rule { Brand, Colour, Size, Category, BrandColour };

struct Market {
  MarketInfo info;
  Lang lang;
  Rule rule;
  bool translit_brands;    // queries write brands in the local script
  bool new_goods_only;     // second-hand listings are irrelevant (a single-word cue in the title)
};

const std::vector<Market>& market_table() {
  static const std::vector<Market> table{
      {{"syn-en", "en", "brand, new goods only: same category and brand, not second-hand"}, kEn, Rule::Brand,
       false, true},
      {{"syn-id", "id", "colour, new goods only: same category and colour, not second-hand"}, kId,
       Rule::Colour, false, true},
      {{"syn-th", "th", "brand, transliterated in queries, new goods only: same category and brand, not "
                        "second-hand"},
       kTh, Rule::Brand, true, true},
      {{"syn-vi", "vi", "size, new goods only: same category and size, not second-hand"}, kVi, Rule::Size,
       false, true},
      {{"syn-ms", "ms", "category only; second-hand is fine"}, kMs, Rule::Category, false, false},
      {{"syn-fil", "fil", "brand and colour: same category, brand and colour; second-hand is fine"}, kFil,
       Rule::BrandColour, false, false},
  };
  return table;
}

struct Product {
  std::size_t category = 0, brand = 0, colour = 0;
  int size = -1;  // index into the category's sizes; -1 when it has none
};

bool brand_decides(Rule r) { return r == Rule::Brand || r == Rule::BrandColour; }
bool colour_decides(Rule r) { return r == Rule::Colour || r == Rule::BrandColour; }
bool size_decides(Rule r) { return r == Rule::Size; }

bool relevant(Rule rule, const Product& query, const Product& item) {
  return item.category == query.category && (!brand_decides(rule) || item.brand == query.brand) &&
         (!colour_decides(rule) || item.colour == query.colour) &&
         (!size_decides(rule) || item.size == query.size);
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += sep;
    out += part;
  }
  return out;
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t h) {
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Generates the queries, items and pairs of one market.
class MarketGenerator {
 public:
  MarketGenerator(const Market& market, Rng& rng)
      : m_(market), words_(language(market.lang)), rng_(rng) {
    const auto& cats = categories();
    for (std::size_t c = 0; c < cats.size(); ++c)
      if (!cats[c].sizes.empty()) sized_.push_back(c);
  }

  Product random_product(bool needs_size) {
    Product p;
    p.category = needs_size ? rng_.pick(sized_) : rng_.below(categories().size());
    p.brand = rng_.below(brands().size());
    p.colour = rng_.below(words_.colours.size());
    p.size = random_size(p.category);
    return p;
  }

  std::string query(const Product& target) {
    const Rule r = m_.rule;
    const bool has_size = target.size >= 0;
    const bool brand = brand_decides(r) || rng_.chance(r == Rule::Category ? 0.5 : 0.4);
    const bool colour = colour_decides(r) || rng_.chance(r == Rule::Category ? 0.5 : 0.35);
    const bool size = has_size && (size_decides(r) || rng_.chance(0.2));
    std::vector<std::string> parts;
    // Code-switching: the English category name inside a local-language query.
    Lang cat_lang = m_.lang != kEn && rng_.chance(0.15) ? kEn : m_.lang;
    std::string cat = rng_.pick(categories()[target.category].name[cat_lang]);
    std::string brand_text = !brand ? "" : brand_word(target.brand);
    std::string colour_text = !colour ? "" : rng_.pick(words_.colours[target.colour]);
    std::string size_text = !size ? "" : size_word(target, 0.5);
    if (m_.lang == kEn || m_.lang == kFil)
      parts = {brand_text, cat, colour_text, size_text};
    else
      parts = {cat, brand_text, colour_text, size_text};
    if (rng_.chance(0.2)) rng_.shuffle(parts);
    if (rng_.chance(0.3)) parts.push_back(rng_.pick(words_.query_fillers));
    // Thai is written without spaces between words.
    std::string text = join(parts, m_.lang == kTh && rng_.chance(0.6) ? "" : " ");
    return noisy(lower_ascii(text));
  }

  // Items for one query: relevant ones, hard negatives (same category, a deciding attribute
  // wrong; for category-only markets a sibling category that shares brand and colour), and
  // easy negatives (another department).
  std::vector<Product> items_for(const Product& target) {
    std::size_t n = 3 + rng_.below(5);
    std::size_t positives = 1 + rng_.below(std::min<std::size_t>(3, n - 1));
    std::size_t hard = (n - positives + 1) * 2 / 3;
    std::vector<Product> items;
    for (std::size_t i = 0; i < positives; ++i) items.push_back(variant(target));
    for (std::size_t i = 0; i < hard; ++i) items.push_back(hard_negative(target));
    while (items.size() < n) items.push_back(easy_negative(target));
    rng_.shuffle(items);
    return items;
  }

  std::string title(const Product& p) {
    // Filipino shops mostly list in English; Thai titles keep the Latin brand.
    Lang lang = m_.lang == kFil && rng_.chance(0.6) ? kEn : m_.lang;
    const auto& lw = language(lang);
    std::string cat = rng_.pick(categories()[p.category].name[lang]);
    std::string colour = rng_.chance(0.75) ? rng_.pick(lw.colours[p.colour]) : "";
    std::string size = p.size >= 0 && rng_.chance(0.75) ? size_word(p, 0.3) : "";
    std::vector<std::string> parts;
    if (lang == kEn || rng_.chance(0.3))
      parts = {brands()[p.brand].latin, cat, colour, size};
    else
      parts = {cat, brands()[p.brand].latin, colour, size};
    // Up to two different fillers.
    std::size_t first = rng_.below(lw.title_fillers.size());
    std::size_t fillers = rng_.below(3);
    if (fillers > 0) parts.push_back(lw.title_fillers[first]);
    if (fillers > 1) parts.push_back(lw.title_fillers[rng_.other_than(first, lw.title_fillers.size())]);
    return join(parts, " ");
  }

  std::string second_hand_title(const Product& p) { return title(p) + " " + rng_.pick(words_.second_hand); }

  // Attributes spelled out, so relevance is always decidable from title + description.
  std::string description(const Product& p) const {
    std::string out = words_.brand_key + ": " + brands()[p.brand].latin + "; " + words_.colour_key +
                      ": " + words_.colours[p.colour].front();
    if (p.size >= 0) out += "; " + words_.size_key + ": " + categories()[p.category].sizes[p.size];
    return out;
  }

 private:
  int random_size(std::size_t category) {
    const auto& sizes = categories()[category].sizes;
    return sizes.empty() ? -1 : static_cast<int>(rng_.below(sizes.size()));
  }

  std::string brand_word(std::size_t brand) {
    const auto& b = brands()[brand];
    return m_.translit_brands && rng_.chance(0.75) ? b.thai : b.latin;
  }

  std::string size_word(const Product& p, double prefix_p) {
    std::string s = categories()[p.category].sizes[p.size];
    return rng_.chance(prefix_p) ? "size " + s : s;
  }

  std::string noisy(std::string text) {
    text = abbreviate(std::move(text), words_.abbreviations, 0.4, rng_);
    if (m_.lang == kVi && rng_.chance(0.35)) text = strip_diacritics(text);
    if (rng_.chance(0.25)) text = add_typo(text, rng_);
    return text;
  }

  // Same deciding attributes as `target`; the others kept or re-drawn.
  Product variant(const Product& target) {
    Product p = target;
    if (rng_.chance(0.5)) return p;
    const Rule r = m_.rule;
    if (!brand_decides(r)) p.brand = rng_.below(brands().size());
    if (!colour_decides(r)) p.colour = rng_.below(words_.colours.size());
    if (!size_decides(r)) p.size = random_size(p.category);
    return p;
  }

  Product hard_negative(const Product& target) {
    const Rule r = m_.rule;
    if (r == Rule::Category) {
      Product p = target;
      p.category = sibling(target.category);
      p.size = random_size(p.category);
      return p;
    }
    Product p = variant(target);
    // Which deciding attribute to get wrong.
    bool wrong_colour = r == Rule::Colour || (r == Rule::BrandColour && rng_.chance(0.5));
    if (size_decides(r))
      p.size = static_cast<int>(rng_.other_than(target.size, categories()[p.category].sizes.size()));
    else if (wrong_colour)
      p.colour = rng_.other_than(target.colour, words_.colours.size());
    else
      p.brand = rng_.other_than(target.brand, brands().size());
    return p;
  }

  Product easy_negative(const Product& target) {
    Product p = random_product(false);
    while (categories()[p.category].department == categories()[target.category].department)
      p = random_product(false);
    return p;
  }

  std::size_t sibling(std::size_t category) {
    const auto& cats = categories();
    std::vector<std::size_t> same;
    for (std::size_t c = 0; c < cats.size(); ++c)
      if (c != category && cats[c].department == cats[category].department) same.push_back(c);
    return rng_.pick(same);  // every department has >= 2 categories
  }

  const Market& m_;
  const LanguageWords& words_;
  Rng& rng_;
  std::vector<std::size_t> sized_;
};

void check(const Options& o) {
  int available = static_cast<int>(market_table().size());
  if (o.markets < 1 || o.markets > available)
    fail("--markets", "must be between 1 and " + std::to_string(available) + ", got " +
                          std::to_string(o.markets));
  if (o.pairs == 0) fail("--pairs", "must be positive");
  if (o.label_noise < 0 || o.label_noise > 0.5) fail("--label-noise", "must be in [0, 0.5]");
  if (o.second_hand < 0 || o.second_hand > 1) fail("--second-hand", "must be in [0, 1]");
  if (o.dev_fraction < 0 || o.test_fraction < 0 || o.dev_fraction + o.test_fraction >= 1)
    fail("--dev/--test fractions", "must be >= 0 and sum to less than 1");
}

}  // namespace

const std::vector<MarketInfo>& markets() {
  static const auto infos = [] {
    std::vector<MarketInfo> out;
    for (const auto& m : market_table()) out.push_back(m.info);
    return out;
  }();
  return infos;
}

Dataset generate(const Options& options) {
  check(options);
  Rng rng(options.seed);
  std::vector<MarketGenerator> gens;
  for (int i = 0; i < options.markets; ++i) gens.emplace_back(market_table()[i], rng);

  Dataset data;
  std::size_t made = 0;
  const std::uint64_t split_salt = fnv1a("split", options.seed * 0x9E3779B97F4A7C15ULL);
  for (std::size_t q = 0; made < options.pairs; ++q) {
    const Market& market = market_table()[q % gens.size()];
    auto& gen = gens[q % gens.size()];
    Product target = gen.random_product(size_decides(market.rule));
    std::string query = gen.query(target);
    // Split by (market, query) hash: equal queries always land in the same split.
    double u = static_cast<double>(fnv1a(market.info.name + "\t" + query, split_salt) >> 11) * 0x1.0p-53;
    auto& split = u < options.dev_fraction                          ? data.dev
                  : u < options.dev_fraction + options.test_fraction ? data.test
                                                                     : data.train;
    for (const Product& item : gen.items_for(target)) {
      if (made == options.pairs) break;
      const bool second_hand = rng.chance(options.second_hand);
      float label = relevant(market.rule, target, item) && !(second_hand && market.new_goods_only) ? 1.0f : 0.0f;
      if (rng.chance(options.label_noise)) label = 1.0f - label;
      char id[16];
      std::snprintf(id, sizeof id, "sy%07zu", made++);
      split.push_back({id, market.info.name, market.info.lang, query,
                       second_hand ? gen.second_hand_title(item) : gen.title(item), gen.description(item), label,
                       std::nullopt, "synth"});
    }
  }

  // The corpus comes from its own stream: other products and queries than the labelled ones.
  Rng corpus_rng(options.seed ^ 0xC0FFEE5EED5ULL);
  std::vector<MarketGenerator> corpus_gens;
  for (int i = 0; i < options.markets; ++i) corpus_gens.emplace_back(market_table()[i], corpus_rng);
  std::size_t lines = options.corpus_lines ? options.corpus_lines : options.pairs;
  for (std::size_t i = 0; i < lines; ++i) {
    auto& gen = corpus_gens[i % corpus_gens.size()];
    Product p = gen.random_product(false);
    data.corpus.push_back(corpus_rng.chance(0.3) ? gen.query(p) : gen.title(p));
  }
  return data;
}

void write_dataset(const Dataset& data, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir.string(), "cannot create directory: " + ec.message());
  write_pairs(dir / "train.tsv", data.train);
  write_pairs(dir / "dev.tsv", data.dev);
  write_pairs(dir / "test.tsv", data.test);
  std::string corpus;
  for (const auto& line : data.corpus) corpus += line + '\n';
  write_text_file(dir / "corpus.txt", corpus);
}

}  // namespace relmoe::synth
