// The GGUF reader and ggml dequantization. Dequantized values are checked against the gguf
// package's numpy dequantizer on every tensor of the real model files (scripts/models.sh writes
// the models and those references); half floats against c10::Half; hostile files are built here.
#include "base/error.hpp"
#include "io/gguf_file.hpp"
#include "io/gguf_tensors.hpp"
#include "io/mapped_file.hpp"
#include "gguf_bytes.hpp"
#include "support.hpp"

#include <c10/util/Half.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <bit>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>

namespace relmoe {
namespace {

namespace fs = std::filesystem;

fs::path models_dir() { return fs::path(test_paths::source_dir()) / ".models"; }

// Two tensors: an F32 [2, 3] and a Q8_0 row of 32, with a little metadata.
GgufBytes valid_file() {
  GgufBytes f;
  f.header(2, 2);
  f.kv_str("general.architecture", "llama");
  f.kv_u32("llama.block_count", 2);
  f.tensor("a", {3, 2}, 0, 0);
  f.tensor("q", {32}, 8, 32);
  f.pad();
  const float a[6] = {1, 2, 3, -4, 0.5f, 1e-3f};
  f.bytes.append(reinterpret_cast<const char*>(a), sizeof a);
  f.pad();
  const std::uint16_t d = 0x3800;  // 0.5 in half precision
  f.bytes.append(reinterpret_cast<const char*>(&d), 2);
  for (int i = 0; i < 32; ++i) f.bytes.push_back(static_cast<char>(i - 16));
  return f;
}

GgufFile parse(const std::string& bytes) {
  return GgufFile::parse(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "t.gguf");
}

TEST(Gguf, ParsesMetadataTensorsAndDequantizes) {
  const auto f = valid_file();
  const auto file = parse(f.bytes);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.string("general.architecture"), "llama");
  EXPECT_EQ(file.uint("llama.block_count"), 2u);
  EXPECT_FALSE(file.uint("llama.missing").has_value());
  EXPECT_THROW(file.string("llama.block_count"), Error);
  ASSERT_EQ(file.tensors().size(), 2u);
  const auto* a = file.tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape(), (std::vector<std::int64_t>{2, 3}));
  std::vector<float> out(6);
  dequantize_elements(file, *a, 0, 6, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, -4, 0.5f, 1e-3f}));
  std::vector<float> q(32);
  dequantize_elements(file, *file.tensor("q"), 0, 32, q.data());
  for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], 0.5f * static_cast<float>(i - 16)) << i;
}

TEST(Gguf, HalfFloatsConvertExactly) {
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    const float want = static_cast<float>(c10::Half(static_cast<std::uint16_t>(bits), c10::Half::from_bits()));
    const float got = fp16_to_fp32(static_cast<std::uint16_t>(bits));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << bits;
    } else {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(got), std::bit_cast<std::uint32_t>(want)) << bits;
    }
  }
}

// Every hostile file is refused with one line naming the file, quickly and in bounded memory.
void expect_refused(const std::string& bytes, const std::string& needle) {
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  try {
    parse(bytes);
    ADD_FAILURE() << "accepted; expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind("t.gguf", 0), 0u) << message;
  }
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 100 * 1024);  // kilobytes
}

TEST(Gguf, HostileFilesAreRefused) {
  const auto good = valid_file().bytes;
  expect_refused(good.substr(0, good.size() - 1), "runs past the end");
  expect_refused(good.substr(0, 40), "truncated");
  expect_refused("GGML" + good.substr(4), "not a GGUF file");
  {
    auto f = valid_file().bytes;
    f[4] = 1;  // version 1
    expect_refused(f, "version 1");
  }
  {
    GgufBytes f;
    f.header(0, 0, 0x03000000);
    expect_refused(f.bytes, "big-endian");
  }
  {
    GgufBytes f;
    f.header(1, 0);
    f.tensor("far", {32}, 0, 1ull << 40);
    f.pad();
    f.bytes.append(128, '\0');
    expect_refused(f.bytes, "tensor 'far'");
  }
  {
    GgufBytes f;
    f.header(1, 0);
    f.tensor("deep", {1, 1, 1, 1, 1}, 0, 0);
    expect_refused(f.bytes, "5 dimensions");
  }
  {
    GgufBytes f;
    f.header(1, 0);
    f.tensor("huge", {1ull << 40, 1ull << 40}, 0, 0);
    expect_refused(f.bytes, "overflow");
  }
  {
    GgufBytes f;
    f.header(1, 0);
    f.tensor("odd", {32}, 31, 0);
    expect_refused(f.bytes, "unknown ggml type 31");
  }
  {
    GgufBytes f;
    f.header(1, 0);
    f.tensor("ragged", {33}, 2, 0);  // Q4_0 rows are whole blocks of 32
    expect_refused(f.bytes, "not a multiple");
  }
  {
    GgufBytes f;
    f.header(0, 1);
    f.str("general.name");
    f.u32(8);
    f.u64(1ull << 62);  // a string claimed to be 4 EiB long
    expect_refused(f.bytes, "string value");
  }
  {
    GgufBytes f;
    f.header(0, 1ull << 60);
    expect_refused(f.bytes, "metadata count");
  }
  {
    GgufBytes f;
    f.header(1ull << 60, 0);
    expect_refused(f.bytes, "tensor count");
  }
  {
    GgufBytes f;
    f.header(0, 1);
    f.str("tokenizer.ggml.tokens");
    f.u32(9);
    f.u32(8);
    f.u64(1ull << 61);  // an array of strings that cannot be there
    expect_refused(f.bytes, "string count");
  }
  {
    GgufBytes f;
    f.header(0, 1);
    f.str("k");
    f.u32(13);
    expect_refused(f.bytes, "unknown value type 13");
  }
  {
    GgufBytes f;
    f.header(2, 0);
    f.tensor("x", {8}, 0, 0);
    f.tensor("y", {8}, 0, 0);
    f.pad();
    f.bytes.append(64, '\0');
    expect_refused(f.bytes, "overlaps");
  }
}

TEST(Gguf, UnsupportedTypeNamesTensorAndType) {
  GgufBytes f;
  f.header(1, 0);
  f.tensor("blk.0.attn_q.weight", {256}, 16, 0);  // IQ2_XXS: known to ggml, not dequantized here
  f.pad();
  f.bytes.append(66, '\0');
  const auto file = parse(f.bytes);
  std::vector<float> out(256);
  try {
    dequantize_elements(file, file.tensors()[0], 0, 256, out.data());
    FAIL() << "dequantized IQ2_XXS";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'blk.0.attn_q.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("IQ2_XXS"), std::string::npos) << e.what();
  }
}

// The bytes of `path`'s mappings resident in this process (the Rss lines of /proc/self/smaps).
std::size_t resident_bytes_of(const fs::path& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  std::size_t kib = 0, total = 0;
  while (std::getline(smaps, line)) {
    // A mapping's line has its first ':' in the device field, after the address range.
    const bool header = line.find(':') > line.find(' ');
    if (header) inside = line.size() >= path.string().size() && line.ends_with(path.string());
    else if (inside && std::sscanf(line.c_str(), "Rss: %zu kB", &kib) == 1) total += kib * 1024;
  }
  return total;
}

TEST(Gguf, AQuantizedTensorsPagesAreReleasedOnceDequantized) {
  // 8M Q8_0 elements (8.9 MB): left resident, the mapping would cost that beside the result.
  constexpr std::uint64_t row = 1024, rows = 8192, blocks = row * rows / 32;
  GgufBytes f;
  f.header(1, 1);
  f.kv_str("general.architecture", "llama");
  f.tensor("token_embd.weight", {row, rows}, 8, 0);
  f.pad();
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const std::uint16_t d = 0x3800;  // 0.5
    f.bytes.append(reinterpret_cast<const char*>(&d), 2);
    for (int i = 0; i < 32; ++i) f.bytes.push_back(static_cast<char>((b + i) % 200 - 100));
  }
  const auto path = fs::absolute(test::scratch_dir() / "released.gguf");
  std::ofstream(path, std::ios::binary) << f.bytes;
  const GgufTensors tensors(path);
  const auto first = tensors.get("model.embed_tokens.weight", torch::kFloat32, torch::kCPU);
  EXPECT_LT(resident_bytes_of(path), std::size_t{256} << 10) << "the tensor's source pages stayed resident";
  // Released pages read back from the file: the values are the same on a second read.
  const auto again = tensors.get("model.embed_tokens.weight", torch::kFloat32, torch::kCPU);
  EXPECT_TRUE(torch::equal(first, again));
  const std::uint64_t last = blocks - 1;
  EXPECT_EQ(first[rows - 1][row - 1].item<float>(), 0.5f * static_cast<float>((last + 31) % 200 - 100));
}

// sum and position-weighted sum (mod 2^64) of the f32 bit patterns, as scripts/gguf_reference.py
// computes them from the gguf package's dequantize.
std::pair<std::uint64_t, std::uint64_t> checksums(const GgufFile& file, const GgufTensorInfo& t) {
  const std::uint64_t chunk = std::uint64_t{1} << 20;  // a multiple of every block size
  std::vector<float> values(chunk);
  std::uint64_t sum = 0, wsum = 0;
  for (std::uint64_t first = 0; first < t.elements; first += chunk) {
    const std::uint64_t n = std::min(chunk, t.elements - first);
    dequantize_elements(file, t, first, n, values.data());
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t bits = std::bit_cast<std::uint32_t>(values[i]);
      sum += bits;
      wsum += bits * (first + i + 1);
    }
  }
  return {sum, wsum};
}

class GgufModels : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufModels, DequantizationEqualsTheGgufPackageOnEveryTensor) {
  // all-types.gguf is written by the reference script itself (every dequantized type, random blocks)
  fs::path model = models_dir() / (GetParam() + ".gguf");
  if (!fs::exists(model)) model = models_dir() / "reference" / (GetParam() + ".gguf");
  const fs::path reference = models_dir() / "reference" / (GetParam() + ".dequant.json");
  if (!fs::exists(model) || !fs::exists(reference))
    GTEST_SKIP() << model << " or its reference is missing: run scripts/models.sh";
  const auto want = nlohmann::json::parse(std::ifstream(reference));
  const auto mapped = MappedFile::open(model);
  const auto file = GgufFile::parse(mapped->data(), mapped->size(), model.string());
  EXPECT_EQ(file.version(), want["version"].get<std::uint32_t>());
  EXPECT_EQ(file.alignment(), want["alignment"].get<std::uint64_t>());
  EXPECT_EQ(file.metadata().size(), want["metadata_keys"].get<std::size_t>());
  ASSERT_EQ(file.tensors().size(), want["tensors"].size());
  std::set<std::string> types;
  for (const auto& t : file.tensors()) {
    SCOPED_TRACE(t.name);
    ASSERT_TRUE(want["tensors"].contains(t.name));
    const auto& w = want["tensors"][t.name];
    EXPECT_EQ(t.type->name, w["type"].get<std::string>());
    EXPECT_EQ(t.shape(), w["shape"].get<std::vector<std::int64_t>>());
    const auto [sum, wsum] = checksums(file, t);
    EXPECT_EQ(std::to_string(sum), w["sum"].get<std::string>());
    EXPECT_EQ(std::to_string(wsum), w["wsum"].get<std::string>());
    types.insert(t.type->name);
  }
  std::string seen;
  for (const auto& t : types) seen += t + " ";
  std::printf("%s: %zu tensors, types %s\n", GetParam().c_str(), file.tensors().size(), seen.c_str());
}

INSTANTIATE_TEST_SUITE_P(Real, GgufModels,
                         ::testing::Values("all-types", "gemma-3-270m-q4_k_m", "SmolLM2-135M-Instruct.Q4_1"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace relmoe
