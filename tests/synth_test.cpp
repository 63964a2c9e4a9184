#include "io/pair_reader.hpp"
#include "synth/synth.hpp"

#include "base/error.hpp"
#include "synth/text_noise.hpp"
#include "support.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace {

using relmoe::Pair;
namespace synth = relmoe::synth;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = relmoe::test::scratch_dir() / name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::vector<Pair> all_pairs(const synth::Dataset& d) {
  std::vector<Pair> out = d.train;
  out.insert(out.end(), d.dev.begin(), d.dev.end());
  out.insert(out.end(), d.test.begin(), d.test.end());
  return out;
}

// "Brand: Zento; Colour: red; Size: 42" -> {Brand: Zento, ...}, parsed independently of the
// generator.
std::map<std::string, std::string> attributes(const std::string& desc) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < desc.size()) {
    auto end = desc.find("; ", start);
    auto entry = desc.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto colon = entry.find(": ");
    out[entry.substr(0, colon)] = entry.substr(colon + 2);
    start = end == std::string::npos ? desc.size() : end + 2;
  }
  return out;
}

// Pairs grouped by (market, query).
std::map<std::pair<std::string, std::string>, std::vector<Pair>> by_query(const std::vector<Pair>& pairs) {
  std::map<std::pair<std::string, std::string>, std::vector<Pair>> groups;
  for (const auto& p : pairs) groups[{p.market, p.query}].push_back(p);
  return groups;
}

// The item_desc attribute that decides relevance in each market (Malay: none but category).
const std::map<std::string, std::vector<std::string>> kDeciding{
    {"syn-en", {"Brand"}},     {"syn-id", {"Warna"}}, {"syn-th", {"ยี่ห้อ"}},
    {"syn-vi", {"Kích cỡ"}}, {"syn-fil", {"Brand", "Kulay"}}};

synth::Options options(std::size_t pairs, std::uint64_t seed, double noise) {
  synth::Options o;
  o.pairs = pairs;
  o.seed = seed;
  o.label_noise = noise;
  return o;
}

}  // namespace

TEST(Synth, SameSeedSameBytesOtherSeedOtherBytes) {
  auto a = fresh_dir("relmoe_synth_a"), b = fresh_dir("relmoe_synth_b"), c = fresh_dir("relmoe_synth_c");
  synth::write_dataset(synth::generate(options(3000, 11, 0.05)), a);
  synth::write_dataset(synth::generate(options(3000, 11, 0.05)), b);
  synth::write_dataset(synth::generate(options(3000, 12, 0.05)), c);
  for (const char* file : {"train.tsv", "dev.tsv", "test.tsv", "corpus.txt"}) {
    ASSERT_TRUE(std::filesystem::exists(a / file)) << file;
    EXPECT_EQ(slurp(a / file), slurp(b / file)) << file;
    EXPECT_NE(slurp(a / file), slurp(c / file)) << file;
  }
}

TEST(Synth, CliWritesAllFiles) {
  auto dir = fresh_dir("relmoe_synth_cli");
  std::string cmd = relmoe::test::binary().string() + " data synth --markets 3 --pairs 600 --seed 5 --out " +
                    dir.string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto train = relmoe::read_pairs(dir / "train.tsv");
  std::set<std::string> markets;
  for (const auto& p : train) markets.insert(p.market);
  EXPECT_EQ(markets, (std::set<std::string>{"syn-en", "syn-id", "syn-th"}));
  EXPECT_EQ(train.size() + relmoe::read_pairs(dir / "dev.tsv").size() +
                relmoe::read_pairs(dir / "test.tsv").size(),
            600u);
  std::string bad = relmoe::test::binary().string() + " data synth --markets 9 --out " + dir.string() +
                    " > /dev/null 2>&1";
  EXPECT_NE(std::system(bad.c_str()), 0);
}

TEST(Synth, CoversMarketsLanguagesAndScriptsWithBalancedLabels) {
  auto data = synth::generate(options(6000, 3, 0.05));
  auto pairs = all_pairs(data);
  ASSERT_EQ(pairs.size(), 6000u);
  std::map<std::string, std::string> lang_of;
  std::map<std::string, std::pair<int, int>> counts;  // market -> (pairs, relevant)
  for (const auto& p : pairs) {
    lang_of[p.market] = p.lang;
    counts[p.market].first++;
    counts[p.market].second += *p.label == 1.0f;
  }
  EXPECT_EQ(lang_of, (std::map<std::string, std::string>{{"syn-en", "en"}, {"syn-id", "id"},
                                                         {"syn-th", "th"}, {"syn-vi", "vi"},
                                                         {"syn-ms", "ms"}, {"syn-fil", "fil"}}));
  for (const auto& [market, c] : counts) {
    EXPECT_NEAR(c.first, 1000, 60) << market;
    double rate = static_cast<double>(c.second) / c.first;
    EXPECT_GT(rate, 0.25) << market;
    EXPECT_LT(rate, 0.6) << market;
  }
  // Thai queries in Thai script (U+0E00..U+0E7F is E0 B8 80..E0 B9 BF); Vietnamese with
  // diacritics (e.g. "à" C3 A0 or any of the Latin Extended Additional block E1 BA..BB).
  int thai = 0, viet = 0, th_total = 0, vi_total = 0;
  for (const auto& p : pairs) {
    if (p.market == "syn-th") th_total++, thai += p.query.find("\xE0\xB8") != std::string::npos;
    if (p.market == "syn-vi")
      vi_total++, viet += p.query.find_first_of("\xC3\xE1\xC6") != std::string::npos;
  }
  EXPECT_GT(thai, th_total * 9 / 10);
  EXPECT_GT(viet, vi_total / 3);
  EXPECT_GT(data.corpus.size(), 5000u);
}

TEST(Synth, SplitsByQuery) {
  auto data = synth::generate(options(5000, 4, 0.05));
  std::set<std::pair<std::string, std::string>> train, held_out;
  for (const auto& p : data.train) train.insert({p.market, p.query});
  for (const auto* split : {&data.dev, &data.test})
    for (const auto& p : *split) held_out.insert({p.market, p.query});
  for (const auto& q : held_out) EXPECT_EQ(train.count(q), 0u) << q.second;
  EXPECT_GT(data.dev.size(), 300u);
  EXPECT_GT(data.test.size(), 300u);
}

// Hard negatives: a non-relevant item whose attributes equal a relevant item's for the same
// query except exactly the market's deciding attribute.
TEST(Synth, HardNegativesDifferOnlyInTheDecidingAttribute) {
  auto groups = by_query(all_pairs(synth::generate(options(6000, 5, 0.0))));
  std::map<std::string, int> queries, with_hard;
  for (const auto& [key, group] : groups) {
    const std::string& market = key.first;
    queries[market]++;
    bool found = false;
    for (const auto& pos : group)
      for (const auto& neg : group) {
        if (*pos.label != 1.0f || *neg.label != 0.0f) continue;
        auto a = attributes(pos.item_desc), b = attributes(neg.item_desc);
        if (market == "syn-ms") {  // sibling category with the same brand and colour
          found |= a.at("Jenama") == b.at("Jenama") && a.at("Warna") == b.at("Warna") && a != b;
          continue;
        }
        std::vector<std::string> differing;
        for (const auto& [k, v] : a)
          if (b.count(k) && b.at(k) != v) differing.push_back(k);
        if (differing.size() != 1) continue;
        for (const auto& d : kDeciding.at(market)) found |= differing[0] == d;
      }
    with_hard[market] += found;
  }
  ASSERT_EQ(queries.size(), 6u);
  for (const auto& [market, n] : queries) EXPECT_GT(with_hard[market], n / 10) << market;
}

// Without noise every relevant item of a query agrees on the deciding attribute while other
// attributes vary (so markets really differ in what decides); noise breaks the agreement.
TEST(Synth, MarketsDifferInWhatDecidesAndNoiseFlipsLabels) {
  auto count = [](double noise) {
    std::map<std::string, std::pair<int, int>> out;  // market -> (disagreeing deciding, varying other)
    for (const auto& [key, group] : by_query(all_pairs(synth::generate(options(6000, 6, noise))))) {
      if (!kDeciding.count(key.first)) continue;
      std::map<std::string, std::set<std::string>> values;
      for (const auto& p : group)
        if (*p.label == 1.0f)
          for (const auto& [k, v] : attributes(p.item_desc)) values[k].insert(v);
      for (const auto& [k, v] : values) {
        bool deciding = false;
        for (const auto& d : kDeciding.at(key.first)) deciding |= d == k;
        if (v.size() > 1) (deciding ? out[key.first].first : out[key.first].second)++;
      }
    }
    return out;
  };
  auto clean = count(0.0), noisy = count(0.2);
  for (const auto& [market, c] : clean) {
    EXPECT_EQ(c.first, 0) << market;
    EXPECT_GT(c.second, 20) << market;
    EXPECT_GT(noisy[market].first, 20) << market;
  }
}

// Second-hand listings (a marker word ending the title) are never relevant in the new-goods-only
// markets and are relevant as often as other listings where second-hand is fine.
TEST(Synth, SecondHandListingsAreIrrelevantOnlyInNewGoodsMarkets) {
  const std::map<std::string, std::vector<std::string>> markers{
      {"syn-en", {"used", "second hand", "refurbished"}}, {"syn-id", {"bekas", "second", "preloved"}},
      {"syn-th", {"มือสอง", "สินค้ามือสอง"}},           {"syn-vi", {"cũ", "đã qua sử dụng", "hàng lướt"}},
      {"syn-ms", {"terpakai", "second hand", "preloved"}}, {"syn-fil", {"segunda mano", "used", "preloved"}}};
  std::map<std::string, std::pair<int, int>> second_hand;  // market -> (listings, relevant ones)
  for (const auto& p : all_pairs(synth::generate(options(6000, 6, 0.0)))) {
    bool marked = false;
    for (const auto& m : markers.at(p.market))
      marked |= p.item.size() > m.size() && p.item.compare(p.item.size() - m.size() - 1, m.size() + 1, " " + m) == 0;
    if (!marked) continue;
    second_hand[p.market].first++;
    second_hand[p.market].second += *p.label == 1.0f;
  }
  for (const auto& [market, words] : markers) {
    const auto [listings, relevant] = second_hand[market];
    EXPECT_GT(listings, 100) << market;
    if (market == "syn-ms" || market == "syn-fil")
      EXPECT_GT(relevant, listings / 5) << market;
    else
      EXPECT_EQ(relevant, 0) << market;
  }
}

TEST(Synth, RejectsBadOptions) {
  EXPECT_THROW(synth::generate(options(0, 1, 0.0)), relmoe::Error);
  EXPECT_THROW(synth::generate(options(10, 1, 0.7)), relmoe::Error);
  auto o = options(10, 1, 0.0);
  o.markets = 7;
  EXPECT_THROW(synth::generate(o), relmoe::Error);
}

TEST(TextNoise, StripsVietnameseDiacritics) {
  EXPECT_EQ(synth::strip_diacritics("giày thể thao Đỏ đẹp"), "giay the thao Do dep");
  EXPECT_EQ(synth::strip_diacritics("plain"), "plain");
}

TEST(TextNoise, TypoIsOneCodePointEditAndKeepsUtf8) {
  relmoe::Rng rng(9);
  const std::string thai = "รองเท้าผ้าใบ สีดำ";  // 12 + 1 + 4 code points
  auto count_cps = [](const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  int changed = 0;
  for (int i = 0; i < 50; ++i) {
    auto typo = synth::add_typo(thai, rng);
    auto diff = static_cast<long>(count_cps(typo)) - static_cast<long>(count_cps(thai));
    EXPECT_LE(std::abs(diff), 1);
    changed += typo != thai;
    EXPECT_EQ(typo.find("\xEF\xBF\xBD"), std::string::npos);  // no replacement characters
  }
  EXPECT_GT(changed, 25);  // a swap of equal neighbours can leave the text unchanged
  EXPECT_EQ(synth::add_typo("ab cd", rng), "ab cd");  // no word long enough
}

TEST(TextNoise, AbbreviatesWholeWordsOnly) {
  relmoe::Rng rng(1);
  EXPECT_EQ(synth::abbreviate("sepatu untuk yang untukmu", {{"untuk", "utk"}}, 1.0, rng),
            "sepatu utk yang untukmu");
}
