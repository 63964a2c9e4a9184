#pragma once
// One exception type for every user-facing failure: the message names the file, line or field.
#include <stdexcept>
#include <string>

namespace relmoe {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws relmoe::Error("<where>: <what>").
[[noreturn]] void fail(const std::string& where, const std::string& what);

// Collapses a (possibly multi-line, e.g. c10::Error with backtrace) message to its first line.
std::string one_line(const std::string& message);

}  // namespace relmoe
