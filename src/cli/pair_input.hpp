#pragma once
// The options every command that reads a pairs file shares: --columns (which source column
// fills which pair field) and --format (auto by extension, tsv, csv, jsonl).
#include "io/pair_reader.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace relmoe::cli {

struct PairInput {
  std::string columns, format = "auto";

  void add(CLI::App& app) {
    app.add_option("--columns", columns, "column mapping for the pair files, e.g. query=q,item=title,label=rel");
    app.add_option("--format", format, "pair file format: auto (by extension), tsv, csv or jsonl")->capture_default_str();
  }
  ColumnMapping mapping() const { return parse_column_mapping(columns); }
  PairFormat pair_format() const { return parse_pair_format(format); }
  std::vector<Pair> read(const std::filesystem::path& path) const { return read_pairs(path, mapping(), pair_format()); }
};

}  // namespace relmoe::cli
