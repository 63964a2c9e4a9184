// relmoe merge: join the shard outputs of `relmoe score --shard` and verify them complete.
#include "cli/command.hpp"
#include "pipeline/merge.hpp"

#include <iostream>

namespace relmoe::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> shards;
  std::string output, input;
};

const Register command{{"merge", "Merge the shard outputs of `relmoe score --shard` in input order, verifying completeness",
  [](CLI::App& app) {
    auto a = std::make_shared<MergeArgs>();
    app.add_option("shards", a->shards, "shard output files (SCORES.shard-I-of-N.tsv)")->required();
    app.add_option("--output", a->output, "merged scores TSV")->required();
    app.add_option("--input", a->input, "the scored pairs file, if it moved since scoring");
    return [a] {
      std::vector<std::filesystem::path> shards(a->shards.begin(), a->shards.end());
      const auto r = relmoe::merge_shards(shards, a->output, a->input);
      std::cerr << "merge: " << shards.size() << " shards, " << r.rows << " rows" << (r.rejected ? ", " : "")
                << (r.rejected ? std::to_string(r.rejected) + " rejected rows" : std::string()) << " -> " << a->output
                << "\n";
      return 0;
    };
  }}};

}  // namespace
}  // namespace relmoe::cli
