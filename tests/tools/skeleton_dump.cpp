// skeleton_dump — the C++ side of the AST oracle test, and a debugging aid.
//
//   skeleton_dump defs <root>     one JSON line per .py file under <root> (sorted by path):
//                                 {"file","status","defs":[[qualname, kind, line, end_line], ...]}
//                                 kind: class | def | async def (Python ast's vocabulary)
//   skeleton_dump json <file>     the skeleton of one file as JSON
//   skeleton_dump render <file>   its rendering, with line numbers
//
// Skeletons are built in parallel (all cores) through a memory-only SkeletonCache.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "lang/python/extractor.hpp"
#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace trifecta::core;

namespace {

int usage() {
  std::cerr << "usage: skeleton_dump defs <root> | json <file> | render <file>\n";
  return 2;
}

void add_defs(const ast::Definition& d, json::array& out) {
  const char* kind = d.kind == ast::DefKind::kClass ? "class" : (d.is_async ? "async def" : "def");
  out.push_back(json::array{json::string(d.qualname), kind, d.line, d.end_line});
  for (const auto& c : d.children) add_defs(c, out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string mode = argv[1];
  const fs::path target = argv[2];
  if (auto rt = ast::check_runtime(); !rt) {
    std::cerr << "skeleton_dump: " << rt.error().message << "\n";
    return 1;
  }
  if (mode == "json" || mode == "render") {
    const workspace::FileReader reader("/", std::size_t{64} << 20);
    auto got = reader.read_bytes(fs::absolute(target).lexically_normal().string(), workspace::ReadPurpose::kSkeleton, nullptr);
    if (!got) {
      std::cerr << "skeleton_dump: " << got.error().message << "\n";
      return 1;
    }
    auto s = ast::extract_skeleton(got->text);
    if (!s) {
      std::cerr << "skeleton_dump: " << s.error().message << "\n";
      return 1;
    }
    if (mode == "json") std::cout << json::serialize(ast::to_json(*s)) << "\n";
    else std::cout << ast::render(*s, {.line_numbers = true});
    return 0;
  }
  if (mode != "defs") return usage();
  std::vector<ast::BuildItem> items;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(target, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".py")
      items.push_back({it->path(), it->path().lexically_relative(target).generic_string()});
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.rel < b.rel; });
  ast::CacheOptions opts;
  opts.memory_entries = 0;
  opts.max_file_bytes = std::size_t{64} << 20;
  ast::SkeletonCache cache({}, {}, opts);
  auto report = ast::build_skeletons(cache, items);
  for (std::size_t i = 0; i < items.size(); ++i) {
    json::object line;
    line["file"] = items[i].rel;
    const auto& r = report.results[i];
    if (!r) {
      line["error"] = r.error().message;
    } else {
      line["status"] = ast::parse_status_name(r->skeleton->status);
      json::array defs;
      for (const auto& d : r->skeleton->definitions) add_defs(d, defs);
      line["defs"] = std::move(defs);
    }
    std::cout << json::serialize(line) << "\n";
  }
  std::cerr << "skeleton_dump: " << items.size() << " files, " << report.failed << " failed, "
            << report.threads << " threads, " << report.elapsed_ms << " ms\n";
  return 0;
}
