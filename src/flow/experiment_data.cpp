#include "flow/experiment_data.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "io/pair_writer.hpp"
#include "base/rng.hpp"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace relmoe {

namespace {

namespace fs = std::filesystem;

std::vector<Pair> read_labelled(const fs::path& path, const ExperimentData& d) {
  auto pairs = read_pairs(path, d.columns, d.format);
  if (pairs.empty()) fail(path.string(), "holds no pairs");
  for (const auto& p : pairs)
    if (!p.label) fail(path.string(), "pair '" + p.id + "' has no label (experiments evaluate every split)");
  return pairs;
}

// At most `n` pairs, a seeded random subset kept in file order.
std::vector<Pair> subset(std::vector<Pair> pairs, std::size_t n, std::uint64_t seed) {
  if (n == 0 || pairs.size() <= n) return pairs;
  std::vector<std::size_t> index(pairs.size());
  std::iota(index.begin(), index.end(), 0);
  Rng rng(seed);
  rng.shuffle(index);
  index.resize(n);
  std::sort(index.begin(), index.end());
  std::vector<Pair> out;
  for (auto i : index) out.push_back(std::move(pairs[i]));
  return out;
}

std::uint64_t fnv1a(const std::string& s, std::uint64_t seed) {
  std::uint64_t h = 14695981039346656037ULL ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Moves whole (market, query) groups from `train` to `dev`, so no query is in both.
std::vector<Pair> split_dev(std::vector<Pair>& train, double fraction, std::uint64_t seed) {
  std::vector<Pair> kept, dev;
  for (auto& p : train) {
    const double u = static_cast<double>(fnv1a(p.market + "\t" + p.query, seed) >> 11) * 0x1.0p-53;
    (u < fraction ? dev : kept).push_back(std::move(p));
  }
  if (dev.empty() || kept.empty()) fail("--train", "too few queries to split off a dev set; pass --dev");
  train = std::move(kept);
  return dev;
}

void check_unique_ids(const std::vector<std::pair<fs::path, const std::vector<Pair>*>>& splits) {
  std::unordered_map<std::string, std::string> seen;
  for (const auto& [path, pairs] : splits)
    for (const auto& p : *pairs)
      if (auto [it, fresh] = seen.emplace(p.id, path.string()); !fresh)
        fail(path.string(), "pair id '" + p.id + "' is also in " + it->second + " (ids must be unique)");
}

// A corpus file's texts: the "title" column of a TSV with such a header, else every line.
std::vector<std::string> corpus_texts(const fs::path& path) {
  std::ifstream in(path);
  if (!in) fail(path.string(), "cannot open corpus");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  for (std::size_t start = 0, tab;; start = tab + 1) {
    tab = line.find('\t', start);
    header.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
  }
  const auto title = std::find(header.begin(), header.end(), "title");
  std::vector<std::string> texts;
  if (title == header.end()) texts.push_back(line);
  const auto column = static_cast<std::size_t>(title - header.begin());
  while (std::getline(in, line)) {
    if (title == header.end()) {
      texts.push_back(line);
      continue;
    }
    std::size_t start = 0;
    for (std::size_t c = 0; c < column && start != std::string::npos; ++c) {
      start = line.find('\t', start);
      if (start != std::string::npos) ++start;
    }
    if (start != std::string::npos) texts.push_back(line.substr(start, line.find('\t', start) - start));
  }
  std::erase_if(texts, [](const std::string& t) { return t.find_first_not_of(" \r") == std::string::npos; });
  return texts;
}

std::vector<std::string> corpus(const ExperimentData& d, const std::vector<Pair>& train) {
  std::vector<std::string> lines;
  for (const auto& path : d.corpus) {
    auto texts = corpus_texts(path);
    lines.insert(lines.end(), texts.begin(), texts.end());
  }
  std::unordered_set<std::string> seen;
  for (const auto& p : train)
    for (const auto* text : {&p.query, &p.item})
      if (seen.insert(*text).second) lines.push_back(*text);
  return lines;
}

}  // namespace

void prepare_experiment_data(const ExperimentData& d, const RunLayout& layout) {
  auto train = subset(read_labelled(d.train, d), d.max_pairs, d.seed);
  auto dev = d.dev.empty() ? split_dev(train, d.dev_fraction, d.seed)
                           : subset(read_labelled(d.dev, d), d.max_pairs, d.seed + 1);
  const auto test = subset(read_labelled(d.test, d), d.max_pairs, d.seed + 2);
  check_unique_ids({{d.train, &train}, {d.dev.empty() ? d.train : d.dev, &dev}, {d.test, &test}});
  write_pairs(layout.train(), train);
  write_pairs(layout.dev(), dev);
  write_pairs(layout.test(), test);
  std::string text;
  for (const auto& line : corpus(d, train)) text += line + "\n";
  write_text_file(layout.corpus().string(), text);
}

}  // namespace relmoe
