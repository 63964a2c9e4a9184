#pragma once
// A one-line progress bar on stderr ("pretrain [=====>    ] 120/300 loss 3.2104 8.1 it/s eta 15s"),
// redrawn at most every 0.2 s on a terminal; elsewhere (logs, CI) one line per 10 %.
#include <chrono>
#include <string>

namespace relmoe {

class ProgressBar {
 public:
  ProgressBar(std::string label, long total, long start = 0, bool enabled = true);
  // Reports `done` of `total` steps with the current (smoothed) loss.
  void update(long done, double loss);
  // Ends the line.
  void finish();

 private:
  std::string label_;
  long total_, start_;
  bool enabled_, tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point begin_, last_draw_;
};

}  // namespace relmoe
