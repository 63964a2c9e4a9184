#pragma once
// The student's calibrated probability for each (query, item) pair of a file, in batches.
#include "io/pair.hpp"
#include "student/colbert_student.hpp"

#include <vector>

namespace relmoe {

std::vector<double> student_scores(const ColbertStudent& student, const std::vector<Pair>& pairs, int batch,
                                   bool progress);

}  // namespace relmoe
