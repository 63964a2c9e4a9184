#include "data/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace relmoe {

ProgressBar::ProgressBar(std::string label, long total, long start, bool enabled)
    : label_(std::move(label)), total_(total), start_(start), enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0), begin_(std::chrono::steady_clock::now()), last_draw_(begin_) {}

void ProgressBar::update(long done, double loss) {
  if (!enabled_ || total_ <= 0) return;
  auto now = std::chrono::steady_clock::now();
  const int decile = static_cast<int>(10 * done / total_);
  if (tty_ ? (now - last_draw_ < std::chrono::milliseconds(200) && done < total_) : decile == last_decile_)
    return;
  last_draw_ = now;
  last_decile_ = decile;
  double elapsed = std::chrono::duration<double>(now - begin_).count();
  double rate = elapsed > 0 ? static_cast<double>(done - start_) / elapsed : 0;
  double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
  constexpr int kWidth = 24;
  std::string bar(kWidth, ' ');
  int filled = static_cast<int>(kWidth * done / total_);
  for (int i = 0; i < filled; ++i) bar[i] = '=';
  if (filled < kWidth) bar[filled] = '>';
  std::fprintf(stderr, "%s%s [%s] %ld/%ld loss %.4f %.1f it/s eta %.0fs%s", tty_ ? "\r" : "",
               label_.c_str(), bar.c_str(), done, total_, loss, rate, eta, tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_ && tty_) std::fprintf(stderr, "\n");
}

}  // namespace relmoe
