#include "io/scored_pairs.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"

#include <cstdio>
#include <fstream>

namespace relmoe {

void write_scored_pairs(const std::filesystem::path& path, const ScoredPairs& p) {
  std::string text = "id\tmarket\tlabel\tscore\n";
  char buf[64];
  for (std::size_t i = 0; i < p.ids.size(); ++i) {
    std::snprintf(buf, sizeof buf, "\t%g\t%.17g\n", p.labels[i], p.scores[i]);
    text += p.ids[i] + "\t" + p.markets[i] + buf;
  }
  write_text_file(path, text);
}

ScoredPairs read_scored_pairs(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail(path.string(), "cannot open");
  ScoredPairs p;
  std::string line;
  std::getline(in, line);  // header
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    const auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1), t3 = line.find('\t', t2 + 1);
    if (t3 == std::string::npos) fail(path.string() + ":" + std::to_string(n), "expected 4 tab-separated fields");
    try {
      p.labels.push_back(std::stof(line.substr(t2 + 1, t3 - t2 - 1)));
      p.scores.push_back(std::stod(line.substr(t3 + 1)));
    } catch (const std::exception&) {
      fail(path.string() + ":" + std::to_string(n), "label or score is not a number");
    }
    p.ids.push_back(line.substr(0, t1));
    p.markets.push_back(line.substr(t1 + 1, t2 - t1 - 1));
  }
  return p;
}

}  // namespace relmoe
