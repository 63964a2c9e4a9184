#include "io/safetensors_header.hpp"

#include "base/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace relmoe {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit

struct DTypeInfo {
  const char* name;
  StDType dtype;
  std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {"F64", StDType::F64, 8}, {"F32", StDType::F32, 4}, {"F16", StDType::F16, 2},
    {"BF16", StDType::BF16, 2}, {"I64", StDType::I64, 8}, {"I32", StDType::I32, 4},
    {"I16", StDType::I16, 2}, {"I8", StDType::I8, 1},   {"U8", StDType::U8, 1},
    {"BOOL", StDType::BOOL, 1}};

const DTypeInfo& info(StDType dtype) {
  return *std::find_if(std::begin(kDTypes), std::end(kDTypes),
                       [dtype](const DTypeInfo& i) { return i.dtype == dtype; });
}

TensorEntry parse_entry(const std::string& name, const nlohmann::json& spec,
                        const std::string& file) {
  const std::string where = file + ": tensor '" + name + "'";
  if (!spec.is_object()) fail(where, "header entry is not an object");
  auto field = [&](const char* key) -> const nlohmann::json& {
    auto it = spec.find(key);
    if (it == spec.end()) fail(where, std::string("header entry lacks '") + key + "'");
    return *it;
  };
  TensorEntry entry{name, StDType::F32, {}, 0, 0};
  const auto& dtype = field("dtype");
  auto known = std::find_if(std::begin(kDTypes), std::end(kDTypes), [&](const DTypeInfo& i) {
    return dtype.is_string() && dtype.get_ref<const std::string&>() == i.name;
  });
  if (known == std::end(kDTypes)) fail(where, "unsupported dtype " + dtype.dump());
  entry.dtype = known->dtype;

  const auto& shape = field("shape");
  if (!shape.is_array()) fail(where, "'shape' is not an array");
  std::uint64_t elements = 1;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned()) fail(where, "shape " + shape.dump() + " has a non-integer or negative dimension");
    auto d = dim.get<std::uint64_t>();
    if (d != 0 && elements > (std::uint64_t{1} << 62) / d) fail(where, "shape " + shape.dump() + " overflows");
    elements *= d;
    entry.shape.push_back(static_cast<std::int64_t>(d));
  }
  const auto& offsets = field("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(where, "'data_offsets' must be two non-negative integers");
  entry.begin = offsets[0].get<std::uint64_t>();
  entry.end = offsets[1].get<std::uint64_t>();
  if (entry.end < entry.begin) fail(where, "data_offsets end before they begin");
  if (entry.end - entry.begin != elements * known->size)
    fail(where, "data_offsets span " + std::to_string(entry.end - entry.begin) + " bytes but shape " +
                    shape.dump() + " of " + known->name + " needs " + std::to_string(elements * known->size));
  return entry;
}

}  // namespace

std::size_t dtype_size(StDType dtype) { return info(dtype).size; }
const char* dtype_name(StDType dtype) { return info(dtype).name; }

SafetensorsHeader parse_safetensors_header(const std::uint8_t* bytes, std::size_t size,
                                           const std::string& file) {
  if (size < 8) fail(file, "truncated safetensors file (" + std::to_string(size) + " bytes, no header length)");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes) fail(file, "header length " + std::to_string(header_len) + " is implausible");
  if (header_len > size - 8)
    fail(file, "truncated safetensors file: header needs " + std::to_string(header_len) + " bytes, file has " +
                   std::to_string(size - 8));

  nlohmann::json json;
  try {
    json = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len);
  } catch (const nlohmann::json::exception& e) {
    fail(file, std::string("header is not valid JSON: ") + e.what());
  }
  if (!json.is_object()) fail(file, "header is not a JSON object");

  SafetensorsHeader header;
  header.data_offset = 8 + header_len;
  for (const auto& [name, spec] : json.items()) {
    if (name == "__metadata__") {
      if (!spec.is_object()) fail(file, "__metadata__ is not an object");
      for (const auto& [key, value] : spec.items()) {
        if (!value.is_string()) fail(file, "__metadata__['" + key + "'] is not a string");
        header.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_entry(name, spec, file));
  }
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.begin < b.begin; });

  const std::uint64_t data_size = size - header.data_offset;
  const TensorEntry* furthest = nullptr;  // the tensor reaching furthest so far
  for (const auto& t : header.tensors) {
    if (t.end > data_size)
      fail(file + ": tensor '" + t.name + "'", "data runs past the end of the file (truncated? ends at " +
                                                   std::to_string(t.end) + ", data section has " +
                                                   std::to_string(data_size) + " bytes)");
    if (furthest && t.end > t.begin && t.begin < furthest->end)
      fail(file + ": tensor '" + t.name + "'", "data overlaps tensor '" + furthest->name + "'");
    if (!furthest || t.end > furthest->end) furthest = &t;
  }
  return header;
}

}  // namespace relmoe
