#include "io/pairs.hpp"

#include "base/error.hpp"

#include <charconv>
#include <unistd.h>

namespace relmoe {
namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    auto tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return fields;
    start = tab + 1;
  }
}

std::optional<float> parse_number(std::string_view text, const std::string& where) {
  if (text.empty()) return std::nullopt;
  float value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    fail(where, "'" + std::string(text) + "' is not a number");
  return value;
}

}  // namespace

PairReader::PairReader(const std::filesystem::path& path) : path_(path), in_(path) {
  if (!in_) fail(path.string(), "cannot open pairs file");
  std::string header;
  if (!std::getline(in_, header)) fail(path.string(), "empty file (expected a header row)");
  line_ = 1;
  if (!header.empty() && header.back() == '\r') header.pop_back();
  auto names = split_tabs(header);
  columns_ = names.size();
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    auto n = names[i];
    int* slot = n == "id"          ? &col_id_
                : n == "market"    ? &col_market_
                : n == "lang"      ? &col_lang_
                : n == "query"     ? &col_query_
                : n == "item"      ? &col_item_
                : n == "item_desc" ? &col_desc_
                : n == "label"     ? &col_label_
                : n == "grade"     ? &col_grade_
                : n == "source"    ? &col_source_
                                   : nullptr;
    if (slot && *slot >= 0) fail(path.string() + ":1", "column '" + std::string(n) + "' appears twice");
    if (slot) *slot = i;
  }
  for (auto [col, name] : {std::pair{col_id_, "id"}, {col_market_, "market"},
                           {col_query_, "query"}, {col_item_, "item"}})
    if (col < 0) fail(path.string() + ":1", std::string("header lacks required column '") + name + "'");
}

bool PairReader::next(Pair& pair) {
  std::string row;
  while (std::getline(in_, row)) {
    ++line_;
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (row.empty()) continue;
    const std::string where = path_.string() + ":" + std::to_string(line_);
    auto fields = split_tabs(row);
    if (fields.size() != columns_)
      fail(where, "expected " + std::to_string(columns_) + " tab-separated columns, got " +
                      std::to_string(fields.size()));
    auto field = [&](int col) { return col < 0 ? std::string() : std::string(fields[col]); };
    pair.id = field(col_id_);
    if (pair.id.empty()) fail(where, "column 'id' is empty");
    pair.market = field(col_market_);
    if (pair.market.empty()) fail(where, "column 'market' is empty");
    pair.lang = field(col_lang_);
    pair.query = field(col_query_);
    pair.item = field(col_item_);
    pair.item_desc = field(col_desc_);
    pair.source = field(col_source_);
    pair.label = col_label_ < 0 ? std::nullopt : parse_number(fields[col_label_], where + " column 'label'");
    if (pair.label && *pair.label != 0.0f && *pair.label != 1.0f)
      fail(where + " column 'label'", "must be 0 or 1, got " + std::string(fields[col_label_]));
    pair.grade = col_grade_ < 0 ? std::nullopt : parse_number(fields[col_grade_], where + " column 'grade'");
    return true;
  }
  if (in_.bad()) fail(path_.string(), "read error after line " + std::to_string(line_));
  return false;
}

std::vector<Pair> read_pairs(const std::filesystem::path& path) {
  PairReader reader(path);
  std::vector<Pair> pairs;
  Pair pair;
  while (reader.next(pair)) pairs.push_back(pair);
  return pairs;
}

void write_pairs(const std::filesystem::path& path, const std::vector<Pair>& pairs) {
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    if (!out) fail(tmp.string(), "cannot create file");
    out << "id\tmarket\tlang\tquery\titem\titem_desc\tlabel\tgrade\tsource\n";
    auto number = [](const std::optional<float>& v) {
      if (!v) return std::string();
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
      return std::string(buf, end);
    };
    for (const auto& p : pairs) {
      for (const std::string* f : {&p.id, &p.market, &p.lang, &p.query, &p.item, &p.item_desc, &p.source})
        if (f->find_first_of("\t\r\n") != std::string::npos)
          fail(path.string(), "pair '" + p.id + "': a field contains a tab or newline");
      out << p.id << '\t' << p.market << '\t' << p.lang << '\t' << p.query << '\t' << p.item << '\t'
          << p.item_desc << '\t' << number(p.label) << '\t' << number(p.grade) << '\t' << p.source << '\n';
    }
    if (!out.flush()) fail(tmp.string(), "write failed");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace relmoe
