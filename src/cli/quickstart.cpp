// relmoe quickstart: the embedded default end to end, from nothing and offline: synthetic
// markets, three small heterogeneous experts trained here plus the built-in lexical expert,
// feature store, MoE + baselines grid,
// report.json + report.html. Every stage is resumable; rerunning with the same --out continues.
#include "cli/command.hpp"
#include "cli/thread_option.hpp"
#include "synth/synth.hpp"
#include "flow/run_flow.hpp"
#include "runtime/compute.hpp"

#include <spdlog/spdlog.h>

namespace relmoe::cli {
namespace {

struct QuickstartArgs {
  std::string out = "runs/quickstart";
  std::size_t pairs = 12000;
  std::uint64_t seed = 1;
  int threads = 0;
  bool lexical = true, student = true;
  long student_steps = 300;
};

int run_quickstart(const QuickstartArgs& args) {
  set_threads(args.threads);
  FlowOptions flow;
  flow.out = args.out;
  flow.title = "relmoe quickstart: synthetic markets, three self-trained experts";
  flow.source = "synthetic (relmoe data synth, " + std::to_string(args.pairs) + " pairs, seed " + std::to_string(args.seed) + ")";
  flow.prepare_data = [&](const RunLayout& layout) {
    spdlog::info("quickstart: synthesising {} pairs over 6 markets", args.pairs);
    synth::Options options;
    options.pairs = args.pairs;
    options.seed = args.seed;
    synth::write_dataset(synth::generate(options), layout.data());
  };
  flow.experts = default_experts(RunLayout{args.out}, args.seed);
  // Regional experts, as in the paper: two are fine-tuned on three markets each, the third on all.
  flow.experts[0].recipe->markets = {"syn-en", "syn-id", "syn-th"};
  flow.experts[1].recipe->markets = {"syn-vi", "syn-ms", "syn-fil"};
  flow.lexical = args.lexical;
  if (args.student) flow.students->steps = args.student_steps;
  else flow.students.reset();
  flow.ablation = default_flow_ablation();
  flow.ablation.seed = args.seed;
  flow.ablation.train.seed = args.seed;
  run_flow(flow);
  spdlog::info("quickstart: done; report {}/report.html", args.out);
  return 0;
}

const Register command{{"quickstart", "Run the embedded default end to end (synthetic data, self-trained experts, MoE, report)",
  [](CLI::App& sub) {
    auto args = std::make_shared<QuickstartArgs>();
    sub.add_option("--out", args->out, "output directory (resumed when it exists)")->capture_default_str();
    sub.add_option("--pairs", args->pairs, "synthetic labelled pairs")->capture_default_str();
    sub.add_option("--seed", args->seed, "random seed")->capture_default_str();
    add_threads_option(sub, args->threads, "libtorch threads");
    sub.add_flag("!--no-lexical", args->lexical, "leave out the built-in lexical expert");
    sub.add_flag("!--no-student", args->student, "skip the ColBERT students (Table 3)");
    sub.add_option("--student-steps", args->student_steps, "training steps of each student")->capture_default_str();
    return [args] { return run_quickstart(*args); };
  }}};

}  // namespace
}  // namespace relmoe::cli
