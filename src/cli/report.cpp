// relmoe report: (re)renders a run directory's report.html (tables, radar, t-SNE, usage, throughput).
#include "cli/command.hpp"

#include "cli/thread_option.hpp"
#include "flow/run_report.hpp"
#include "runtime/compute.hpp"

namespace relmoe::cli {
namespace {

struct ReportArgs {
  std::string run;
  RunReportOptions options;
  int threads = 0;
};

const Register command{{"report", "Render report.html of a quickstart / experiment run directory",
  [](CLI::App& app) {
    auto a = std::make_shared<ReportArgs>();
    app.add_option("--run", a->run, "run directory (holds report.json)")->required();
    app.add_option("--tsne-points", a->options.tsne_points, "test pairs in each t-SNE map")->capture_default_str();
    app.add_option("--seed", a->options.seed, "which test pairs the t-SNE maps show")->capture_default_str();
    add_threads_option(app, a->threads);
    app.add_flag("!--no-progress", a->options.progress, "no progress bar");
    return [a] {
      set_threads(a->threads);
      render_run_report(a->run, a->options);
      return 0;
    };
  }}};

}  // namespace
}  // namespace relmoe::cli
