// Checkpoint loading: real reference files, hand-built files with known bytes, and malformed ones.
#include "io/checkpoint.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

namespace fs = std::filesystem;

namespace {

struct RawTensor {
  std::string name, dtype;
  std::vector<std::int64_t> shape;
  std::string bytes;
};

// Builds a safetensors file byte by byte, independently of the loader under test.
std::string safetensors_bytes(const std::vector<RawTensor>& tensors, const nlohmann::json& metadata = {}) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  std::string out(8, '\0');
  std::uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  return out + text + data;
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  return std::string(reinterpret_cast<const char*>(values.begin()), values.size() * sizeof(T));
}

fs::path write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

fs::path temp_dir(const std::string& name) {
  auto dir = relmoe::test::scratch_dir() / ("relmoe_ckpt_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string open_error(const fs::path& path) {
  try {
    relmoe::Checkpoint::open(path).get("w", torch::kFloat32, torch::kCPU);
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Checkpoint, ConvertsHalfAndBfloatFromKnownBits) {
  auto dir = temp_dir("dtypes");
  // f16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; bf16: 1.0 = 0x3F80, -3.0 = 0xC040.
  write(dir / "model.safetensors",
        safetensors_bytes({{"h", "F16", {3}, raw<std::uint16_t>({0x3C00, 0xC000, 0x3800})},
                           {"b", "BF16", {2}, raw<std::uint16_t>({0x3F80, 0xC040})},
                           {"f", "F32", {2, 1}, raw<float>({1.5f, -0.25f})}}));
  auto ckpt = relmoe::Checkpoint::open(dir);
  auto h = ckpt.get("h", torch::kFloat32, torch::kCPU);
  EXPECT_TRUE(torch::equal(h, torch::tensor({1.0f, -2.0f, 0.5f})));
  auto b = ckpt.get("b", torch::kFloat32, torch::kCPU);
  EXPECT_TRUE(torch::equal(b, torch::tensor({1.0f, -3.0f})));
  auto f = ckpt.get("f", torch::kFloat16, torch::kCPU);
  EXPECT_EQ(f.scalar_type(), torch::kFloat16);
  EXPECT_EQ(f.sizes(), (std::vector<std::int64_t>{2, 1}));
  EXPECT_FLOAT_EQ(f.to(torch::kFloat32)[1][0].item<float>(), -0.25f);
  EXPECT_EQ(ckpt.data_bytes(), 3u * 2 + 2 * 2 + 2 * 4);
}

TEST(Checkpoint, ShardedIndexEqualsSingleFile) {
  auto dir = temp_dir("sharded");
  write(dir / "a.safetensors", safetensors_bytes({{"x", "F32", {2}, raw<float>({1, 2})}}));
  write(dir / "b.safetensors", safetensors_bytes({{"y", "F32", {1}, raw<float>({7})}}));
  write(dir / "model.safetensors.index.json",
        R"({"metadata": {}, "weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})");
  auto ckpt = relmoe::Checkpoint::open(dir);
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(torch::equal(ckpt.get("y", torch::kFloat32, torch::kCPU), torch::tensor({7.0f})));
  EXPECT_TRUE(torch::equal(ckpt.get("x", torch::kFloat32, torch::kCPU), torch::tensor({1.0f, 2.0f})));
}

TEST(Checkpoint, StoryLlamaEmbeddingIsAliasOfLmHead) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/model.safetensors");
  auto ckpt = relmoe::Checkpoint::open(relmoe::test::shared_dir() / "reference/models/story-llama");
  ASSERT_TRUE(ckpt.contains("lm_head.weight"));
  ASSERT_TRUE(ckpt.contains("model.embed_tokens.weight"));
  auto embed = ckpt.get("model.embed_tokens.weight", torch::kFloat32, torch::kCPU, std::vector<std::int64_t>{2048, 128});
  EXPECT_TRUE(torch::equal(embed, ckpt.get("lm_head.weight", torch::kFloat32, torch::kCPU)));
}

TEST(Checkpoint, F32WeightsAliasTheMappedFile) {
  RELMOE_REQUIRE_SHARED("reference/models/tiny-qwen2/model.safetensors");
  auto ckpt = relmoe::Checkpoint::open(relmoe::test::shared_dir() / "reference/models/tiny-qwen2");
  auto a = ckpt.get("model.embed_tokens.weight", torch::kFloat32, torch::kCPU);
  auto b = ckpt.get("model.embed_tokens.weight", torch::kFloat32, torch::kCPU);
  EXPECT_EQ(a.data_ptr(), b.data_ptr());  // both views of the same mapped bytes: no copy
  a.mul_(0);                              // private mapping: an in-place edit touches no file
  auto fresh = relmoe::Checkpoint::open(relmoe::test::shared_dir() / "reference/models/tiny-qwen2");
  EXPECT_GT(fresh.get("model.embed_tokens.weight", torch::kFloat32, torch::kCPU).abs().sum().item<float>(), 0);
}

TEST(Checkpoint, MissingTensorAndShapeMismatchNameFileAndTensor) {
  auto dir = temp_dir("names");
  write(dir / "model.safetensors", safetensors_bytes({{"w", "F32", {2}, raw<float>({1, 2})}}));
  auto ckpt = relmoe::Checkpoint::open(dir);
  try {
    ckpt.get("q", torch::kFloat32, torch::kCPU);
    FAIL();
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'q'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  try {
    ckpt.get("w", torch::kFloat32, torch::kCPU, std::vector<std::int64_t>{3});
    FAIL();
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors: tensor 'w': shape [2]"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, RejectsMalformedFiles) {
  auto dir = temp_dir("malformed");
  auto good = safetensors_bytes({{"w", "F32", {2}, raw<float>({1, 2})}, {"v", "F32", {1}, raw<float>({3})}});
  struct Case {
    std::string name, bytes, expect;
  };
  std::string huge_len = good;
  huge_len[0] = '\xff';
  huge_len[1] = '\xff';
  std::vector<Case> cases = {
      {"empty", "", "truncated"},
      {"short_header", good.substr(0, 20), "truncated"},
      {"truncated_data", good.substr(0, good.size() - 3), "runs past the end"},
      {"header_len", huge_len, "truncated"},
      {"bad_json", std::string("\x05\0\0\0\0\0\0\0{oops", 13), "not valid JSON"},
      {"overlap", [] {
         std::string h = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
         std::string out(8, '\0');
         std::uint64_t n = h.size();
         std::memcpy(out.data(), &n, 8);
         return out + h + std::string(8, '\0');
       }(), "overlaps"},
      {"wrong_span", [] {
         std::string h = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
         std::string out(8, '\0');
         std::uint64_t n = h.size();
         std::memcpy(out.data(), &n, 8);
         return out + h + std::string(8, '\0');
       }(), "needs 12"},
      {"bad_dtype", [] {
         std::string h = R"({"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})";
         std::string out(8, '\0');
         std::uint64_t n = h.size();
         std::memcpy(out.data(), &n, 8);
         return out + h + std::string(1, '\0');
       }(), "unsupported dtype"},
  };
  for (const auto& c : cases) {
    auto path = write(dir / (c.name + ".safetensors"), c.bytes);
    auto message = open_error(path);
    EXPECT_NE(message.find(path.string()), std::string::npos) << c.name << ": " << message;
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.name << ": " << message;
  }
  EXPECT_NE(open_error(dir / "nope").find("no model.safetensors"), std::string::npos);
}
