#pragma once
// Whole JSON and text files: reads whose errors name the file, writes that are atomic
// (io/durable_file.hpp).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace relmoe {

// "<path>: cannot open" (plus `hint`, e.g. what the file should come from) or
// "<path>: invalid JSON: ..." as relmoe::Error.
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& hint = "");

// The parsed file, or null when it is absent or not valid JSON (caches a caller may discard).
nlohmann::json read_json_file_or_null(const std::filesystem::path& path);

// Throws naming `where` unless `j` is an object whose "format" is `format` and whose "version" is
// the integer `version`: every relmoe manifest starts with these two. `hint` (e.g. how to make the
// file again) follows the message.
void require_format(const nlohmann::json& j, const std::string& where, const std::string& format, int version,
                    const std::string& hint = "");

// Pretty-printed (2 spaces) with a final newline.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& json);
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace relmoe
