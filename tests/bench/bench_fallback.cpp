// bench_fallback — how often the AST fallback (lib/lang/python) gives Pyright's definition answer,
// and how fast it is.
//
//   bench_fallback <corpus_root> [--samples N] [--files K] [--seed S] [--dump FILE]
//   bench_fallback <corpus_root> --sweep [--samples N] [--files K]
//
// `--references` skips Pyright: for each sampled position, references() four ways — every file
// parsed, only the files the lexical index names (index::SegmentIndex::files_with_word) parsed,
// every file's identifier-occurrence table, the named files' tables (what the daemon does); all
// answers must be identical to the first (exit 1 otherwise); reports the four latencies.
//
// `--sweep` skips Pyright: definition, hover and references(limit 50) of the fallback on the
// sampled positions only, counting errors — a crash/sanitizer sweep (build with
// TRIFECTA_SANITIZE=address,undefined) and a throughput figure.
//
// On a copy of a Python tree (scripts/bench_fallback.sh uses the machine's stdlib): K files are
// picked with a fixed seed, every identifier node in them (usages and declarations alike, `self`
// excluded) is a candidate position, N positions are sampled (fixed seed) with the cursor on a
// random character of the name. For each: Pyright's definition through lsp::Client (READY
// first; io_context on its own thread) and navigation::definition over a SkeletonSymbolIndex of
// the whole corpus. Agreement = the fallback's first target has the same file and line as one of
// Pyright's locations, or both are empty. Prints a Markdown report on stdout; `--dump` writes
// every disagreement (TSV) for inspection.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include "bench_stats.hpp"
#include "../support/temp_dir.hpp"
#include "ast/skeleton_cache.hpp"
#include "index/segment_index.hpp"
#include "workspace/file_list.hpp"
#include "lsp/client.hpp"
#include "lang/python/navigation.hpp"
#include "lang/python/pyright.hpp"
#include "lang/python/symbol_index.hpp"
#include "lang/python/syntax.hpp"
#include "selector/resolver.hpp"
#include "util/clock.hpp"

using namespace trifecta::core;
using namespace trifecta::bench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Sample {
  std::string file;
  lsp::Position pos;
  std::string name;
  bool declaration = false;  // a def/class name or parameter (else a usage)
};

void identifiers(const navigation::syntax::ParsedFile& f, const std::string& rel, std::vector<Sample>& out) {
  TSTreeCursor c = ts_tree_cursor_new(f.root());
  std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(rel)));
  bool done = false;
  while (!done) {
    TSNode n = ts_tree_cursor_current_node(&c);
    if (std::string_view(ts_node_type(n)) == "identifier") {
      const std::string name(f.node_text(n));
      if (name != "self" && name != "cls") {
        const TSPoint p = ts_node_start_point(n);
        Sample s;
        s.file = rel;
        s.name = name;
        const int chars = navigation::syntax::column_from_byte(name, name.size()) - 1;
        s.pos = {static_cast<int>(p.row) + 1, f.column_of(p) + static_cast<int>(rng() % static_cast<unsigned>(std::max(1, chars)))};
        const std::string_view pt = ts_node_type(ts_node_parent(n));
        s.declaration = pt == "function_definition" || pt == "class_definition" || pt == "parameters" ||
                        pt == "typed_parameter" || pt == "default_parameter" || pt == "typed_default_parameter";
        out.push_back(std::move(s));
      }
    }
    if (ts_tree_cursor_goto_first_child(&c)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c)) {
        done = true;
        break;
      }
    }
  }
  ts_tree_cursor_delete(&c);
}

}  // namespace

namespace {

constexpr const char* kUsage =
    "usage: bench_fallback <corpus_root> [--samples N] [--files K] [--seed S] [--dump FILE]\n"
    "       bench_fallback <corpus_root> --sweep [--samples N] [--files K]\n"
    "       bench_fallback <corpus_root> --references [--samples N] [--files K] [--seed S]\n"
    "  <corpus_root>  a directory of Python files (scripts/bench_fallback.sh passes a stdlib copy)\n"
    "  --samples N    positions sampled (default 600)\n"
    "  --files K      files the positions are sampled from (default 40)\n"
    "  --seed S       sampling seed (default 20261125)\n"
    "  --dump FILE    write every disagreement with Pyright (TSV) to FILE\n"
    "  --sweep        no Pyright: definition/hover/references of the fallback, counting errors\n"
    "  --references   no Pyright: fallback references four ways, answers must be identical\n"
    "  -h, --help     this message\n";

int usage_error(const std::string& why) {
  std::cerr << "bench_fallback: " << why << "\n" << kUsage;
  return 2;
}

// A whole non-negative decimal number, else nullopt.
std::optional<unsigned long> parse_count(const std::string& s) {
  if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoul(s);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t samples = 600, nfiles = 40;
  unsigned seed = 20261125;
  std::string dump, root_arg;
  bool sweep = false, references_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--samples" || a == "--files" || a == "--seed" || a == "--dump") {
      if (i + 1 >= argc) return usage_error(a + ": expected a value");
      const std::string v = argv[++i];
      if (a == "--dump") {
        dump = v;
        continue;
      }
      const auto n = parse_count(v);
      if (!n) return usage_error(a + ": expected a number, got \"" + v + "\"");
      if (a == "--samples") samples = *n;
      else if (a == "--files") nfiles = *n;
      else seed = static_cast<unsigned>(*n);
    } else if (a == "--sweep") {
      sweep = true;
    } else if (a == "--references") {
      references_mode = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else if (root_arg.empty()) {
      root_arg = a;
    } else {
      return usage_error("one corpus root expected, got \"" + root_arg + "\" and \"" + a + "\"");
    }
  }
  if (root_arg.empty()) return usage_error("missing <corpus_root>");
  std::error_code root_ec;
  if (!fs::is_directory(root_arg, root_ec)) return usage_error("<corpus_root> is not a directory: " + root_arg);
  const fs::path root = fs::canonical(root_arg, root_ec);
  if (root_ec) return usage_error("<corpus_root>: " + root_ec.message());
  spdlog::set_level(spdlog::level::warn);

  // The corpus and its index (what the daemon holds for a segment).
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().extension() == ".py") files.push_back(fs::relative(it->path(), root).string());
  std::sort(files.begin(), files.end());
  ast::SkeletonCache cache("", telemetry::Channel{}, ast::CacheOptions{.memory_entries = 1 << 16, .emit_events = false});
  Stopwatch build_sw;
  navigation::SkeletonSymbolIndex index(root, cache, files);
  const double build_ms = build_sw.elapsed_ms();
  selector::FsSegmentSource source(root, cache);

  // Sample positions from K files (fixed seed); skip files over 200 KB (Pyright takes seconds).
  std::mt19937 rng(seed);
  std::vector<std::string> pool;
  for (const auto& f : files)
    if (fs::file_size(root / f) < 200'000 && f.find("test") == std::string::npos) pool.push_back(f);
  std::shuffle(pool.begin(), pool.end(), rng);
  if (pool.size() > nfiles) pool.resize(nfiles);
  std::sort(pool.begin(), pool.end());
  std::map<std::string, std::string> texts;
  std::vector<Sample> all;
  for (const auto& f : pool) {
    texts[f] = trifecta::test::read_text(root / f);
    auto parsed = navigation::syntax::parse_python(texts[f]);
    if (parsed) identifiers(**parsed, f, all);
  }
  std::shuffle(all.begin(), all.end(), rng);
  if (all.size() > samples) all.resize(samples);

  if (references_mode) {
    // The lexical index over the same tree, cache kept out of the corpus.
    const fs::path cache_dir = fs::temp_directory_path() / ("bench_fallback_refs_" + std::to_string(::getpid()));
    index::SegmentOptions so;
    so.cache_dir = cache_dir;
    auto lexical = index::SegmentIndex::open(root, so);
    if (!lexical || !(*lexical)->build()) {
      std::cerr << "bench_fallback: cannot build the lexical index\n";
      return 1;
    }
    // The symbol table over the files the daemon would list (default excludes such as the
    // stdlib's `venv/` apply to both tables in the daemon).
    std::vector<std::string> listed;
    if (auto l = workspace::list_files(root, (*lexical)->filter())) {
      for (auto& f : l->files)
        if (f.size() > 3 && f.compare(f.size() - 3, 3, ".py") == 0) listed.push_back(std::move(f));
    }
    navigation::SkeletonSymbolIndex daemon_table(root, cache, listed);
    // Four ways to the same answer: every file parsed (the reference), the lexical index's files
    // parsed (the daemon before the occurrence table), every file's occurrence table, and the
    // lexical index's files' tables (the daemon now).
    navigation::NavOptions parse_all, parse_narrowed, table_all, table_narrowed;
    parse_all.occurrence_table = parse_narrowed.occurrence_table = false;
    parse_narrowed.candidate_files = table_narrowed.candidate_files = [&](std::string_view name) {
      return (*lexical)->files_with_word(name);
    };
    struct Way {
      const char* label;
      const navigation::NavOptions* options;
      std::vector<double> ms;
      std::size_t reads = 0, from_table = 0;
    };
    std::vector<Way> ways{{"every file parsed", &parse_all, {}, 0, 0},
                          {"files named by the lexical index, parsed (daemon before the occurrence table)", &parse_narrowed, {}, 0, 0},
                          {"every file's occurrence table", &table_all, {}, 0, 0},
                          {"files named by the lexical index, occurrence tables (daemon now)", &table_narrowed, {}, 0, 0}};
    std::size_t mismatches = 0, narrowed_count = 0, locations = 0;
    for (const auto& s : all) {
      const std::string& text = texts[s.file];
      std::optional<navigation::ReferencesResult> reference;
      for (auto& w : ways) {
        Stopwatch sw;
        auto r = navigation::references(source, daemon_table, s.file, text, s.pos, true, 1000, *w.options);
        w.ms.push_back(sw.elapsed_ms());
        if (!r) {
          ++mismatches;
          continue;
        }
        w.reads += r->files_scanned;
        w.from_table += r->from_table;
        if (!reference) {
          reference = std::move(*r);
          locations += reference->locations.size();
          continue;
        }
        narrowed_count += w.options == &table_narrowed && r->narrowed;
        bool same = reference->locations.size() == r->locations.size() && reference->truncated == r->truncated;
        for (std::size_t i = 0; same && i < r->locations.size(); ++i) {
          const auto& x = reference->locations[i];
          const auto& y = r->locations[i];
          same = x.path == y.path && x.line == y.line && x.column == y.column && x.end_line == y.end_line &&
                 x.end_column == y.end_column;
        }
        if (!same) {
          ++mismatches;
          std::cerr << "mismatch (" << w.label << "): " << s.file << ":" << s.pos.line << ":" << s.pos.column << " `"
                    << s.name << "`: " << reference->locations.size() << " vs " << r->locations.size() << " locations\n";
        }
      }
    }
    std::error_code ec;
    fs::remove_all(cache_dir, ec);
    std::printf("| references (%zu positions, %zu files in the tree) | median ms | p90 | p99 | max | files looked at (mean) | answered from tables (mean) |\n",
                all.size(), listed.size());
    std::printf("|---|---|---|---|---|---|---|\n");
    const double n = static_cast<double>(std::max<std::size_t>(1, all.size()));
    for (const auto& w : ways)
      std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f |\n", w.label, pct(w.ms, 50), pct(w.ms, 90),
                  pct(w.ms, 99), w.ms.empty() ? 0.0 : *std::max_element(w.ms.begin(), w.ms.end()),
                  static_cast<double>(w.reads) / n, static_cast<double>(w.from_table) / n);
    std::printf("\nnarrowed %zu of %zu questions (the rest: names under 2 characters); %zu locations in all; "
                "identifier tables held: %.1f MiB; answers differing from every-file-parsed: %zu\n",
                narrowed_count, all.size(), locations,
                static_cast<double>(daemon_table.identifier_table_bytes()) / (1024.0 * 1024.0), mismatches);
    return mismatches == 0 ? 0 : 1;
  }

  if (sweep) {
    std::size_t errors = 0, resolved = 0, hovers = 0, refs = 0;
    Stopwatch sw;
    for (const auto& s : all) {
      auto d = navigation::definition(source, index, s.file, texts[s.file], s.pos);
      auto h = navigation::hover(source, index, s.file, texts[s.file], s.pos);
      auto r = navigation::references(source, index, s.file, texts[s.file], s.pos, true, 50);
      errors += !d.ok() + !h.ok() + !r.ok();
      resolved += d.ok() && !d->targets.empty();
      hovers += h.ok() && h->hover.has_value();
      refs += r.ok() ? r->locations.size() : 0;
    }
    std::printf("sweep: %zu positions in %zu files, %.0f ms; errors %zu; definitions with a target %zu; hovers %zu; "
                "reference locations %zu\n",
                all.size(), pool.size(), sw.elapsed_ms(), errors, resolved, hovers, refs);
    return errors == 0 ? 0 : 1;
  }
  auto server = lang::python::discover_server(lang::python::DiscoveryInputs::from_env());
  if (!server) {
    std::cerr << "bench_fallback: no server: " << server.error().message << "\n";
    return 1;
  }
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  lsp::ClientOptions o;
  o.segment_root = root;
  o.server = *server;
  o.language_id = "python";
  o.settings = lang::python::default_settings(o.server);
  o.request_timeout = 60s;
  o.ready_timeout = 180s;
  o.rss_limit_bytes = 0;
  auto client = std::make_unique<lsp::Client>(io, o);
  client->start(pool.front());
  std::promise<lsp::State> ready;
  client->when_ready(180s, [&ready](lsp::State s) { ready.set_value(s); });
  if (ready.get_future().get() != lsp::State::kReady) {
    std::cerr << "bench_fallback: Pyright did not reach READY\n";
    return 1;
  }
  for (const auto& f : pool) client->did_open(f);

  struct Row {
    bool pyright_inside = false, pyright_empty = false, ours_empty = false, agree = false, any_agree = false;
    std::string rule, klass;
    double ms = 0;
    bool first_in_file = false;
    std::string where;
  };
  std::vector<Row> rows;
  std::ofstream dump_out;
  if (!dump.empty()) dump_out.open(dump);
  std::set<std::string> seen_files;
  for (const auto& s : all) {
    auto py = blocking<std::vector<lsp::Location>>([&](auto cb) { client->definition(s.file, s.pos, cb); });
    if (!py) {
      std::cerr << "pyright failed at " << s.file << ":" << s.pos.line << ": " << py.error().message << "\n";
      continue;
    }
    Row r;
    r.first_in_file = seen_files.insert(s.file).second;
    Stopwatch sw;
    auto ours = navigation::definition(source, index, s.file, texts[s.file], s.pos);
    r.ms = sw.elapsed_ms();
    if (!ours) {
      std::cerr << "fallback error at " << s.file << ":" << s.pos.line << ": " << ours.error().message << "\n";
      continue;
    }
    r.rule = ours->rule;
    r.where = s.file + ":" + std::to_string(s.pos.line) + ":" + std::to_string(s.pos.column) + " `" + s.name + "`";
    r.pyright_empty = py->empty();
    r.ours_empty = ours->targets.empty();
    for (const auto& l : *py) r.pyright_inside |= !l.external;
    auto match = [&](const lsp::Location& a) {
      return std::any_of(py->begin(), py->end(), [&](const lsp::Location& b) {
        return !b.external && b.path == a.path && b.line == a.line;
      });
    };
    if (r.pyright_empty && r.ours_empty) r.agree = r.any_agree = true;
    else if (!r.ours_empty && match(ours->targets.front().location)) r.agree = r.any_agree = true;
    else {
      for (const auto& t : ours->targets) r.any_agree |= match(t.location);
      if (!r.pyright_inside && !r.pyright_empty) r.klass = r.ours_empty ? "pyright external, ours empty" : "pyright external, ours inside";
      else if (r.pyright_empty) r.klass = "pyright empty, ours a target";
      else if (r.ours_empty) r.klass = "ours empty (" + r.rule + ")";
      else if (ours->targets.front().location.path != py->front().path) r.klass = "other file (" + r.rule + ")";
      else r.klass = "same file, other line (" + r.rule + ")";
    }
    if (dump_out && !r.agree) {
      dump_out << s.file << ":" << s.pos.line << ":" << s.pos.column << "\t" << s.name << "\t" << r.rule << "\t"
               << r.klass << "\tours=" << (r.ours_empty ? "-" : ours->targets.front().location.path + ":" +
                                                                       std::to_string(ours->targets.front().location.line))
               << "\tpyright=";
      for (const auto& l : *py) dump_out << (l.external ? fs::path(l.path).filename().string() : l.path) << ":" << l.line << " ";
      dump_out << "\t" << ours->reason << "\n";
    }
    rows.push_back(std::move(r));
  }

  auto share = [](std::size_t a, std::size_t b) { return b ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  std::size_t agree = 0, any_agree = 0, inside = 0, inside_agree = 0, inside_any = 0, both_empty = 0, external = 0;
  std::map<std::string, std::size_t> classes, rules, rules_agree, inside_classes;
  std::vector<double> ms, ms_first, ms_repeat;
  for (const auto& r : rows) {
    agree += r.agree;
    any_agree += r.any_agree;
    both_empty += r.pyright_empty && r.ours_empty;
    external += !r.pyright_inside && !r.pyright_empty;
    if (r.pyright_inside) {
      ++inside;
      inside_agree += r.agree;
      inside_any += r.any_agree;
      if (!r.agree) ++inside_classes[r.klass];
    }
    if (!r.agree) ++classes[r.klass];
    ++rules[r.rule];
    rules_agree[r.rule] += r.agree;
    ms.push_back(r.ms);
    (r.first_in_file ? ms_first : ms_repeat).push_back(r.ms);
  }
  std::printf("Server: %s %s. Corpus: %zu .py files; index built in %.0f ms (%zu definitions). "
              "Sampled %zu identifier positions (seed %u) from %zu files; %zu answered by both.\n\n",
              server->name.c_str(), server->version.c_str(), files.size(), build_ms, index.definition_count(),
              all.size(), seed, pool.size(), rows.size());
  std::printf("| agreement with Pyright (first fallback target = a Pyright location, file + line) | positions | agree | %% |\n|---|---|---|---|\n");
  std::printf("| all positions (both empty counts as agreement) | %zu | %zu | %.1f |\n", rows.size(), agree, share(agree, rows.size()));
  std::printf("| Pyright's answer is inside the segment | %zu | %zu | %.1f |\n", inside, inside_agree, share(inside_agree, inside));
  std::printf("| ... any fallback target matches (not only the first) | %zu | %zu | %.1f |\n", inside, inside_any, share(inside_any, inside));
  std::printf("| Pyright's answer is outside the segment (typeshed, builtins) | %zu | - | - |\n", external);
  std::printf("| both empty | %zu | - | - |\n\n", both_empty);
  std::printf("| fallback rule | positions | agree | %% |\n|---|---|---|---|\n");
  for (const auto& [rule, n] : rules) std::printf("| %s | %zu | %zu | %.1f |\n", rule.c_str(), n, rules_agree[rule], share(rules_agree[rule], n));
  std::printf("\n| disagreement class (all positions) | count |\n|---|---|\n");
  std::vector<std::pair<std::size_t, std::string>> sorted;
  for (const auto& [k, n] : classes) sorted.emplace_back(n, k);
  std::sort(sorted.rbegin(), sorted.rend());
  for (const auto& [n, k] : sorted) std::printf("| %s | %zu |\n", k.c_str(), n);
  std::printf("\n| disagreement class (Pyright inside the segment) | count |\n|---|---|\n");
  sorted.clear();
  for (const auto& [k, n] : inside_classes) sorted.emplace_back(n, k);
  std::sort(sorted.rbegin(), sorted.rend());
  for (const auto& [n, k] : sorted) std::printf("| %s | %zu |\n", k.c_str(), n);
  std::printf("\n| fallback latency (one thread, `navigation::definition`, in sampling order) | n | median ms | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
  auto lat = [&](const char* what, const std::vector<double>& v) {
    std::printf("| %s | %zu | %.3f | %.3f | %.3f | %.3f |\n", what, v.size(), pct(v, 50), pct(v, 90), pct(v, 99),
                v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
  };
  lat("all", ms);
  lat("first question about a file", ms_first);
  lat("later questions (random order over the files: the 8-tree cache mostly misses)", ms_repeat);
  // The same questions again, grouped by file: what a worker sees when an agent asks several
  // things about one file (the thread's tree cache hits after the first).
  std::vector<const Sample*> by_file;
  for (const auto& s : all) by_file.push_back(&s);
  std::stable_sort(by_file.begin(), by_file.end(), [](const Sample* a, const Sample* b) { return a->file < b->file; });
  std::vector<double> grouped;
  for (const Sample* s : by_file) {
    Stopwatch sw;
    auto r = navigation::definition(source, index, s->file, texts[s->file], s->pos);
    grouped.push_back(sw.elapsed_ms());
    if (!r) return 1;
  }
  lat("same questions grouped by file (cache warm after each file's first)", grouped);
  std::vector<const Row*> slow;
  for (const auto& r : rows) slow.push_back(&r);
  std::sort(slow.begin(), slow.end(), [](const Row* a, const Row* b) { return a->ms > b->ms; });
  std::printf("\nSlowest: ");
  for (std::size_t i = 0; i < std::min<std::size_t>(3, slow.size()); ++i)
    std::printf("%s%s (%s, %s, %.1f ms)", i ? "; " : "", slow[i]->where.c_str(), slow[i]->rule.c_str(),
                slow[i]->first_in_file ? "first in file" : "repeat", slow[i]->ms);
  std::printf(".\n");

  std::promise<void> stopped;
  client->stop([&stopped] { stopped.set_value(); });
  stopped.get_future().get();
  client.reset();
  guard.reset();
  io.stop();
  io_thread.join();
  return 0;
}
