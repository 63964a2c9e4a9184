#include "base/progress.hpp"

#include "base/stopwatch.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace relmoe {

Progress::Progress(std::string label, std::size_t total, std::ostream& out)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      tty_(&out == &std::cerr && isatty(STDERR_FILENO)),
      start_(SteadyClock::now()),
      last_draw_(start_) {}

Progress::Progress(std::string label, std::size_t total) : Progress(std::move(label), total, std::cerr) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::size_t n) { set(done_ + n); }

void Progress::resume_from(std::size_t done) {
  resumed_ = done;
  set(done);
}

void Progress::set(std::size_t done) {
  done_ = done;
  draw(false);
}

void Progress::status(std::string text) {
  status_ = std::move(text);
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  draw(true);
  if (tty_) out_ << "\n";
  out_.flush();
  finished_ = true;
}

void Progress::draw(bool force) {
  if (finished_) return;
  // Terminals redraw ~10 times a second; logs get a line every 5 s so they stay readable.
  const double min_gap = tty_ ? 0.1 : 5.0;
  if (!force && seconds_since(last_draw_) < min_gap) return;
  last_draw_ = SteadyClock::now();
  const std::string line = render(label_, done_, total_, seconds_since(start_), status_, 24, resumed_);
  if (tty_)
    out_ << "\r\033[K" << line << std::flush;
  else
    out_ << line << "\n";
}

std::string Progress::duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string Progress::render(const std::string& label, std::size_t done, std::size_t total,
                             double elapsed_s, const std::string& status, int bar_width,
                             std::size_t resumed) {
  std::string line = label + " ";
  const double rate = elapsed_s > 0 && done > resumed ? static_cast<double>(done - resumed) / elapsed_s : 0.0;
  char buf[96];
  if (total > 0) {
    const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    const int filled = static_cast<int>(frac * bar_width);
    line += "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] ";
    std::snprintf(buf, sizeof buf, "%3.0f%% %zu/%zu", frac * 100.0, done, total);
    line += buf;
  } else {
    line += std::to_string(done);
  }
  std::snprintf(buf, sizeof buf, " %.1f/s", rate);
  line += buf;
  line += " " + duration(elapsed_s);
  if (total > 0 && done < total)
    line += " eta " + (rate > 0 ? duration(static_cast<double>(total - done) / rate) : std::string("?"));
  if (!status.empty()) line += " | " + status;
  return line;
}

}  // namespace relmoe
