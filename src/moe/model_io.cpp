#include "moe/model_io.hpp"

#include "base/error.hpp"
#include "io/checkpoint.hpp"
#include "io/json_file.hpp"
#include "models/weights.hpp"

#include <map>
#include <set>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

std::map<std::string, torch::Tensor> named_state(MoeModel& model) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : model->named_parameters()) state[p.key()] = p.value();
  for (const auto& b : model->named_buffers()) state[b.key()] = b.value();
  return state;
}

}  // namespace

void save_model(MoeModel& model, const fs::path& dir) {
  fs::create_directories(dir);
  save_tensors(dir / "model.safetensors", named_state(model));
  write_json_file(dir / "config.json", to_json(model->config));
}

MoeModel load_model(const fs::path& dir) {
  const fs::path config_path = dir / "config.json";
  MoeModel model(config_from_json(read_json_file(config_path, "is this a model directory from `relmoe train`?"),
                                  config_path.string()));
  const fs::path weights = dir / "model.safetensors";
  const auto checkpoint = Checkpoint::open(weights);
  const auto stored = checkpoint.stored_names();
  std::set<std::string> unused(stored.begin(), stored.end());
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : named_state(model)) {
    t.copy_(checkpoint.get(name, torch::kFloat32, torch::kCPU, t.sizes().vec()));
    unused.erase(name);
  }
  if (!unused.empty()) fail(weights.string(), "has unexpected tensor '" + *unused.begin() + "'");
  model->eval();
  return model;
}

}  // namespace relmoe
