#include "pipeline/shard.hpp"

#include "base/error.hpp"
#include "base/hash.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace relmoe {

std::uint64_t id_hash(std::string_view id) { return hash64(id); }

int shard_of(std::string_view id, int count) {
  return static_cast<int>(id_hash(id) % static_cast<std::uint64_t>(count));
}

namespace {

std::optional<long> parse_long(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Shard checked(long index, long count, const std::string& where) {
  if (count < 1 || index < 0 || index >= count)
    fail(where, "shard " + std::to_string(index) + " of " + std::to_string(count) + " is out of range");
  return {static_cast<int>(index), static_cast<int>(count)};
}

std::optional<long> env_long(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  auto n = parse_long(value);
  if (!n) fail(std::string("environment variable ") + name, std::string("'") + value + "' is not an integer");
  return n;
}

}  // namespace

Shard shard_from_environment() {
  if (auto rank = env_long("OMPI_COMM_WORLD_RANK")) {
    auto size = env_long("OMPI_COMM_WORLD_SIZE");
    if (!size) fail("environment", "OMPI_COMM_WORLD_RANK is set but OMPI_COMM_WORLD_SIZE is not");
    return checked(*rank, *size, "OMPI_COMM_WORLD_RANK/SIZE");
  }
  auto ntasks = env_long("SLURM_NTASKS");
  if (auto procid = env_long("SLURM_PROCID"); procid && ntasks && *ntasks > 1)
    return checked(*procid, *ntasks, "SLURM_PROCID/SLURM_NTASKS");
  if (auto task = env_long("SLURM_ARRAY_TASK_ID")) {
    auto count = env_long("SLURM_ARRAY_TASK_COUNT");
    if (!count) fail("environment", "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    const long min = env_long("SLURM_ARRAY_TASK_MIN").value_or(0);
    return checked(*task - min, *count, "SLURM_ARRAY_TASK_ID/COUNT (array indices must be consecutive)");
  }
  fail("--shard auto", "no launcher rank found (OMPI_COMM_WORLD_RANK, SLURM_PROCID with SLURM_NTASKS > 1, "
                       "or SLURM_ARRAY_TASK_ID)");
}

Shard parse_shard(const std::string& spec) {
  if (spec.empty()) return {};
  if (spec == "auto") return shard_from_environment();
  const auto slash = spec.find('/');
  std::optional<long> index, count;
  if (slash != std::string::npos) {
    index = parse_long(std::string_view(spec).substr(0, slash));
    count = parse_long(std::string_view(spec).substr(slash + 1));
  }
  if (!index || !count) fail("--shard", "'" + spec + "' is not i/N or auto");
  return checked(*index, *count, "--shard");
}

std::string shard_output_path(const std::string& output, const Shard& shard) {
  if (shard.count == 1) return output;
  const std::filesystem::path p(output);
  const std::string tag = ".shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
  return (p.parent_path() / (p.stem().string() + tag + p.extension().string())).string();
}

}  // namespace relmoe
