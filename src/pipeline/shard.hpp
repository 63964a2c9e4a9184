#pragma once
// Sharding a scoring job: shard i of N takes the pairs whose id hashes to i, so N independent
// processes (a Slurm array, an MPI job) cover the input exactly once without talking to each
// other, and `relmoe merge` can tell from an id which shard must hold it.
#include <cstdint>
#include <string>
#include <string_view>

namespace relmoe {

struct Shard {
  int index = 0;  // 0-based
  int count = 1;
  bool operator==(const Shard&) const = default;
};

// hash64 (base/hash.hpp) of the id: fixed by definition, the same on every platform and
// release, and spreads consecutive ids evenly over any shard count.
std::uint64_t id_hash(std::string_view id);
int shard_of(std::string_view id, int count);

// "i/N" (0 <= i < N), or "auto": the rank and size of the launcher, from the first of
//   OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE      (mpirun of Open MPI)
//   SLURM_PROCID / SLURM_NTASKS                      (srun with several tasks)
//   SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN / SLURM_ARRAY_TASK_COUNT   (sbatch --array)
// "" means unsharded (0/1). Errors name the flag or the variable.
Shard parse_shard(const std::string& spec);
Shard shard_from_environment();

// "SCORES.tsv" -> "SCORES.shard-1-of-4.tsv" (unchanged for an unsharded run), so every rank of
// one launcher command line writes its own file.
std::string shard_output_path(const std::string& output, const Shard& shard);

}  // namespace relmoe
