#include "text/normalizer.hpp"

#include "base/error.hpp"
#include "text/precompiled_charsmap.hpp"
#include "text/regex.hpp"
#include "text/utf8.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <vector>

namespace relmoe {
namespace {

class UnicodeForm final : public Normalizer {
 public:
  explicit UnicodeForm(utf8proc_option_t options) : options_(options) {}
  void normalize(std::string& text) const override {
    // ASCII is invariant under every normal form; skipping it saves most of the work.
    if (std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; })) return;
    utf8proc_uint8_t* out = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                static_cast<utf8proc_ssize_t>(text.size()), &out, options_);
    if (n < 0) fail("normalizer", std::string("utf8proc: ") + utf8proc_errmsg(n));
    text.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    std::free(out);
  }

 private:
  utf8proc_option_t options_;
};

class ReplaceString final : public Normalizer {
 public:
  ReplaceString(std::string pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    std::size_t pos = text.find(pattern_);
    if (pos == std::string::npos) return;
    std::string out;
    out.reserve(text.size() + text.size() / 4);
    std::size_t from = 0;
    for (; pos != std::string::npos; pos = text.find(pattern_, from)) {
      out.append(text, from, pos - from).append(content_);
      from = pos + pattern_.size();
    }
    out.append(text, from);
    text = std::move(out);
  }

 private:
  std::string pattern_, content_;
};

class ReplaceRegex final : public Normalizer {
 public:
  ReplaceRegex(const std::string& pattern, std::string content, const std::string& where)
      : regex_(pattern, where), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    const auto matches = regex_.find_all(text);
    if (matches.empty()) return;
    std::string out;
    std::size_t from = 0;
    for (auto [begin, end] : matches) {
      out.append(text, from, begin - from).append(content_);
      from = end;
    }
    out.append(text, from);
    text = std::move(out);
  }

 private:
  Regex regex_;
  std::string content_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// BERT's normaliser: drop NUL, U+FFFD and control characters and turn whitespace into ' '
// (clean_text), surround CJK ideographs with spaces, strip accents (NFD, drop Mn), lower-case.
// Lower-casing uses the simple one-code-point mapping.
class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents), lowercase_(lowercase) {}
  void normalize(std::string& text) const override {
    if (strip_accents_) nfd_.normalize(text);
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t pos = 0; pos < text.size();) {
      char32_t c = utf8::decode(text, pos);
      if (clean_text_) {
        const bool control = c != '\t' && c != '\n' && c != '\r' && unicode::is_other(c);
        if (c == 0 || c == 0xFFFD || control) continue;
        if (unicode::is_whitespace(c)) c = ' ';
      }
      if (strip_accents_ && unicode::is_nonspacing_mark(c)) continue;
      if (lowercase_) c = unicode::to_lower(c);
      const bool spaced = chinese_ && unicode::is_cjk_ideograph(c);
      if (spaced) out += ' ';
      utf8::append(out, c);
      if (spaced) out += ' ';
    }
    text = std::move(out);
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
  UnicodeForm nfd_{utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE)};
};

class Precompiled final : public Normalizer {
 public:
  explicit Precompiled(std::optional<PrecompiledCharsmap> map) : map_(std::move(map)) {}
  void normalize(std::string& text) const override {
    if (map_) text = map_->normalize(text);
  }

 private:
  std::optional<PrecompiledCharsmap> map_;  // absent: an empty map, the identity
};

std::unique_ptr<Normalizer> make_precompiled(const JsonNode& node) {
  const auto field = node.find("precompiled_charsmap");
  const std::string where = node.source() + ": " + (field ? field->path() : node.path());
  if (!field) return std::make_unique<Precompiled>(std::nullopt);
  // Either base64 text (what tokenizers writes) or an array of byte values (older files).
  std::string bytes;
  if (field->json().is_array()) {
    for (std::size_t i = 0; i < field->array().size(); ++i) {
      const auto b = field->element(i).integer();
      if (b < 0 || b > 255) field->element(i).fail("not a byte");
      bytes.push_back(static_cast<char>(b));
    }
  } else {
    bytes = decode_base64(field->string(), where);
  }
  if (bytes.empty()) return std::make_unique<Precompiled>(std::nullopt);
  return std::make_unique<Precompiled>(PrecompiledCharsmap(bytes, where));
}

std::unique_ptr<Normalizer> make_replace(const JsonNode& node) {
  const auto pattern = node.at("pattern");
  auto content = node.at("content").string();
  if (auto literal = pattern.find("String")) {
    auto text = literal->string();
    if (text.empty()) literal->fail("empty replace pattern");
    return std::make_unique<ReplaceString>(std::move(text), std::move(content));
  }
  if (auto regex = pattern.find("Regex"))
    return std::make_unique<ReplaceRegex>(regex->string(), std::move(content),
                                          node.source() + ": " + regex->path());
  pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node) {
  const auto type = node.at("type").string();
  if (type == "NFC") return std::make_unique<UnicodeForm>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (type == "NFD") return std::make_unique<UnicodeForm>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
  if (type == "NFKC")
    return std::make_unique<UnicodeForm>(
        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  if (type == "NFKD")
    return std::make_unique<UnicodeForm>(
        utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
  if (type == "Replace") return make_replace(node);
  if (type == "Prepend") return std::make_unique<Prepend>(node.at("prepend").string());
  if (type == "Precompiled") return make_precompiled(node);
  if (type == "BertNormalizer") {
    const bool lowercase = node.boolean_or("lowercase", true);
    const auto strip = node.find("strip_accents");  // null: follows lowercase
    return std::make_unique<BertNormalizer>(node.boolean_or("clean_text", true),
                                            node.boolean_or("handle_chinese_chars", true),
                                            strip ? strip->boolean() : lowercase, lowercase);
  }
  if (type == "Sequence") {
    const auto list = node.at("normalizers");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (std::size_t i = 0; i < list.array().size(); ++i) steps.push_back(make_normalizer(list.element(i)));
    return std::make_unique<Sequence>(std::move(steps));
  }
  node.at("type").fail("unsupported normalizer type '" + type + "'");
}

}  // namespace relmoe
