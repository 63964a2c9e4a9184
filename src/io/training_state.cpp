#include "io/training_state.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"
#include "io/json_file.hpp"
#include "text/read_file.hpp"

namespace relmoe {

namespace fs = std::filesystem;

bool TrainingState::exists() const { return fs::exists(root_ / "latest"); }

fs::path TrainingState::latest() const { return root_ / read_file(root_ / "latest"); }

nlohmann::json TrainingState::info() const { return read_json_file(latest() / "state.json"); }

void TrainingState::save(const std::string& name, const nlohmann::json& info,
                         const std::function<void(const fs::path&)>& fill) const {
  {
    StagingDirectory step(root_ / name);
    fill(step.path());
    write_json_file(step.path() / "state.json", info);
    step.publish();
  }
  const std::string previous = exists() ? read_file(root_ / "latest") : "";
  write_atomically(root_ / "latest", name);
  if (!previous.empty() && previous != name) fs::remove_all(root_ / previous);
}

void TrainingState::require_options(const nlohmann::json& options) const {
  if (exists() && info().value("options", nlohmann::json()) != options)
    fail(root_.string(), "was written by a run with other options; delete it to start over");
}

}  // namespace relmoe
