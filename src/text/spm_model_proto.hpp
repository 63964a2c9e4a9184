#pragma once
// Reads a SentencePiece tokenizer.model (a serialized sentencepiece.ModelProto) with a small
// protobuf wire-format reader. libsentencepiece is not used: its bundled protobuf 3.14 clashes
// with the protobuf 3.21 that libtorch loads into the same process (static initialisation
// crashes or aborts with a version mismatch).
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct SpmModelProto {
  enum class PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };
  enum class ModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 };
  struct Piece {
    std::string text;
    float score = 0;
    PieceType type = PieceType::Normal;
  };
  std::vector<Piece> pieces;
  // TrainerSpec (defaults as in sentencepiece_model.proto).
  ModelType model_type = ModelType::Unigram;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>";
  // NormalizerSpec.
  std::string normalizer_name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Errors name `source` and the byte offset of malformed data.
SpmModelProto parse_spm_model(const std::string& bytes, const std::string& source);
SpmModelProto read_spm_model(const std::filesystem::path& path);

}  // namespace relmoe
