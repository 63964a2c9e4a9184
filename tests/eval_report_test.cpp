#include "eval/report.hpp"

#include "base/error.hpp"
#include "base/progress.hpp"
#include "eval/auc.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

TEST(EvalReport, PerMarketAucUsageAndActiveExperts) {
  relmoe::EvalInput in;
  in.experts = {"a", "b"};
  // Market x: perfectly ranked; market y: inverted. Expert a runs on x, both on y.
  const double s[] = {0.1, 0.9, 0.2, 0.8, 0.9, 0.1, 0.7, 0.3};
  const float l[] = {0, 1, 0, 1, 0, 1, 0, 1};
  for (int i = 0; i < 8; ++i) {
    in.scores.push_back(s[i]);
    in.labels.push_back(l[i]);
    in.markets.push_back(i < 4 ? "x" : "y");
    in.active.push_back(1);
    in.active.push_back(i < 4 ? 0 : 1);
  }
  const auto r = relmoe::evaluate(in, 200, 7);
  EXPECT_DOUBLE_EQ(r.markets.at("x").auc, 1.0);
  EXPECT_DOUBLE_EQ(r.markets.at("y").auc, 0.0);
  EXPECT_DOUBLE_EQ(r.overall.auc, relmoe::roc_auc(in.scores, in.labels));
  EXPECT_EQ(r.overall.n, 8);
  EXPECT_EQ(r.markets.at("y").n, 4);
  EXPECT_DOUBLE_EQ(r.usage.at("x").at("b"), 0.0);
  EXPECT_DOUBLE_EQ(r.usage.at("y").at("b"), 1.0);
  EXPECT_DOUBLE_EQ(r.active_experts, 1.5);

  const auto j = relmoe::to_json(r);
  EXPECT_EQ(j.at("markets").at("x").at("ci").size(), 2u);
  EXPECT_EQ(j.at("usage").at("x").at("a").get<double>(), 1.0);
  const auto back = relmoe::report_from_json(j);
  EXPECT_DOUBLE_EQ(back.overall.lo, r.overall.lo);
  EXPECT_NE(relmoe::markdown(r).find("| x | 100.00"), std::string::npos);
}

TEST(EvalReport, SingleClassMarketIsNullAndEmptyInputIsAnError) {
  relmoe::EvalInput in;
  in.experts = {"a"};
  in.scores = {0.1, 0.9, 0.5};
  in.labels = {0, 1, 1};
  in.markets = {"x", "x", "z"};
  in.active = {1, 1, 1};
  const auto j = relmoe::to_json(relmoe::evaluate(in, 50));
  EXPECT_TRUE(j.at("markets").at("z").at("auc").is_null());
  EXPECT_THROW(relmoe::evaluate(relmoe::EvalInput{}), relmoe::Error);
}

TEST(Progress, RendersCountRateEtaAndStatus) {
  const auto line = relmoe::Progress::render("train", 50, 200, 10.0, "loss 0.3", 10);
  EXPECT_NE(line.find("[##........]"), std::string::npos) << line;
  EXPECT_NE(line.find("25% 50/200"), std::string::npos) << line;
  EXPECT_NE(line.find("5.0/s"), std::string::npos) << line;
  EXPECT_NE(line.find("eta 30s"), std::string::npos) << line;
  EXPECT_NE(line.find("| loss 0.3"), std::string::npos) << line;
  EXPECT_EQ(relmoe::Progress::duration(185), "3m05s");
  EXPECT_EQ(relmoe::Progress::duration(7260), "2h01m");
  std::ostringstream out;
  {
    relmoe::Progress p("x", 3, out);
    p.advance(3);
  }
  EXPECT_NE(out.str().find("100% 3/3"), std::string::npos) << out.str();
}
