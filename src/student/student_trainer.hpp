#pragma once
// Distilling the teacher into the ColBERT student (ColBERTv2's recipe): each step takes
// `queries_per_batch` query groups with up to `group_size` candidates each and minimises
//   KL(softmax(teacher logits) || softmax(student MaxSim)) over each query's own candidates
//   + in_batch_weight · cross-entropy of the same teacher distribution against the softmax over
//     every candidate in the batch (the other queries' candidates are in-batch negatives)
//   + pointwise_weight · binary cross-entropy of the calibrated probability against the
//     teacher's probability (this is what trains the calibration).
// Groups whose candidates the teacher scores alike carry no ranking and enter the pointwise term
// only. A fixed share of the groups (by a hash of market and query) is held out; the dev loss
// decides early stopping and which weights are kept. Resumable: OUT/.train-state holds the
// latest checkpoint (weights, optimizer, counters) and the best weights so far.
#include "student/candidate_groups.hpp"
#include "student/colbert_student.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

namespace relmoe {

struct StudentTrainOptions {
  std::filesystem::path out;
  long steps = 1500;
  int queries_per_batch = 16;
  int group_size = 8;
  double lr = 5e-4;
  double in_batch_weight = 0.5;
  double pointwise_weight = 0.5;
  double dev_fraction = 0.1;
  long eval_every = 100;
  int patience = 5;  // evaluations without a better dev loss before stopping
  long checkpoint_every = 100;
  std::uint64_t seed = 1;
  bool progress = true;
  long stop_after = 0;  // > 0: stop after this many steps of this run, keeping the state (tests)
};

struct StudentTrainResult {
  std::vector<float> losses;  // per step run in this call
  long steps_done = 0, best_step = 0;
  double best_dev_loss = 0;
  std::size_t train_groups = 0, dev_groups = 0;
  bool resumed = false, finished = false, stopped_early = false;
  double seconds = 0;
};

// Trains the student `initial` makes (called only when there is no state to resume) on `groups`
// and writes the best one to options.out.
StudentTrainResult train_student(const std::function<ColbertStudent()>& initial,
                                 const std::vector<CandidateGroup>& groups, const StudentTrainOptions& options);

// The distillation loss of one batch of groups, `picks[g]` the candidates taken from groups[g].
torch::Tensor distillation_loss(const ColbertStudent& student, const std::vector<const CandidateGroup*>& groups,
                                const std::vector<std::vector<std::size_t>>& picks, const StudentTrainOptions& options);

}  // namespace relmoe
