#include "text/read_file.hpp"

#include "base/error.hpp"

#include <fstream>
#include <sstream>

namespace relmoe {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) fail(path.string(), "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path.string(), "read error");
  return std::move(text).str();
}

}  // namespace relmoe
