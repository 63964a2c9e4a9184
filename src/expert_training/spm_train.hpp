#pragma once
// Training a SentencePiece tokenizer (BPE or unigram) for small experts trained from scratch.
// Training runs the `spm_train` tool of libsentencepiece (Debian package `sentencepiece`) in a
// child process: libsentencepiece embeds its own copy of protobuf whose exported symbols clash
// with the libprotobuf that libtorch loads (the process crashes while loading), so it cannot
// live in the relmoe process. The model file it writes is read by relmoe's own SentencePiece
// tokenizer (src/text).
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct SpmTrainSpec {
  std::string model_type;  // "bpe" or "unigram"
  int vocab_size = 0;
};

// Parses "spm-bpe:V" or "spm-unigram:V" (V >= 100); errors name the flag.
SpmTrainSpec parse_spm_spec(const std::string& spec);

// Trains on `sentences` (no newlines inside) and writes the model to `model_path` atomically.
// Every string of `single_pieces` becomes one piece matched wherever it occurs in the normalised
// text: {"▁yes", "▁no"} makes " yes" and "yes" encode as the single token "▁yes" (at the price of
// splitting "▁yesterday" after "▁yes"). Byte fallback keeps every UTF-8 text encodable; all characters are
// covered (Thai, Vietnamese); normalisation is identity (as relmoe's tokenizer.model reader
// requires), with extra whitespace removed. Deterministic for the same sentences. $RELMOE_SPM_TRAIN overrides
// the tool's path.
void train_sentencepiece(const std::vector<std::string>& sentences, const SpmTrainSpec& spec,
                         const std::vector<std::string>& single_pieces,
                         const std::filesystem::path& model_path);

}  // namespace relmoe
