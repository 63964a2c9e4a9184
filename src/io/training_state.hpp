#pragma once
// A training job's resumable state: one directory per saved step under `root`, the newest
// named by `root`/latest. A step is staged and published whole (io/durable_file), then
// `latest` is pointed at it and the previous step removed, so a run killed at any moment
// leaves either the old state or the new one, never a mix. Trainers keep their own files in a
// step (weights, optimizer) beside state.json, which describes it.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace relmoe {

class TrainingState {
 public:
  explicit TrainingState(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  bool exists() const;
  // The newest step's directory and its state.json.
  std::filesystem::path latest() const;
  nlohmann::json info() const;

  // Publishes step `name`: `fill` writes the trainer's files into the staging directory it is
  // given, then `info` is written as state.json.
  void save(const std::string& name, const nlohmann::json& info,
            const std::function<void(const std::filesystem::path&)>& fill) const;

  // A fresh start: the state of an earlier run must match `options` (the settings that make
  // a state resumable), else the error names the directory.
  void require_options(const nlohmann::json& options) const;

 private:
  std::filesystem::path root_;
};

}  // namespace relmoe
