#include "io/pair_reader.hpp"

#include "base/error.hpp"
#include "base/split.hpp"

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include <array>
#include <charconv>
#include <fstream>
#include <optional>

namespace relmoe {
namespace {

enum Field { kId, kMarket, kLang, kQuery, kItem, kDesc, kLabel, kGrade, kSource, kFieldCount };
constexpr std::array<std::string_view, kFieldCount> kFieldNames{
    "id", "market", "lang", "query", "item", "item_desc", "label", "grade", "source"};

using Values = std::array<std::optional<std::string>, kFieldCount>;

std::string at_line(const std::filesystem::path& path, std::size_t line) {
  return path.string() + ":" + std::to_string(line);
}

// Physical lines with CR stripped, a leading BOM removed and UTF-8 validated. Tracks the byte
// offset of the next line so a reader can stop and later continue where it stood.
class LineSource {
 public:
  explicit LineSource(const std::filesystem::path& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) fail(path.string(), "cannot open pairs file");
  }

  // Reads the next line; invalid UTF-8 throws after the line is consumed, so reading can go on.
  bool next(std::string& line) {
    if (!std::getline(in_, line)) {
      if (in_.bad()) fail(path_.string(), "read error after line " + std::to_string(line_));
      return false;
    }
    ++line_;
    offset_ += line.size() + (in_.eof() ? 0 : 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    validate(line);
    return true;
  }

  std::size_t line() const { return line_; }
  std::uint64_t offset() const { return offset_; }
  void seek(std::uint64_t offset, std::size_t line) {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_) fail(path_.string(), "cannot seek to byte " + std::to_string(offset));
    offset_ = offset;
    line_ = line;
  }
  const std::filesystem::path& path() const { return path_; }
  std::string where() const { return at_line(path_, line_); }

 private:
  void validate(std::string_view text) const {
    auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
      if (bytes[i] < 0x80) {
        ++i;
        continue;
      }
      utf8proc_int32_t cp = 0;
      auto n = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
      if (n < 0) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", bytes[i]);
        fail(where() + ":" + std::to_string(i + 1), std::string("invalid UTF-8 (byte ") + hex + ")");
      }
      i += static_cast<std::size_t>(n);
    }
  }

  std::filesystem::path path_;
  std::ifstream in_;
  std::size_t line_ = 0;
  std::uint64_t offset_ = 0;
};

std::optional<float> parse_flag_or_number(const std::string& text, const std::string& where) {
  if (text.empty()) return std::nullopt;
  if (text == "true") return 1.0f;
  if (text == "false") return 0.0f;
  float value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) fail(where, "'" + text + "' is not a number");
  return value;
}

// Tabs and newlines cannot live in the project's TSV; CSV/JSON may carry them inside a field.
std::string flatten(std::string text) {
  for (auto& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return text;
}

Pair build_pair(Values& v, const std::string& where, const std::string& default_id) {
  Pair p;
  auto text = [&](Field f) { return v[f] ? flatten(std::move(*v[f])) : std::string(); };
  p.id = v[kId] && !v[kId]->empty() ? text(kId) : default_id;
  p.market = v[kMarket] && !v[kMarket]->empty() ? text(kMarket) : "default";
  p.lang = text(kLang);
  p.query = text(kQuery);
  p.item = text(kItem);
  p.item_desc = text(kDesc);
  p.source = text(kSource);
  if (p.query.empty()) fail(where, "field 'query' is empty");
  if (p.item.empty()) fail(where, "field 'item' is empty");
  if (v[kLabel]) {
    p.label = parse_flag_or_number(*v[kLabel], where + " field 'label'");
    if (p.label && *p.label != 0.0f && *p.label != 1.0f)
      fail(where + " field 'label'", "must be 0 or 1, got " + *v[kLabel]);
  }
  if (v[kGrade]) p.grade = parse_flag_or_number(*v[kGrade], where + " field 'grade'");
  return p;
}

std::string source_name(const ColumnMapping& mapping, int field) {
  auto it = mapping.find(std::string(kFieldNames[field]));
  return it == mapping.end() ? std::string(kFieldNames[field]) : it->second;
}

// Field -> column index (-1 when absent); mapped or required columns must exist.
std::array<int, kFieldCount> resolve_header(const std::vector<std::string>& header,
                                            const ColumnMapping& mapping, const std::string& where) {
  std::array<int, kFieldCount> col;
  for (int f = 0; f < kFieldCount; ++f) {
    const std::string name = source_name(mapping, f);
    col[f] = -1;
    for (int c = 0; c < static_cast<int>(header.size()); ++c)
      if (header[c] == name) col[f] = c;
    bool required = mapping.count(std::string(kFieldNames[f])) || f == kQuery || f == kItem;
    if (col[f] < 0 && required)
      fail(where, "header lacks column '" + name + "' (for field '" + std::string(kFieldNames[f]) + "')");
  }
  return col;
}

// One RFC 4180 record; a quoted field may span lines. False at end of file.
bool next_csv_record(LineSource& src, std::vector<std::string>& fields, std::size_t& first_line) {
  std::string line;
  do {
    first_line = src.line() + 1;
    if (!src.next(line)) return false;
  } while (line.empty());
  fields.clear();
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i == line.size()) {
          if (!src.next(line)) fail(at_line(src.path(), first_line), "quoted field is never closed");
          field += '\n';
          i = 0;
          continue;
        }
        char c = line[i++];
        if (c != '"') {
          field += c;
        } else if (i < line.size() && line[i] == '"') {
          field += '"';
          ++i;
        } else {
          break;
        }
      }
      if (i < line.size() && line[i] != ',')
        fail(src.where() + ":" + std::to_string(i + 1), "unexpected character after closing quote");
    } else {
      auto comma = line.find(',', i);
      if (comma == std::string::npos) comma = line.size();
      field = line.substr(i, comma - i);
      i = comma;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

std::optional<std::string> json_text(const nlohmann::json& value, const std::string& where) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  if (value.is_number()) return value.dump();
  fail(where, "expected a string, number or boolean, got " + std::string(value.type_name()));
}

}  // namespace

struct PairStream::Impl {
  LineSource src;
  PairFormat format;
  ColumnMapping mapping;
  std::string stem;
  std::vector<std::string> header;
  std::array<int, kFieldCount> col{};
  std::vector<std::string> fields;
  std::string line;
  std::size_t first_line = 0;

  Impl(const std::filesystem::path& path, const ColumnMapping& m, PairFormat f)
      : src(path), format(f), mapping(m), stem(path.stem().string()) {}

  // The next non-empty TSV/CSV record into `fields`; false at end of file.
  bool next_record() {
    if (format == PairFormat::Csv) return next_csv_record(src, fields, first_line);
    do {
      first_line = src.line() + 1;
      if (!src.next(line)) return false;
    } while (line.empty());
    fields = split_fields(line, '\t');
    return true;
  }

  void read_header() {
    if (format == PairFormat::Jsonl) return;
    if (!next_record()) fail(src.path().string(), "empty file (expected a header row)");
    header = fields;
    col = resolve_header(header, mapping, at_line(src.path(), first_line));
  }

  bool next_table(Pair& pair) {
    if (!next_record()) return false;
    const std::string where = at_line(src.path(), first_line);
    if (fields.size() != header.size())
      fail(where, "expected " + std::to_string(header.size()) + (format == PairFormat::Csv ? " comma" : " tab") +
                      "-separated columns, got " + std::to_string(fields.size()));
    Values v;
    for (int f = 0; f < kFieldCount; ++f)
      if (col[f] >= 0) v[f] = std::move(fields[col[f]]);
    pair = build_pair(v, where, stem + "-" + std::to_string(first_line));
    return true;
  }

  bool next_jsonl(Pair& pair) {
    do {
      first_line = src.line() + 1;
      if (!src.next(line)) return false;
    } while (line.find_first_not_of(" \t") == std::string::npos);
    const std::string where = src.where();
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail(where, std::string("invalid JSON: ") + e.what());
    }
    if (!object.is_object()) fail(where, "expected a JSON object per line");
    Values v;
    for (int f = 0; f < kFieldCount; ++f) {
      const std::string key = source_name(mapping, f);
      auto it = object.find(key);
      bool required = mapping.count(std::string(kFieldNames[f])) || f == kQuery || f == kItem;
      if (it == object.end()) {
        if (required) fail(where, "object lacks key '" + key + "' (for field '" + std::string(kFieldNames[f]) + "')");
        continue;
      }
      v[f] = json_text(*it, where + " key '" + key + "'");
    }
    pair = build_pair(v, where, stem + "-" + std::to_string(src.line()));
    return true;
  }
};

PairStream::PairStream(const std::filesystem::path& path, const ColumnMapping& mapping, PairFormat format)
    : impl_(std::make_unique<Impl>(path, mapping, format == PairFormat::Auto ? format_of(path) : format)) {
  impl_->read_header();
}

PairStream::~PairStream() = default;

bool PairStream::next(Pair& pair) {
  return impl_->format == PairFormat::Jsonl ? impl_->next_jsonl(pair) : impl_->next_table(pair);
}

std::size_t PairStream::line() const { return impl_->first_line; }

StreamPosition PairStream::position() const { return {impl_->src.offset(), impl_->src.line()}; }

void PairStream::seek(const StreamPosition& position) { impl_->src.seek(position.offset, position.line); }

PairFormat parse_pair_format(std::string_view name) {
  if (name == "auto") return PairFormat::Auto;
  if (name == "tsv") return PairFormat::Tsv;
  if (name == "csv") return PairFormat::Csv;
  if (name == "jsonl") return PairFormat::Jsonl;
  fail("--format", "expected auto, tsv, csv or jsonl, got '" + std::string(name) + "'");
}

PairFormat format_of(const std::filesystem::path& path) {
  auto ext = path.extension().string();
  if (ext == ".tsv" || ext == ".txt") return PairFormat::Tsv;
  if (ext == ".csv") return PairFormat::Csv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return PairFormat::Jsonl;
  fail(path.string(), "cannot tell the format from the extension '" + ext +
                          "' (use .tsv, .csv or .jsonl, or give --format)");
}

ColumnMapping parse_column_mapping(std::string_view spec) {
  ColumnMapping mapping;
  std::size_t start = 0;
  while (start < spec.size()) {
    auto comma = spec.find(',', start);
    auto entry = spec.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? spec.size() : comma + 1;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == entry.size())
      fail("--columns", "entry '" + std::string(entry) + "' is not field=column");
    std::string field(entry.substr(0, eq));
    bool known = false;
    for (auto name : kFieldNames) known |= name == field;
    if (!known)
      fail("--columns", "unknown field '" + field +
                            "' (expected id, market, lang, query, item, item_desc, label, grade, source)");
    if (!mapping.emplace(field, std::string(entry.substr(eq + 1))).second)
      fail("--columns", "field '" + field + "' mapped twice");
  }
  return mapping;
}

std::vector<Pair> read_pairs(const std::filesystem::path& path, const ColumnMapping& mapping,
                                 PairFormat format) {
  PairStream stream(path, mapping, format);
  std::vector<Pair> pairs;
  Pair pair;
  while (stream.next(pair)) pairs.push_back(std::move(pair));
  return pairs;
}

}  // namespace relmoe
