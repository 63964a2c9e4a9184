#include "io/pair_writer.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"

#include <charconv>

namespace relmoe {
namespace {

std::string number(const std::optional<float>& v) {
  if (!v) return {};
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
  return std::string(buf, end);
}

}  // namespace

void write_pairs(const std::filesystem::path& path, const std::vector<Pair>& pairs) {
  AtomicWriter file(path);
  auto& out = file.stream();
  out << "id\tmarket\tlang\tquery\titem\titem_desc\tlabel\tgrade\tsource\n";
  for (const auto& p : pairs) {
    for (const std::string* f : {&p.id, &p.market, &p.lang, &p.query, &p.item, &p.item_desc, &p.source})
      if (f->find_first_of("\t\r\n") != std::string::npos)
        fail(path.string(), "pair '" + p.id + "': a field contains a tab or newline");
    out << p.id << '\t' << p.market << '\t' << p.lang << '\t' << p.query << '\t' << p.item << '\t' << p.item_desc
        << '\t' << number(p.label) << '\t' << number(p.grade) << '\t' << p.source << '\n';
  }
  file.commit();
}

}  // namespace relmoe
