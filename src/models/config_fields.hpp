#pragma once
// Typed access to the fields of a Hugging Face config.json (decoders and encoders alike); every
// error names the file and the field.
#include "base/error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace relmoe {

class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {}

  bool has(const std::string& name) const { return j_.contains(name) && !j_[name].is_null(); }

  std::int64_t positive_int(const std::string& name) const {
    if (!has(name)) bad(name, "is missing");
    return positive(name, j_[name]);
  }
  std::int64_t positive_int_or(const std::string& name, std::int64_t fallback) const {
    return has(name) ? positive(name, j_[name]) : fallback;
  }
  // An integer in [lo, hi]: sizes and counts that bound the work and memory spent on them.
  std::int64_t int_in(const std::string& name, std::int64_t lo, std::int64_t hi) const {
    if (!has(name)) bad(name, "is missing");
    const auto& v = j_[name];
    if (!v.is_number_integer() || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
      bad(name, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + v.dump());
    return v.get<std::int64_t>();
  }
  double number_or(const std::string& name, double fallback) const {
    if (!has(name)) return fallback;
    if (!j_[name].is_number()) bad(name, "must be a number, got " + j_[name].dump());
    return j_[name].get<double>();
  }
  // A number that must be finite and > 0 (epsilons, scales, frequencies): a zero or negative
  // one would turn every hidden state into NaN without an error.
  double positive_number_or(const std::string& name, double fallback) const {
    const double v = number_or(name, fallback);
    if (!(v > 0) || !std::isfinite(v)) bad(name, "must be a positive number, got " + j_[name].dump());
    return v;
  }
  // Absent -> fallback; explicit null -> nullopt (e.g. Gemma2 softcaps switched off).
  std::optional<double> optional_positive_number(const std::string& name,
                                                 std::optional<double> fallback) const {
    if (!j_.contains(name)) return fallback;
    if (j_[name].is_null()) return std::nullopt;
    return positive_number_or(name, 0);
  }
  bool bool_or(const std::string& name, bool fallback) const {
    if (!has(name)) return fallback;
    if (!j_[name].is_boolean()) bad(name, "must be true or false, got " + j_[name].dump());
    return j_[name].get<bool>();
  }
  std::string string_or(const std::string& name, const std::string& fallback) const {
    if (!has(name)) return fallback;
    if (!j_[name].is_string()) bad(name, "must be a string, got " + j_[name].dump());
    return j_[name].get<std::string>();
  }
  [[noreturn]] void bad(const std::string& name, const std::string& what) const {
    fail(where_, "field '" + name + "' " + what);
  }

 private:
  std::int64_t positive(const std::string& name, const nlohmann::json& v) const {
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
      bad(name, "must be a positive integer, got " + v.dump());
    return v.get<std::int64_t>();
  }
  const nlohmann::json& j_;
  std::string where_;
};


}  // namespace relmoe
