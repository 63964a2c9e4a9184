#include "student/candidate_groups.hpp"

#include "base/error.hpp"
#include "base/split.hpp"

#include <cmath>
#include <fstream>
#include <map>

namespace relmoe {

std::unordered_map<std::string, double> read_teacher_scores(const std::filesystem::path& path, bool logits) {
  std::ifstream in(path);
  if (!in) fail(path.string(), "cannot open the teacher scores");
  std::string line;
  if (!std::getline(in, line)) fail(path.string(), "is empty (expected a header with id and score columns)");
  const auto header = split_fields(line, '\t');
  std::ptrdiff_t id_col = -1, score_col = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "id") id_col = static_cast<std::ptrdiff_t>(i);
    if (header[i] == "score") score_col = static_cast<std::ptrdiff_t>(i);
  }
  if (id_col < 0 || score_col < 0) fail(path.string() + ":1", "the header needs an 'id' and a 'score' column");
  std::unordered_map<std::string, double> scores;
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const auto where = path.string() + ":" + std::to_string(number);
    const auto fields = split_fields(line, '\t');
    if (fields.size() <= static_cast<std::size_t>(std::max(id_col, score_col))) fail(where, "too few columns");
    const auto& text = fields[static_cast<std::size_t>(score_col)];
    char* end = nullptr;
    double score = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(score)) fail(where, "score '" + text + "' is not a number");
    if (logits) score = 1 / (1 + std::exp(-score));
    else if (score < 0 || score > 1) fail(where, "score '" + text + "' is not a probability in [0, 1]");
    if (!scores.emplace(fields[static_cast<std::size_t>(id_col)], score).second)
      fail(where, "id '" + fields[static_cast<std::size_t>(id_col)] + "' appears twice");
  }
  return scores;
}

std::vector<CandidateGroup> group_candidates(const std::vector<Pair>& pairs,
                                             const std::unordered_map<std::string, double>* teacher,
                                             const std::string& where) {
  std::vector<CandidateGroup> groups;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const auto& p : pairs) {
    float target = 0;
    if (teacher) {
      const auto it = teacher->find(p.id);
      if (it == teacher->end()) fail(where, "pair '" + p.id + "' has no teacher score");
      target = static_cast<float>(it->second);
    } else {
      if (!p.label) fail(where, "pair '" + p.id + "' has no label (train on labels needs every pair labelled)");
      target = *p.label;
    }
    const auto [it, added] = index.emplace(std::make_pair(p.market, p.query), groups.size());
    if (added) groups.push_back({p.market, p.query, {}, {}});
    auto& g = groups[it->second];
    g.items.push_back(p.item);
    g.targets.push_back(target);
  }
  return groups;
}

}  // namespace relmoe
