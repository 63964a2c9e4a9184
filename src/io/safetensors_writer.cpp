#include "io/safetensors_writer.hpp"

#include "base/error.hpp"

#include <nlohmann/json.hpp>


namespace relmoe {

std::size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  auto it = sizes.find(dtype);
  if (it == sizes.end()) fail("safetensors", "unknown dtype '" + dtype + "'");
  return it->second;
}

namespace {

std::size_t byte_size(const SafetensorsEntry& e) {
  std::size_t n = safetensors_dtype_size(e.dtype);
  for (auto d : e.shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::string header_json(const std::vector<SafetensorsEntry>& entries,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const auto& e : entries) {
    std::size_t end = offset + byte_size(e);
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  return text;
}

}  // namespace

SafetensorsWriter::SafetensorsWriter(std::filesystem::path path,
                                     std::vector<SafetensorsEntry> entries,
                                     const std::map<std::string, std::string>& metadata)
    : path_(std::move(path)), entries_(std::move(entries)), out_(path_) {
  const std::string header = header_json(entries_, metadata);
  std::uint64_t length = header.size();
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(length >> (8 * i));
  out_.write(le, 8);
  out_.write(header.data(), header.size());
}

SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::write(const void* data, std::size_t bytes) {
  if (next_ >= entries_.size()) fail(path_.string(), "more tensors written than declared");
  const auto& entry = entries_[next_++];
  if (bytes != byte_size(entry))
    fail(path_.string(), "tensor '" + entry.name + "' expects " + std::to_string(byte_size(entry)) +
                             " bytes, got " + std::to_string(bytes));
  out_.write(data, bytes);
}

void SafetensorsWriter::finish() {
  if (next_ != entries_.size())
    fail(path_.string(), "only " + std::to_string(next_) + " of " +
                             std::to_string(entries_.size()) + " tensors written");
  out_.commit();
}

}  // namespace relmoe
