// fuzz_navigation — the Python AST fallback (lib/lang/python/navigation.hpp, calls.hpp):
// definition, hover, references, the call hierarchy (both directions, two levels) and
// diagnostics on an arbitrary file `m.py` at a position taken from the input, over an in-memory
// segment holding that one file. Answers or typed errors, never a crash.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ast/skeleton.hpp"
#include "lang/python/calls.hpp"
#include "lang/python/extractor.hpp"
#include "lang/python/navigation.hpp"

using namespace trifecta::core;

namespace {

constexpr std::string_view kRel = "m.py";

// One file, its skeleton from the extractor; definitions_named searches that skeleton.
class OneFile final : public selector::SegmentSource, public navigation::SymbolIndex {
 public:
  explicit OneFile(std::string text) : text_(std::move(text)) {
    auto s = ast::extract_skeleton(text_);
    if (s) skeleton_ = std::make_shared<const ast::Skeleton>(std::move(*s));
  }
  bool is_file(std::string_view rel) override { return rel == kRel; }
  bool is_dir(std::string_view rel) override { return rel.empty(); }
  std::vector<std::string> list_dir(std::string_view rel) override {
    return rel.empty() ? std::vector<std::string>{std::string(kRel)} : std::vector<std::string>{};
  }
  Result<std::shared_ptr<const ast::Skeleton>> skeleton(std::string_view rel) override {
    if (rel != kRel || !skeleton_) return Error{Errc::kNotFound, "no skeleton"};
    return skeleton_;
  }
  std::vector<navigation::IndexedDefinition> definitions_named(
      std::string_view name) const override {
    std::vector<navigation::IndexedDefinition> out;
    if (!skeleton_) return out;
    ast::for_each_definition(*skeleton_, [&](const ast::Definition& d) {
      if (d.name != name) return;
      navigation::IndexedDefinition e;
      e.file = kRel;
      e.name = d.name;
      e.qualname = d.qualname;
      e.kind = std::string(ast::def_kind_name(d.kind));
      e.line = d.line;
      e.column = d.column;
      e.end_line = d.end_line;
      e.signature = d.signature;
      e.docstring = d.docstring;
      out.push_back(std::move(e));
    });
    return out;
  }
  std::vector<std::string> files() const override { return {std::string(kRel)}; }
  Result<std::string> content(std::string_view rel) const override {
    if (rel != kRel) return Error{Errc::kNotFound, "no such file"};
    return text_;
  }

 private:
  std::string text_;
  std::shared_ptr<const ast::Skeleton> skeleton_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  // The first 4 bytes choose the position (line 1..256, column 1..256); the rest is the file.
  text::Position pos;
  pos.line = 1 + data[0] % 4 * 64 + data[1] % 64;
  pos.column = 1 + data[2] % 4 * 64 + data[3] % 64;
  OneFile segment(std::string(reinterpret_cast<const char*>(data) + 4, size - 4));
  const std::string text = *segment.content(kRel);
  (void)navigation::definition(segment, segment, kRel, text, pos);
  (void)navigation::hover(segment, segment, kRel, text, pos);
  (void)navigation::references(segment, segment, kRel, text, pos, true, 100);
  navigation::CallsOptions calls;
  calls.depth = 2;
  calls.max_edges = 50;
  (void)navigation::call_hierarchy(segment, segment, kRel, text, pos, calls);
  (void)navigation::diagnostics(text);
  return 0;
}
