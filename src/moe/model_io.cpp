#include "moe/model_io.hpp"

#include "base/error.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

std::map<std::string, torch::Tensor> named_state(MoeModel& model) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : model->named_parameters()) state[p.key()] = p.value();
  for (const auto& b : model->named_buffers()) state[b.key()] = b.value();
  return state;
}

// Writes via a temp file + rename so an interrupted save never leaves a complete-looking file.
void write_file(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) fail(tmp.string(), "cannot create");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) fail(tmp.string(), "write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace

void write_safetensors_f32(const fs::path& path, const std::map<std::string, torch::Tensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : tensors) {
    const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const auto begin = data.size();
    data.append(static_cast<const char*>(c.data_ptr()), static_cast<std::size_t>(c.numel()) * 4);
    header[name] = {{"dtype", "F32"}, {"shape", c.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string bytes(8, '\0');
  const std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  write_file(path, bytes + text + data);
}

std::map<std::string, torch::Tensor> read_safetensors_f32(const fs::path& path) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(where, "cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) fail(where, "too short for a safetensors header");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8) fail(where, "header length " + std::to_string(n) + " exceeds the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    fail(where, std::string("header is not JSON: ") + e.what());
  }
  const std::size_t data_start = 8 + n, data_size = bytes.size() - data_start;
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      if (info.at("dtype") != "F32") fail(where, "tensor '" + name + "' is " + info.at("dtype").dump() + ", not F32");
      const auto shape = info.at("shape").get<std::vector<std::int64_t>>();
      const auto begin = info.at("data_offsets").at(0).get<std::size_t>();
      const auto end = info.at("data_offsets").at(1).get<std::size_t>();
      std::int64_t numel = 1;
      for (auto d : shape) numel *= d;
      if (begin > end || end > data_size || end - begin != static_cast<std::size_t>(numel) * 4)
        fail(where, "tensor '" + name + "' has data_offsets inconsistent with its shape or the file size");
      auto t = torch::empty(shape, torch::kFloat32);
      std::memcpy(t.data_ptr(), bytes.data() + data_start + begin, end - begin);
      out[name] = t;
    } catch (const nlohmann::json::exception& e) {
      fail(where, "tensor '" + name + "': " + e.what());
    }
  }
  return out;
}

void save_model(MoeModel& model, const fs::path& dir) {
  fs::create_directories(dir);
  write_safetensors_f32(dir / "model.safetensors", named_state(model));
  write_file(dir / "config.json", to_json(model->config).dump(2) + "\n");
}

MoeModel load_model(const fs::path& dir) {
  const fs::path config_path = dir / "config.json";
  std::ifstream in(config_path);
  if (!in) fail(config_path.string(), "cannot open (is this a model directory from `relmoe train`?)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(config_path.string(), std::string("not valid JSON: ") + e.what());
  }
  MoeModel model(config_from_json(j, config_path.string()));
  const fs::path weights = dir / "model.safetensors";
  auto tensors = read_safetensors_f32(weights);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : named_state(model)) {
    auto it = tensors.find(name);
    if (it == tensors.end()) fail(weights.string(), "lacks tensor '" + name + "'");
    if (it->second.sizes() != t.sizes())
      fail(weights.string(), "tensor '" + name + "' has shape " + c10::str(it->second.sizes()) + ", the config implies " +
                                 c10::str(t.sizes()));
    t.copy_(it->second);
    tensors.erase(it);
  }
  if (!tensors.empty()) fail(weights.string(), "has unexpected tensor '" + tensors.begin()->first + "'");
  model->eval();
  return model;
}

}  // namespace relmoe
