#pragma once
// A torch-free progress bar for long loops: count, rate, ETA and a free-form status
// (e.g. "loss 0.31 dev_auc 0.842"), redrawn in place on a terminal and printed as plain
// lines, at most every few seconds, when stderr is not a terminal (logs, CI).
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace relmoe {

class Progress {
 public:
  // `total` 0 means unknown (no percentage or ETA).
  Progress(std::string label, std::size_t total, std::ostream& out);
  Progress(std::string label, std::size_t total);  // to std::cerr
  ~Progress();

  void advance(std::size_t n = 1);
  void set(std::size_t done);
  void status(std::string text);
  // Continues a resumed job: `done` units count as done but not towards the rate and ETA.
  void resume_from(std::size_t done);
  // Draws the final state and ends the line; later calls are no-ops.
  void finish();

  // The rendered line for `done` of `total` after `elapsed_s` seconds (pure; for tests and logs).
  static std::string render(const std::string& label, std::size_t done, std::size_t total,
                            double elapsed_s, const std::string& status, int bar_width = 24,
                            std::size_t resumed = 0);
  // "42s", "3m05s", "2h01m".
  static std::string duration(double seconds);

 private:
  void draw(bool force);

  std::string label_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::size_t resumed_ = 0;
  std::string status_;
  std::ostream& out_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace relmoe
