#include "io/pair_reader.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <fstream>

namespace {

std::filesystem::path write_file(const std::string& name, const std::string& bytes) {
  auto path = relmoe::test::scratch_dir() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string error_of(const std::filesystem::path& path, const relmoe::ColumnMapping& mapping = {}) {
  try {
    relmoe::read_pairs(path, mapping);
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

}  // namespace

TEST(Reader, TsvWithColumnMappingAndDefaults) {
  auto path = write_file("relmoe_map.tsv", "q\ttitle\trel\textra\nred shoes\tRed sneaker\t1\tx\n\nblue bag\tTote\t0\ty\n");
  auto pairs = relmoe::read_pairs(path, relmoe::parse_column_mapping("query=q,item=title,label=rel"));
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].query, "red shoes");
  EXPECT_EQ(pairs[0].item, "Red sneaker");
  EXPECT_EQ(*pairs[0].label, 1.0f);
  EXPECT_EQ(pairs[1].market, "default");
  EXPECT_EQ(pairs[1].id, "relmoe_map-4");  // file stem + line
  EXPECT_FALSE(pairs[1].grade.has_value());
}

TEST(Reader, CsvQuotingPerRfc4180) {
  auto path = write_file("relmoe_quotes.csv",
                         "\xEF\xBB\xBFid,market,query,item,item_desc,label\r\n"
                         "a,shop-th,\"shoes, red\",\"He said \"\"hi\"\"\",\"two\r\nlines\",1\r\n"
                         "b,shop-th,เสื้อ,\"\",x,0\r\n");
  EXPECT_CONTAINS(error_of(path), ":4: field 'item' is empty");  // record a spans lines 2-3
  path = write_file("relmoe_quotes.csv",
                    "\xEF\xBB\xBFid,market,query,item,item_desc,label\r\n"
                    "a,shop-th,\"shoes, red\",\"He said \"\"hi\"\"\",\"two\r\nlines\",1\r\n"
                    "b,shop-th,เสื้อ,Shirt,,\r\n"
                    "c,shop-th,q,i,,0\r\n");
  auto pairs = relmoe::read_pairs(path);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].id, "a");
  EXPECT_EQ(pairs[0].query, "shoes, red");
  EXPECT_EQ(pairs[0].item, "He said \"hi\"");
  EXPECT_EQ(pairs[0].item_desc, "two lines");  // newline inside quotes, flattened for TSV
  EXPECT_EQ(pairs[1].query, "เสื้อ");
  EXPECT_FALSE(pairs[1].label.has_value());
  EXPECT_EQ(*pairs[2].label, 0.0f);
}

TEST(Reader, JsonLinesWithMappingAndTypedValues) {
  auto path = write_file("relmoe_pairs.jsonl",
                         "{\"q\": \"tai nghe\", \"title\": \"Tai nghe Sora\", \"rel\": true, \"market\": \"vn\", \"item_desc\": null}\n"
                         "\n"
                         "{\"q\": \"ốp lưng\", \"title\": \"Case\", \"rel\": 0, \"grade\": 2.5, \"id\": 17}\n");
  auto pairs = relmoe::read_pairs(path, relmoe::parse_column_mapping("query=q,item=title,label=rel"));
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].market, "vn");
  EXPECT_EQ(*pairs[0].label, 1.0f);
  EXPECT_EQ(pairs[0].item_desc, "");
  EXPECT_EQ(pairs[1].query, "ốp lưng");
  EXPECT_EQ(pairs[1].id, "17");
  EXPECT_FLOAT_EQ(*pairs[1].grade, 2.5f);
  EXPECT_EQ(*pairs[1].label, 0.0f);
}

TEST(Reader, InvalidUtf8NamesFileLineAndColumn) {
  auto tsv = write_file("relmoe_bad_utf8.tsv", "query\titem\nok\tfine\nab\xFF\tx\n");
  EXPECT_CONTAINS(error_of(tsv), "relmoe_bad_utf8.tsv:3:3: invalid UTF-8 (byte 0xFF)");
  auto truncated = write_file("relmoe_trunc_utf8.csv", "query,item\n\xE0\xB8,x\n");  // cut Thai char
  EXPECT_CONTAINS(error_of(truncated), "relmoe_trunc_utf8.csv:2:1: invalid UTF-8 (byte 0xE0)");
  auto overlong = write_file("relmoe_overlong.jsonl", "{\"query\": \"\xC0\xAF\", \"item\": \"x\"}\n");
  EXPECT_CONTAINS(error_of(overlong), "relmoe_overlong.jsonl:1:12: invalid UTF-8");
}

TEST(Reader, StructuralErrorsNameTheLine) {
  EXPECT_CONTAINS(error_of(write_file("relmoe_cols.tsv", "query\titem\na\tb\nc\n")),
                  "relmoe_cols.tsv:3: expected 2 tab-separated columns, got 1");
  EXPECT_CONTAINS(error_of(write_file("relmoe_cols.csv", "query,item\na,b,c\n")),
                  "relmoe_cols.csv:2: expected 2 comma-separated columns, got 3");
  EXPECT_CONTAINS(error_of(write_file("relmoe_open.csv", "query,item\na,\"never closed\nb,c\n")),
                  "relmoe_open.csv:2: quoted field is never closed");
  EXPECT_CONTAINS(error_of(write_file("relmoe_after.csv", "query,item\n\"a\"x,b\n")),
                  "relmoe_after.csv:2:4: unexpected character after closing quote");
  EXPECT_CONTAINS(error_of(write_file("relmoe_json.jsonl", "{\"query\": \"a\", \"item\": \"b\"}\n{\"query\": \n")),
                  "relmoe_json.jsonl:2: invalid JSON");
  EXPECT_CONTAINS(error_of(write_file("relmoe_array.jsonl", "[1, 2]\n")), "relmoe_array.jsonl:1: expected a JSON object");
  EXPECT_CONTAINS(error_of(write_file("relmoe_nested.jsonl", "{\"query\": {\"a\": 1}, \"item\": \"b\"}\n")),
                  "relmoe_nested.jsonl:1 key 'query': expected a string, number or boolean, got object");
  EXPECT_CONTAINS(error_of(write_file("relmoe_nokey.jsonl", "{\"query\": \"a\"}\n")),
                  "relmoe_nokey.jsonl:1: object lacks key 'item'");
  EXPECT_CONTAINS(error_of(write_file("relmoe_label.tsv", "query\titem\tlabel\na\tb\t2\n")),
                  "relmoe_label.tsv:2 field 'label': must be 0 or 1, got 2");
  EXPECT_CONTAINS(error_of(write_file("relmoe_nan.tsv", "query\titem\tlabel\na\tb\tyes\n")),
                  "relmoe_nan.tsv:2 field 'label': 'yes' is not a number");
  EXPECT_CONTAINS(error_of(write_file("relmoe_empty_q.tsv", "query\titem\n\tb\n")), "relmoe_empty_q.tsv:2: field 'query' is empty");
  EXPECT_CONTAINS(error_of(write_file("relmoe_hdr.tsv", "query\ttitle\na\tb\n")),
                  "relmoe_hdr.tsv:1: header lacks column 'item' (for field 'item')");
  EXPECT_CONTAINS(error_of(write_file("relmoe_maphdr.csv", "query,item\na,b\n"), {{"label", "rel"}}),
                  "relmoe_maphdr.csv:1: header lacks column 'rel' (for field 'label')");
  EXPECT_CONTAINS(error_of(write_file("relmoe_empty.csv", "")), "relmoe_empty.csv: empty file");
  EXPECT_CONTAINS(error_of(write_file("relmoe_pairs.parquet", "x")), "cannot tell the format");
  EXPECT_CONTAINS(error_of("/nonexistent/x.tsv"), "/nonexistent/x.tsv: cannot open");
}

TEST(Reader, ColumnMappingAndFormatErrors) {
  auto mapping = relmoe::parse_column_mapping("query=q,item_desc=desc");
  EXPECT_EQ(mapping.at("item_desc"), "desc");
  EXPECT_THROW(relmoe::parse_column_mapping("query"), relmoe::Error);
  EXPECT_THROW(relmoe::parse_column_mapping("query=,item=x"), relmoe::Error);
  EXPECT_THROW(relmoe::parse_column_mapping("title=x"), relmoe::Error);
  EXPECT_THROW(relmoe::parse_column_mapping("query=a,query=b"), relmoe::Error);
  EXPECT_THROW(relmoe::parse_pair_format("xml"), relmoe::Error);
  // An explicit format overrides the extension.
  auto path = write_file("relmoe_csv_named.txt", "query,item\na,b\n");
  EXPECT_EQ(relmoe::read_pairs(path, {}, relmoe::PairFormat::Csv).size(), 1u);
}

TEST(Reader, CliConvertsCsvToProjectTsv) {
  auto in = write_file("relmoe_convert.csv", "q,title,rel\n\"kasut, hitam\",Kasut Zento,1\n");
  auto out = relmoe::test::scratch_dir() / "relmoe_convert_out.tsv";
  std::string cmd = relmoe::test::binary().string() + " data convert --in " + in.string() + " --out " +
                    out.string() + " --columns query=q,item=title,label=rel > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto pairs = relmoe::read_pairs(out);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].query, "kasut, hitam");
  EXPECT_EQ(pairs[0].market, "default");
  EXPECT_EQ(*pairs[0].label, 1.0f);
}
