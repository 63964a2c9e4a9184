#include "text/spm_model_proto.hpp"

#include "base/error.hpp"
#include "text/read_file.hpp"

#include <cstdint>
#include <cstring>

namespace relmoe {
namespace {

// Protobuf wire format: a sequence of (field number, wire type, value) records.
class WireReader {
 public:
  WireReader(std::string_view data, const std::string& source, std::size_t base = 0)
      : data_(data), source_(source), base_(base) {}

  bool done() const { return pos_ >= data_.size(); }

  // Reads the next key; returns the field number and sets `wire_type`.
  std::uint32_t key(int& wire_type) {
    const auto k = varint();
    wire_type = static_cast<int>(k & 7);
    return static_cast<std::uint32_t>(k >> 3);
  }
  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (done()) error("truncated varint");
      const auto byte = static_cast<unsigned char>(data_[pos_++]);
      value |= std::uint64_t(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return value;
    }
    error("varint too long");
  }
  std::string_view bytes() {
    const auto length = varint();
    if (length > data_.size() - pos_) error("length-delimited field runs past the end");
    auto out = data_.substr(pos_, length);
    pos_ += length;
    return out;
  }
  float fixed32_float() {
    if (data_.size() - pos_ < 4) error("truncated fixed32");
    std::uint32_t bits;
    std::memcpy(&bits, data_.data() + pos_, 4);  // little-endian on the supported platforms
    pos_ += 4;
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); return;
      case 1: advance(8); return;
      case 2: bytes(); return;
      case 5: advance(4); return;
      default: error("unsupported wire type " + std::to_string(wire_type));
    }
  }
  // Reader for a nested message whose offsets are reported relative to the whole file.
  WireReader nested() {
    const std::size_t start = pos_;
    auto inner = bytes();
    return WireReader(inner, source_, base_ + start + (pos_ - start - inner.size()));
  }
  [[noreturn]] void error(const std::string& what) const {
    fail(source_, "malformed SentencePiece model at byte " + std::to_string(base_ + pos_) + ": " + what);
  }

 private:
  void advance(std::size_t n) {
    if (data_.size() - pos_ < n) error("truncated field");
    pos_ += n;
  }

  std::string_view data_;
  const std::string& source_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

SpmModelProto::Piece read_piece(WireReader in) {
  SpmModelProto::Piece piece;
  while (!in.done()) {
    int wire;
    switch (in.key(wire)) {
      case 1: piece.text = in.bytes(); break;
      case 2: piece.score = wire == 5 ? in.fixed32_float() : (in.skip(wire), 0.0f); break;
      case 3: {
        const auto type = in.varint();
        if (type < 1 || type > 6) in.error("unknown piece type " + std::to_string(type));
        piece.type = static_cast<SpmModelProto::PieceType>(type);
        break;
      }
      default: in.skip(wire);
    }
  }
  return piece;
}

void read_trainer_spec(WireReader in, SpmModelProto& model) {
  while (!in.done()) {
    int wire;
    switch (in.key(wire)) {
      case 3: {
        const auto type = in.varint();
        if (type < 1 || type > 4) in.error("unknown model_type " + std::to_string(type));
        model.model_type = static_cast<SpmModelProto::ModelType>(type);
        break;
      }
      case 24: model.treat_whitespace_as_suffix = in.varint() != 0; break;
      case 35: model.byte_fallback = in.varint() != 0; break;
      case 45: model.unk_piece = in.bytes(); break;
      case 46: model.bos_piece = in.bytes(); break;
      case 47: model.eos_piece = in.bytes(); break;
      default: in.skip(wire);
    }
  }
}

void read_normalizer_spec(WireReader in, SpmModelProto& model) {
  while (!in.done()) {
    int wire;
    switch (in.key(wire)) {
      case 1: model.normalizer_name = in.bytes(); break;
      case 2: model.precompiled_charsmap = in.bytes(); break;
      case 3: model.add_dummy_prefix = in.varint() != 0; break;
      case 4: model.remove_extra_whitespaces = in.varint() != 0; break;
      case 5: model.escape_whitespaces = in.varint() != 0; break;
      default: in.skip(wire);
    }
  }
}

}  // namespace

SpmModelProto parse_spm_model(const std::string& bytes, const std::string& source) {
  SpmModelProto model;
  WireReader in(bytes, source);
  while (!in.done()) {
    int wire;
    const auto field = in.key(wire);
    if ((field == 1 || field == 2 || field == 3) && wire != 2) in.error("field " + std::to_string(field) + " is not a message");
    switch (field) {
      case 1: model.pieces.push_back(read_piece(in.nested())); break;
      case 2: read_trainer_spec(in.nested(), model); break;
      case 3: read_normalizer_spec(in.nested(), model); break;
      default: in.skip(wire);
    }
  }
  if (model.pieces.empty()) fail(source, "SentencePiece model has no pieces");
  return model;
}

SpmModelProto read_spm_model(const std::filesystem::path& path) {
  return parse_spm_model(read_file(path), path.string());
}

}  // namespace relmoe
