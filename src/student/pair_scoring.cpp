#include "student/pair_scoring.hpp"

#include "base/progress.hpp"
#include "student/maxsim.hpp"

#include <torch/utils.h>
#include <optional>

namespace relmoe {

std::vector<double> student_scores(const ColbertStudent& student, const std::vector<Pair>& pairs, int batch,
                                   bool show_progress) {
  torch::NoGradGuard no_grad;
  std::optional<Progress> progress;
  if (show_progress) progress.emplace("student scores", pairs.size());
  std::vector<double> out;
  out.reserve(pairs.size());
  for (std::size_t start = 0; start < pairs.size(); start += static_cast<std::size_t>(batch)) {
    const auto end = std::min(pairs.size(), start + static_cast<std::size_t>(batch));
    std::vector<std::string> queries, items;
    for (std::size_t i = start; i < end; ++i) queries.push_back(pairs[i].query), items.push_back(pairs[i].item);
    const auto q = student.encode_queries(queries);
    const auto d = student.encode_items(items);
    const auto probs = student.probability(maxsim_pairs(q, d.vectors, d.mask)).contiguous();
    const float* p = probs.data_ptr<float>();
    out.insert(out.end(), p, p + probs.numel());
    if (progress) progress->advance(end - start);
  }
  if (progress) progress->finish();
  return out;
}

}  // namespace relmoe
