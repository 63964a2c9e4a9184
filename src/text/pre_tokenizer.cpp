#include "text/pre_tokenizer.hpp"

#include "base/error.hpp"
#include "text/regex.hpp"
#include "text/utf8.hpp"

#include <algorithm>
#include <utility>

namespace relmoe {
namespace {

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Segment {
  std::size_t begin, end;
  bool is_match;
};

// Matches and the gaps between them, covering [0, size).
std::vector<Segment> segments_of(const Ranges& matches, std::size_t size, bool invert) {
  std::vector<Segment> out;
  std::size_t previous = 0;
  for (auto [begin, end] : matches) {
    if (begin > previous) out.push_back({previous, begin, invert});
    out.push_back({begin, end, !invert});
    previous = end;
  }
  if (previous < size) out.push_back({previous, size, invert});
  return out;
}

// Groups segments into pieces following the Hugging Face semantics of each behaviour.
std::vector<std::pair<std::size_t, std::size_t>> group(const std::vector<Segment>& segments,
                                                       Behavior behavior) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  bool previous_match = false;
  switch (behavior) {
    case Behavior::Removed:
      for (const auto& s : segments)
        if (!s.is_match) out.emplace_back(s.begin, s.end);
      break;
    case Behavior::Isolated:
      for (const auto& s : segments) out.emplace_back(s.begin, s.end);
      break;
    case Behavior::MergedWithPrevious:
      for (const auto& s : segments) {
        if (s.is_match && !previous_match && !out.empty()) out.back().second = s.end;
        else out.emplace_back(s.begin, s.end);
        previous_match = s.is_match;
      }
      break;
    case Behavior::MergedWithNext:
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) out.back().first = it->begin;
        else out.emplace_back(it->begin, it->end);
        previous_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    case Behavior::Contiguous:
      for (const auto& s : segments) {
        if (s.is_match == previous_match && !out.empty()) out.back().second = s.end;
        else out.emplace_back(s.begin, s.end);
        previous_match = s.is_match;
      }
      break;
  }
  return out;
}

Ranges find_literal(const std::string& text, const std::string& needle) {
  Ranges out;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size()))
    out.emplace_back(pos, pos + needle.size());
  return out;
}

// Splits every piece at the ranges `find` reports for its text.
template <typename FindMatches>
void split_pieces(std::vector<Piece>& pieces, Behavior behavior, bool invert, FindMatches&& find) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 4);
  for (auto& piece : pieces) {
    const auto parts = group(segments_of(find(piece.text), piece.text.size(), invert), behavior);
    for (auto [begin, end] : parts)
      if (end > begin) out.push_back({piece.text.substr(begin, end - begin), piece.at_start && begin == 0});
  }
  pieces = std::move(out);
}

class Split final : public PreTokenizer {
 public:
  Split(std::string literal, std::unique_ptr<Regex> regex, Behavior behavior, bool invert)
      : literal_(std::move(literal)), regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, behavior_, invert_, [this](const std::string& text) {
      return regex_ ? regex_->find_all(text) : find_literal(text, literal_);
    });
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  Behavior behavior_;
  bool invert_;
};

// GPT-2's split, used by ByteLevel when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelSplit final : public PreTokenizer {
 public:
  ByteLevelSplit(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space),
        regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern, where) : nullptr) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_)
      for (auto& piece : pieces)
        if (piece.text.front() != ' ') piece.text.insert(0, 1, ' ');
    if (regex_)
      split_pieces(pieces, Behavior::Isolated, false,
                   [this](const std::string& text) { return regex_->find_all(text); });
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { Always, First, Never };

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (auto& piece : pieces) {
      std::string replaced;
      for (char c : piece.text) {
        if (c == ' ') replaced += replacement_;
        else replaced += c;
      }
      const bool prepend = scheme_ == PrependScheme::Always ||
                           (scheme_ == PrependScheme::First && piece.at_start);
      if (prepend && replaced.rfind(replacement_, 0) != 0) replaced.insert(0, replacement_);
      piece.text = std::move(replaced);
    }
    if (split_)
      split_pieces(pieces, Behavior::MergedWithNext, false,
                   [this](const std::string& text) { return find_literal(text, replacement_); });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

Behavior parse_behavior(const JsonNode& node) {
  const auto name = node.string();
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  node.fail("unknown split behavior '" + name + "'");
}

std::unique_ptr<PreTokenizer> make_split(const JsonNode& node) {
  const auto pattern = node.at("pattern");
  const auto behavior = parse_behavior(node.at("behavior"));
  const bool invert = node.boolean_or("invert", false);
  if (auto literal = pattern.find("String")) {
    auto text = literal->string();
    if (text.empty()) literal->fail("empty split pattern");
    return std::make_unique<Split>(std::move(text), nullptr, behavior, invert);
  }
  if (auto regex = pattern.find("Regex"))
    return std::make_unique<Split>(
        "", std::make_unique<Regex>(regex->string(), node.source() + ": " + regex->path()),
        behavior, invert);
  pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

std::unique_ptr<PreTokenizer> make_metaspace(const JsonNode& node) {
  auto replacement = node.string_or("replacement", "\xE2\x96\x81");
  if (replacement.empty()) node.at("replacement").fail("empty replacement");
  // Older files carry add_prefix_space instead of prepend_scheme.
  PrependScheme scheme = node.boolean_or("add_prefix_space", true) ? PrependScheme::Always
                                                                   : PrependScheme::Never;
  if (auto name = node.find("prepend_scheme")) {
    const auto value = name->string();
    if (value == "always") scheme = PrependScheme::Always;
    else if (value == "first") scheme = PrependScheme::First;
    else if (value == "never") scheme = PrependScheme::Never;
    else name->fail("unknown prepend_scheme '" + value + "'");
  }
  return std::make_unique<Metaspace>(std::move(replacement), scheme, node.boolean_or("split", true));
}

// BERT's pre-tokenizer: split at whitespace (removed), then every punctuation character apart.
class BertPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, Behavior::Removed, false, [](const std::string& t) { return chars_where(t, unicode::is_whitespace); });
    split_pieces(pieces, Behavior::Isolated, false,
                 [](const std::string& t) { return chars_where(t, unicode::is_bert_punctuation); });
  }

 private:
  template <typename Predicate>
  static Ranges chars_where(const std::string& text, Predicate&& predicate) {
    Ranges out;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t begin = pos;
      if (predicate(utf8::decode(text, pos))) out.emplace_back(begin, pos);
    }
    return out;
  }
};

class Identity final : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<Piece>&) const override {}
};

// Builds one step; `byte_level` is set when the step is ByteLevel.
std::unique_ptr<PreTokenizer> make_step(const JsonNode& node, bool& byte_level) {
  const auto type = node.at("type").string();
  if (type == "Split") return make_split(node);
  if (type == "Metaspace") return make_metaspace(node);
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "ByteLevel") {
    byte_level = true;
    return std::make_unique<ByteLevelSplit>(node.boolean_or("add_prefix_space", true),
                                            node.boolean_or("use_regex", true),
                                            node.source() + ": " + node.path());
  }
  if (type == "Sequence") {
    const auto list = node.at("pretokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (std::size_t i = 0; i < list.array().size(); ++i) {
      if (byte_level) list.element(i).fail("a pre-tokenizer after ByteLevel is not supported");
      steps.push_back(make_step(list.element(i), byte_level));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  node.at("type").fail("unsupported pre_tokenizer type '" + type + "'");
}

}  // namespace

PreTokenization make_pre_tokenization(const std::optional<JsonNode>& node) {
  PreTokenization result;
  result.splitter = node ? make_step(*node, result.byte_level) : std::make_unique<Identity>();
  return result;
}

}  // namespace relmoe
