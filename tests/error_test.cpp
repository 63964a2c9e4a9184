#include "base/error.hpp"

#include <gtest/gtest.h>

TEST(Error, FailPrefixesWhere) {
  try {
    relmoe::fail("data.tsv:3", "expected 9 columns, got 2");
    FAIL() << "fail() returned";
  } catch (const relmoe::Error& e) {
    EXPECT_STREQ(e.what(), "data.tsv:3: expected 9 columns, got 2");
  }
}

TEST(Error, OneLineKeepsFirstLine) {
  EXPECT_EQ(relmoe::one_line("bad shape\n frame #0 ..."), "bad shape");
  EXPECT_EQ(relmoe::one_line("plain"), "plain");
}
