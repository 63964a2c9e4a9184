#pragma once
// A GGUF file written byte by byte in tests, so each test can break exactly one thing.
#include <cstdint>
#include <string>
#include <vector>

namespace relmoe {

struct GgufBytes {
  std::string bytes;
  void u32(std::uint32_t v) { bytes.append(reinterpret_cast<const char*>(&v), 4); }
  void u64(std::uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), 8); }
  void str(const std::string& s) { u64(s.size()); bytes += s; }
  void header(std::uint64_t tensors, std::uint64_t kvs, std::uint32_t version = 3) {
    bytes += "GGUF";
    u32(version);
    u64(tensors);
    u64(kvs);
  }
  void kv_u32(const std::string& key, std::uint32_t v) { str(key); u32(4); u32(v); }
  void kv_bool(const std::string& key, bool v) { str(key); u32(7); bytes.push_back(v ? 1 : 0); }
  void kv_str(const std::string& key, const std::string& v) { str(key); u32(8); str(v); }
  void kv_strings(const std::string& key, const std::vector<std::string>& v) {
    str(key); u32(9); u32(8); u64(v.size());
    for (const auto& s : v) str(s);
  }
  void kv_int32s(const std::string& key, const std::vector<std::int32_t>& v) {
    str(key); u32(9); u32(5); u64(v.size());
    for (auto x : v) u32(static_cast<std::uint32_t>(x));
  }
  void kv_floats(const std::string& key, const std::vector<float>& v) {
    str(key); u32(9); u32(6); u64(v.size());
    for (float x : v) bytes.append(reinterpret_cast<const char*>(&x), 4);
  }
  void tensor(const std::string& name, std::vector<std::uint64_t> dims, std::uint32_t type, std::uint64_t offset) {
    str(name);
    u32(static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims) u64(d);
    u32(type);
    u64(offset);
  }
  void pad(std::size_t alignment = 32) { bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, '\0'); }
};

}  // namespace relmoe
