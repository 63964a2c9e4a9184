#pragma once
// Distillation data: each query's candidate items with the teacher's relevance probabilities
// (or, for a student trained on the judgements directly, the labels), grouped per (market, query)
// as ColBERTv2 trains on n-way groups.
#include "io/pair.hpp"

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace relmoe {

struct CandidateGroup {
  std::string market, query;
  std::vector<std::string> items;
  std::vector<float> targets;  // probability in [0, 1] per item
};

// id -> teacher probability from a scores TSV with a header naming an "id" and a "score" column
// (the output of `relmoe score` or `relmoe eval --scores`). relmoe writes relevance logits, which
// are mapped through the sigmoid (`logits`); otherwise the scores must be probabilities in [0, 1].
// Errors name the file and line; a repeated id is an error.
std::unordered_map<std::string, double> read_teacher_scores(const std::filesystem::path& path, bool logits = true);

// Groups `pairs` by (market, query) in first-seen order. Targets are teacher[id] when `teacher`
// is given (a pair without a score is an error naming `where` and the id), else the pair's label
// (a pair without one is an error).
std::vector<CandidateGroup> group_candidates(const std::vector<Pair>& pairs,
                                             const std::unordered_map<std::string, double>* teacher,
                                             const std::string& where);

}  // namespace relmoe
