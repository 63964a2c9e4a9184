#include "moe/router.hpp"
#include "moe/router_features.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace {
std::vector<std::int64_t> features(const std::string& q, const std::string& i, relmoe::HashConfig c = {}) {
  std::vector<std::int64_t> out;
  relmoe::hash_pair_features(q, i, c, out);
  return out;
}
}  // namespace

TEST(RouterFeatures, OneBucketPerCodepointNgramOfEachField) {
  // "ไทย" is 3 codepoints (9 bytes): with boundary markers 5 symbols -> 5 + 4 + 3 n-grams (n=1..3);
  // the empty item still has its two markers -> 2 + 1 + 0.
  EXPECT_EQ(features("ไทย", "").size(), 12u + 3u);
  relmoe::HashConfig c;
  c.buckets = 97;
  for (auto id : features("红色连衣裙 Größe", "Ταξίδι", c)) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 97);
  }
}

TEST(RouterFeatures, CaseInsensitiveAcrossScriptsAndFieldAware) {
  EXPECT_EQ(features("Rote SCHUHE", "Ärmel"), features("rote schuhe", "ärmel"));
  EXPECT_EQ(features("ΚΑΦΕΣ", ""), features("καφεσ", ""));
  // The same text as query or as item lands in different buckets.
  auto as_query = features("drill", ""), as_item = features("", "drill");
  std::sort(as_query.begin(), as_query.end());
  std::sort(as_item.begin(), as_item.end());
  EXPECT_NE(as_query, as_item);
  // Invalid UTF-8 is skipped, not fatal.
  EXPECT_EQ(features("a\xff" "b", ""), features("ab", ""));
}

TEST(RouterFeatures, BagsGatherIntoEmbeddingBagInputs) {
  relmoe::FeatureBags bags;
  relmoe::HashConfig c;
  bags.add("ab", "c", c);
  bags.add("xyz", "", c);
  const auto [ids, offsets] = bags.gather({1, 0});
  const auto n1 = features("xyz", "").size(), n0 = features("ab", "c").size();
  EXPECT_EQ(ids.size(0), static_cast<std::int64_t>(n0 + n1));
  EXPECT_EQ(offsets[1].item<std::int64_t>(), static_cast<std::int64_t>(n1));
  EXPECT_EQ(ids[0].item<std::int64_t>(), features("xyz", "")[0]);
}

TEST(Router, OneLogitPerExpertAndMarketMatters) {
  torch::manual_seed(0);
  relmoe::Router router(1024, 3, 4, 16, 8, 32);
  relmoe::FeatureBags bags;
  relmoe::HashConfig c;
  c.buckets = 1024;
  bags.add("same", "text", c);
  bags.add("same", "text", c);
  const auto [ids, offsets] = bags.gather({0, 1});
  const auto logits = router->forward(ids, offsets, torch::tensor({0, 2}, torch::kLong));
  ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{2, 4}));
  EXPECT_FALSE(torch::equal(logits[0], logits[1]));
}

// The router's own bag-mean backward against libtorch's EmbeddingBag (mean) on the same weights,
// with repeated ids inside a bag and bags of different lengths.
TEST(Router, TextGradientEqualsEmbeddingBag) {
  torch::manual_seed(1);
  relmoe::Router router(64, 2, 3, 8, 4, 16);
  const auto ids = torch::tensor({5, 7, 5, 63, 0, 9, 9, 9, 12}, torch::kLong);
  const auto offsets = torch::tensor({0, 3, 4}, torch::kLong);
  const auto markets = torch::tensor({0, 1, 1}, torch::kLong);
  const auto upstream = torch::randn({3, 3});
  (router->forward(ids, offsets, markets) * upstream).sum().backward();

  auto weight = router->text->weight.detach().clone().requires_grad_();
  auto bag = std::get<0>(torch::embedding_bag(weight, ids, offsets, false, /*mode=mean*/ 1));
  auto x = torch::cat({bag, router->market->forward(markets).detach()}, 1);
  auto logits = router->out->forward(torch::relu(router->hidden->forward(x)));
  (logits * upstream).sum().backward();
  ASSERT_TRUE(router->text->weight.grad().defined());
  EXPECT_GT(weight.grad().abs().sum().item<double>(), 0);
  EXPECT_TRUE(torch::allclose(router->text->weight.grad(), weight.grad(), 1e-5, 1e-7));
}
