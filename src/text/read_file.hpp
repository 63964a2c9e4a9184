#pragma once
#include <filesystem>
#include <string>

namespace relmoe {

// The whole file as bytes; relmoe::Error "<path>: cannot open" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace relmoe
