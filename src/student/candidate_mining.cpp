#include "student/candidate_mining.hpp"

#include "base/rng.hpp"
#include "text/char_ngrams.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

namespace relmoe {

namespace {

std::vector<std::uint64_t> trigram_set(const std::string& text) {
  std::vector<std::int32_t> cps;
  ngram_codepoints(text, 256, cps);
  std::vector<std::uint64_t> grams;
  for_each_ngram_hash(cps, 0, 3, 3, [&](std::uint64_t h) { grams.push_back(h); });
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  return grams;
}

class TrigramIndex {
 public:
  explicit TrigramIndex(const std::vector<Item>& items) : sizes_(items.size()), counts_(items.size(), 0) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto grams = trigram_set(items[i].text);
      sizes_[i] = grams.size();
      for (auto g : grams) postings_[g].push_back(static_cast<std::uint32_t>(i));
    }
    common_ = std::max<std::size_t>(50, items.size() / 20);
  }

  // The `n` best items by cosine over trigram sets, best first, skipping `exclude`.
  std::vector<std::size_t> nearest(const std::string& text, int n, const std::set<std::size_t>& exclude) {
    const auto grams = trigram_set(text);
    touched_.clear();
    for (auto g : grams) {
      const auto it = postings_.find(g);
      if (it == postings_.end() || it->second.size() > common_) continue;
      for (auto i : it->second)
        if (counts_[i]++ == 0) touched_.push_back(i);
    }
    std::vector<std::pair<double, std::size_t>> scored;
    for (auto i : touched_) {
      if (!exclude.count(i))
        scored.emplace_back(-static_cast<double>(counts_[i]) / std::sqrt(static_cast<double>(sizes_[i] * grams.size()) + 1e-9), i);
      counts_[i] = 0;
    }
    const auto take = std::min(scored.size(), static_cast<std::size_t>(std::max(n, 0)));
    std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(take), scored.end());
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k < take; ++k) out.push_back(scored[k].second);
    return out;
  }

 private:
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> postings_;
  std::vector<std::size_t> sizes_;
  std::vector<std::uint32_t> counts_;
  std::vector<std::uint32_t> touched_;
  std::size_t common_;
};

}  // namespace

std::vector<Pair> mine_candidates(const std::vector<Pair>& queries, const std::vector<Item>& items,
                                  const MiningOptions& options) {
  std::map<std::pair<std::string, std::string>, std::vector<const Pair*>> groups;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& p : queries) {
    auto& g = groups[{p.market, p.query}];
    if (g.empty()) order.emplace_back(p.market, p.query);
    g.push_back(&p);
  }
  std::unordered_map<std::string, std::size_t> by_text;
  std::map<std::string, std::vector<std::size_t>> by_market;
  std::vector<std::size_t> all(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    by_text.emplace(items[i].text, i);
    by_market[items[i].market].push_back(i);
    all[i] = i;
  }
  TrigramIndex index(items);
  Rng rng(options.seed);
  std::vector<Pair> out;
  std::int64_t next_id = 0;
  for (const auto& key : order) {
    const auto& own = groups[key];
    std::set<std::size_t> taken;
    for (const auto* p : own) {
      out.push_back(*p);
      if (auto it = by_text.find(p->item); it != by_text.end()) taken.insert(it->second);
    }
    auto add = [&](std::size_t i) {
      const auto* first = own.front();
      out.push_back({"mined-" + options.run + "-" + std::to_string(next_id++), first->market, first->lang, first->query, items[i].text,
                     "", std::nullopt, std::nullopt, "mined"});
      taken.insert(i);
    };
    for (auto i : index.nearest(key.second, options.mined, taken)) add(i);
    const auto market = by_market.find(key.first);
    const auto& pool = market != by_market.end() ? market->second : all;
    // Draws that hit a taken item are repeated, a bounded number of times (small pools run dry).
    for (int added = 0, tries = 0; added < options.random && tries < 20 * options.random; ++tries) {
      const auto i = pool[rng.below(pool.size())];
      if (!taken.count(i)) add(i), ++added;
    }
  }
  return out;
}

}  // namespace relmoe
