#include "io/gguf_file.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace relmoe {
namespace {

constexpr std::uint32_t kMaxDims = 4;          // GGML_MAX_DIMS
constexpr std::uint64_t kMaxNameBytes = 65535;  // the spec's limit on keys; names are far shorter
constexpr int kMaxArrayDepth = 4;               // nested arrays: none in practice, bounded here
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 50;

std::size_t scalar_size(GgufType type) {
  switch (type) {
    case GgufType::UInt8: case GgufType::Int8: case GgufType::Bool: return 1;
    case GgufType::UInt16: case GgufType::Int16: return 2;
    case GgufType::UInt32: case GgufType::Int32: case GgufType::Float32: return 4;
    case GgufType::UInt64: case GgufType::Int64: case GgufType::Float64: return 8;
    default: return 0;
  }
}

template <typename T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);  // GGUF is little-endian, as every host relmoe targets
  return value;
}

// A cursor over the file that refuses to read past its end.
class Reader {
 public:
  Reader(const std::uint8_t* bytes, std::size_t size, const std::string& file)
      : bytes_(bytes), size_(size), file_(file) {}

  [[noreturn]] void error(const std::string& what) const {
    fail(file_ + ": offset " + std::to_string(pos_), what);
  }
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return size_ - pos_; }
  const std::uint8_t* take(std::uint64_t n, const char* what) {
    if (n > left())
      error(std::string(what) + " needs " + std::to_string(n) + " bytes, the file has " +
            std::to_string(left()) + " left (truncated?)");
    const std::uint8_t* p = bytes_ + pos_;
    pos_ += n;
    return p;
  }
  std::uint32_t u32(const char* what) { return load<std::uint32_t>(take(4, what)); }
  std::uint64_t u64(const char* what) { return load<std::uint64_t>(take(8, what)); }
  std::string_view string(const char* what, std::uint64_t max_bytes = ~std::uint64_t{0}) {
    const std::uint64_t n = u64(what);
    if (n > max_bytes) error(std::string(what) + " is " + std::to_string(n) + " bytes long, over the limit of " + std::to_string(max_bytes));
    const auto* p = take(n, what);
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
  }
  // A count of items each at least `min_bytes` long: more than the bytes left can hold is an
  // error before anything is reserved for them.
  std::uint64_t count(const char* what, std::uint64_t min_bytes) {
    const std::uint64_t n = u64(what);
    if (min_bytes > 0 && n > left() / min_bytes)
      error(std::string(what) + " " + std::to_string(n) + " cannot fit in the " + std::to_string(left()) +
            " bytes left (truncated?)");
    return n;
  }

 private:
  const std::uint8_t* bytes_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const std::string& file_;
};

GgufType value_type(Reader& in, const std::string& key) {
  const std::uint32_t type = in.u32("a value type");
  if (type > static_cast<std::uint32_t>(GgufType::Float64))
    in.error("key '" + key + "' has unknown value type " + std::to_string(type));
  return static_cast<GgufType>(type);
}

GgufArray read_array(Reader& in, const std::string& key, int depth);

void read_scalar(Reader& in, GgufType type, GgufValue& value) {
  const auto* p = in.take(scalar_size(type), "a value");
  switch (type) {
    case GgufType::UInt8: value.uint = *p; break;
    case GgufType::Bool: value.uint = *p != 0; break;
    case GgufType::Int8: value.sint = static_cast<std::int8_t>(*p); break;
    case GgufType::UInt16: value.uint = load<std::uint16_t>(p); break;
    case GgufType::Int16: value.sint = load<std::int16_t>(p); break;
    case GgufType::UInt32: value.uint = load<std::uint32_t>(p); break;
    case GgufType::Int32: value.sint = load<std::int32_t>(p); break;
    case GgufType::UInt64: value.uint = load<std::uint64_t>(p); break;
    case GgufType::Int64: value.sint = load<std::int64_t>(p); break;
    case GgufType::Float32: value.real = load<float>(p); break;
    case GgufType::Float64: value.real = load<double>(p); break;
    default: break;
  }
}

GgufValue read_value(Reader& in, GgufType type, const std::string& key, int depth) {
  GgufValue value;
  value.type = type;
  if (type == GgufType::String)
    value.string = in.string("a string value");
  else if (type == GgufType::Array)
    value.array = read_array(in, key, depth + 1);
  else
    read_scalar(in, type, value);
  return value;
}

GgufArray read_array(Reader& in, const std::string& key, int depth) {
  if (depth > kMaxArrayDepth) in.error("key '" + key + "' nests arrays deeper than " + std::to_string(kMaxArrayDepth));
  GgufArray array;
  array.element = value_type(in, key);
  if (array.element == GgufType::String) {
    array.count = in.count("the string count", 8);
    array.strings.reserve(array.count);
    for (std::uint64_t i = 0; i < array.count; ++i) array.strings.push_back(in.string("an array string"));
  } else if (array.element == GgufType::Array) {
    array.count = in.count("the array count", 12);
    array.arrays.reserve(array.count);
    for (std::uint64_t i = 0; i < array.count; ++i) array.arrays.push_back(read_array(in, key, depth + 1));
  } else {
    const std::size_t size = scalar_size(array.element);
    array.count = in.count("the element count", size);
    array.data = in.take(array.count * size, "the array elements");
  }
  return array;
}

GgufTensorInfo read_tensor_info(Reader& in) {
  GgufTensorInfo info;
  info.name = std::string(in.string("a tensor name", kMaxNameBytes));
  const std::string where = "tensor '" + info.name + "'";
  const std::uint32_t n_dims = in.u32("a dimension count");
  if (n_dims == 0 || n_dims > kMaxDims)
    in.error(where + " has " + std::to_string(n_dims) + " dimensions (1 to 4 are allowed)");
  info.elements = 1;
  for (std::uint32_t d = 0; d < n_dims; ++d) {
    const std::uint64_t dim = in.u64("a dimension");
    if (dim != 0 && info.elements > kMaxElements / dim) in.error(where + ": its dimensions overflow");
    info.elements *= dim;
    info.dims.push_back(dim);
  }
  const std::uint32_t type = in.u32("a tensor type");
  info.type = ggml_type_info(type);
  if (!info.type) in.error(where + " has unknown ggml type " + std::to_string(type));
  if (info.dims[0] % info.type->block_elements != 0)
    in.error(where + ": row length " + std::to_string(info.dims[0]) + " is not a multiple of " +
             info.type->name + "'s block of " + std::to_string(info.type->block_elements));
  info.bytes = info.elements / info.type->block_elements * info.type->block_bytes;
  info.offset = in.u64("a tensor offset");
  return info;
}

void read_alignment(Reader& in, const std::map<std::string, GgufValue, std::less<>>& metadata,
                    std::uint64_t& alignment) {
  auto it = metadata.find("general.alignment");
  if (it == metadata.end()) return;
  const GgufValue& v = it->second;
  if (v.type != GgufType::UInt32 || v.uint == 0 || !std::has_single_bit(v.uint))
    in.error("general.alignment must be a power of two (u32)");
  alignment = v.uint;
}

// Data offsets must be aligned, inside the file and disjoint.
void check_tensor_data(std::vector<GgufTensorInfo>& tensors, std::uint64_t data_offset,
                       std::uint64_t alignment, std::size_t size, const std::string& file) {
  for (auto& t : tensors) {
    const std::string where = file + ": tensor '" + t.name + "'";
    if (t.offset % alignment != 0)
      fail(where, "data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " + std::to_string(alignment));
    if (t.offset > size || data_offset > size - t.offset || t.bytes > size - t.offset - data_offset)
      fail(where, "data [" + std::to_string(t.offset) + ", +" + std::to_string(t.bytes) + ") runs past the end of the " +
                      std::to_string(size) + "-byte file (truncated?)");
    t.offset += data_offset;
  }
  std::vector<const GgufTensorInfo*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < order.size(); ++i)
    if (order[i - 1]->offset + order[i - 1]->bytes > order[i]->offset)
      fail(file + ": tensor '" + order[i]->name + "'", "data overlaps tensor '" + order[i - 1]->name + "'");
}

std::string type_mismatch(std::string_view key, const GgufValue& v, const char* wanted) {
  return "key '" + std::string(key) + "' is " + gguf_type_name(v.type) + ", not " + wanted;
}

}  // namespace

const char* gguf_type_name(GgufType type) {
  static constexpr const char* kNames[] = {"u8",  "i8",  "u16",    "i16",   "u32", "i32", "f32",
                                           "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<std::uint32_t>(type);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::int64_t GgufArray::integer(std::size_t i) const {
  const std::uint8_t* p = data + i * scalar_size(element);
  switch (element) {
    case GgufType::UInt8: case GgufType::Bool: return *p;
    case GgufType::Int8: return static_cast<std::int8_t>(*p);
    case GgufType::UInt16: return load<std::uint16_t>(p);
    case GgufType::Int16: return load<std::int16_t>(p);
    case GgufType::UInt32: return load<std::uint32_t>(p);
    case GgufType::Int32: return load<std::int32_t>(p);
    case GgufType::UInt64: return static_cast<std::int64_t>(load<std::uint64_t>(p));
    case GgufType::Int64: return load<std::int64_t>(p);
    default: return 0;
  }
}

double GgufArray::number(std::size_t i) const {
  const std::uint8_t* p = data + i * scalar_size(element);
  if (element == GgufType::Float32) return load<float>(p);
  if (element == GgufType::Float64) return load<double>(p);
  return static_cast<double>(integer(i));
}

std::vector<std::int64_t> GgufTensorInfo::shape() const {
  std::vector<std::int64_t> shape(dims.rbegin(), dims.rend());
  return shape;
}

GgufFile GgufFile::parse(const std::uint8_t* bytes, std::size_t size, std::string file) {
  GgufFile out;
  out.file_ = std::move(file);
  out.bytes_ = bytes;
  Reader in(bytes, size, out.file_);
  const auto* magic = in.take(4, "the magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) in.error("not a GGUF file (it does not start with 'GGUF')");
  out.version_ = in.u32("the version");
  if (out.version_ == 1) in.error("GGUF version 1 is not supported (versions 2 and 3 are)");
  if (out.version_ != 2 && out.version_ != 3) {
    const std::uint32_t swapped = __builtin_bswap32(out.version_);
    if (swapped == 2 || swapped == 3)
      in.error("a big-endian GGUF file; relmoe reads little-endian ones");
    in.error("unknown GGUF version " + std::to_string(out.version_));
  }
  const std::uint64_t tensor_count = in.count("the tensor count", 24);
  const std::uint64_t kv_count = in.count("the metadata count", 13);
  for (std::uint64_t i = 0; i < kv_count; ++i) {
    std::string key(in.string("a metadata key", kMaxNameBytes));
    const GgufType type = value_type(in, key);
    GgufValue value = read_value(in, type, key, 0);
    if (!out.metadata_.emplace(key, std::move(value)).second) in.error("metadata key '" + key + "' appears twice");
  }
  if (tensor_count > in.left() / 24) in.error("the tensor count " + std::to_string(tensor_count) + " cannot fit in the bytes left");
  out.tensors_.reserve(tensor_count);
  for (std::uint64_t i = 0; i < tensor_count; ++i) out.tensors_.push_back(read_tensor_info(in));
  {
    std::vector<std::string_view> names;
    for (const auto& t : out.tensors_) names.push_back(t.name);
    std::sort(names.begin(), names.end());
    auto dup = std::adjacent_find(names.begin(), names.end());
    if (dup != names.end()) fail(out.file_ + ": tensor '" + std::string(*dup) + "'", "appears twice");
  }
  read_alignment(in, out.metadata_, out.alignment_);
  out.data_offset_ = (in.pos() + out.alignment_ - 1) / out.alignment_ * out.alignment_;
  if (!out.tensors_.empty() && out.data_offset_ > size) in.error("the tensor data section starts past the end of the file");
  check_tensor_data(out.tensors_, out.data_offset_, out.alignment_, size, out.file_);
  return out;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::tensor(std::string_view name) const {
  auto it = std::find_if(tensors_.begin(), tensors_.end(), [&](const GgufTensorInfo& t) { return t.name == name; });
  return it == tensors_.end() ? nullptr : &*it;
}

std::optional<std::uint64_t> GgufFile::uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  switch (v->type) {
    case GgufType::UInt8: case GgufType::UInt16: case GgufType::UInt32: case GgufType::UInt64: return v->uint;
    case GgufType::Int8: case GgufType::Int16: case GgufType::Int32: case GgufType::Int64:
      if (v->sint >= 0) return static_cast<std::uint64_t>(v->sint);
      fail(file_, "key '" + std::string(key) + "' is negative (" + std::to_string(v->sint) + ")");
    default: fail(file_, type_mismatch(key, *v, "an integer"));
  }
}

std::optional<double> GgufFile::number(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type == GgufType::Float32 || v->type == GgufType::Float64) return v->real;
  if (v->type == GgufType::Int8 || v->type == GgufType::Int16 || v->type == GgufType::Int32 || v->type == GgufType::Int64)
    return static_cast<double>(v->sint);
  if (v->type == GgufType::String || v->type == GgufType::Array || v->type == GgufType::Bool)
    fail(file_, type_mismatch(key, *v, "a number"));
  return static_cast<double>(v->uint);
}

std::optional<bool> GgufFile::boolean(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::Bool) fail(file_, type_mismatch(key, *v, "bool"));
  return v->uint != 0;
}

std::optional<std::string> GgufFile::string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::String) fail(file_, type_mismatch(key, *v, "a string"));
  return std::string(v->string);
}

const GgufArray* GgufFile::array(std::string_view key, GgufType element) const {
  const GgufValue* v = find(key);
  if (!v) return nullptr;
  if (v->type != GgufType::Array) fail(file_, type_mismatch(key, *v, "an array"));
  // Integer arrays are read through integer() and float arrays through number(), whatever the
  // width the converter chose; strings and nested arrays must match exactly.
  auto kind = [](GgufType t) {
    if (t == GgufType::Float32 || t == GgufType::Float64) return 1;
    if (t == GgufType::String) return 2;
    if (t == GgufType::Array) return 3;
    return 0;
  };
  if (kind(v->array.element) != kind(element))
    fail(file_, "key '" + std::string(key) + "' is an array of " + gguf_type_name(v->array.element) + ", not of " +
                    gguf_type_name(element));
  return &v->array;
}

void dequantize_elements(const GgufFile& file, const GgufTensorInfo& tensor, std::uint64_t first,
                         std::uint64_t count, float* dst) {
  const GgmlTypeInfo& type = *tensor.type;
  if (!type.dequantizable)
    fail(file.file() + ": tensor '" + tensor.name + "'",
         std::string("has ggml type ") + type.name +
             ", which relmoe does not dequantize (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K)");
  if (first % type.block_elements != 0 || count % type.block_elements != 0 || first + count > tensor.elements)
    fail(file.file() + ": tensor '" + tensor.name + "'", "elements [" + std::to_string(first) + ", +" +
                                                           std::to_string(count) + ") are not whole blocks inside it");
  const std::uint8_t* src = file.bytes() + tensor.offset + first / type.block_elements * type.block_bytes;
  dequantize_row(type, src, dst, count);
}

}  // namespace relmoe
