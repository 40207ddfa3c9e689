// telemetry/export.cpp — `trifecta telemetry export`: one flat row per event, CSV (RFC 4180) or
// JSONL, streamed line by line. The columns are kExportColumns; docs/telemetry.md documents each
// (tests check that the two agree).
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <cmath>
#include <cstdio>
#include <optional>

#include "telemetry/report.hpp"
#include "util/json_text.hpp"

namespace trifecta::core::telemetry {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

const json::value* at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}
const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = at(o, key);
  return v && v->is_object() ? v->get_object() : kEmpty;
}
// The first of the (object, key) places that holds a scalar.
const json::value* first(
    std::initializer_list<std::pair<const json::object*, std::string_view>> places) {
  for (const auto& [o, k] : places) {
    const json::value* v = at(*o, k);
    if (v && !v->is_null() && !v->is_object() && !v->is_array()) return v;
  }
  return nullptr;
}

}  // namespace

Result<std::uint64_t> export_events(const std::vector<fs::path>& files, ExportFormat format,
                                    std::int64_t since_us, std::FILE* out) {
  std::uint64_t rows = 0;
  if (format == ExportFormat::kCsv) {
    std::string head;
    for (std::size_t i = 0; i < std::size(kExportColumns); ++i)
      head += (i ? "," : "") + std::string(kExportColumns[i]);
    head += "\r\n";
    std::fwrite(head.data(), 1, head.size(), out);
  }
  json::parser parser;
  std::vector<const json::value*> cells(std::size(kExportColumns));
  std::string line_out;
  for (const auto& file : files) {
    auto ok = for_each_line(file, [&](std::string_view line) {
      unsigned char buf[16384];
      json::monotonic_resource mr(buf, sizeof buf);  // per line: a stack buffer, heap past it
      parser.reset(json::storage_ptr(&mr));
      boost::system::error_code ec;
      parser.write(line.data(), line.size(), ec);
      if (ec) {
        return;
      }
      json::value v = parser.release();
      if (!v.is_object()) {
        v = nullptr;
        return;
      }
      const json::object& e = v.get_object();
      const json::value* ts = at(e, "ts");
      std::optional<std::int64_t> ts_us;
      if (ts && ts->is_string()) ts_us = parse_ts_us(ts->get_string());
      const json::value* cmd = at(e, "cmd");
      if (!ts_us || !cmd || !cmd->is_string() || (since_us && *ts_us < since_us)) {
        v = nullptr;
        return;
      }
      const json::object& args = obj(e, "args");
      const json::object& result = obj(e, "result");
      const json::object& x = obj(e, "x");
      const json::object& tokens = obj(e, "tokens");
      const json::value* file_cell = first({{&args, "file"}, {&args, "path"}});
      const json::value* bytes_read = first(
          {{&x, "bytes_read"},
           {&result, std::string_view(at(e, "cmd")->get_string()) == "file.read" ? "bytes" : ""}});
      cells = {ts,
               at(e, "run_id"),
               at(e, "segment_id"),
               cmd,
               at(e, "timing_ms"),
               first({{&result, "status"}}),
               first({{&result, "error"}}),
               first({{&tokens, "in"}}),
               first({{&tokens, "out"}}),
               first({{&x, "bytes_in"}}),
               first({{&x, "bytes_out"}}),
               bytes_read,
               first({{&args, "mode"}, {&x, "disclosure_mode"}}),
               file_cell,
               first({{&result, "backend"}}),
               first({{&x, "lsp_state"}, {&result, "lsp_state"}}),
               first({{&x, "cache_hit"}}),
               first({{&result, "from_state"}}),
               first({{&result, "to_state"}}),
               first({{&result, "reason"}}),
               nullptr};
      const json::value* warnings = at(e, "warnings");
      const std::size_t nwarn = warnings && warnings->is_array() ? warnings->get_array().size() : 0;
      line_out.clear();
      if (format == ExportFormat::kCsv) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
          if (i) line_out += ',';
          if (i + 1 == cells.size()) {
            line_out += std::to_string(nwarn);
          } else if (const json::value* c = cells[i]) {
            if (c->is_string())
              line_out += csv_field(c->get_string());
            else if (c->is_bool())
              line_out += c->get_bool() ? "true" : "false";
            else
              core::append_json(line_out, *c);
          }
        }
        line_out += "\r\n";
      } else {
        json::object row;
        for (std::size_t i = 0; i + 1 < cells.size(); ++i)
          row[kExportColumns[i]] = cells[i] ? *cells[i] : json::value(nullptr);
        row["warnings"] = nwarn;
        core::append_json(line_out, row);
        line_out += '\n';
      }
      std::fwrite(line_out.data(), 1, line_out.size(), out);
      ++rows;
      v = nullptr;
    });
    if (!ok) return ok.error();
  }
  if (std::fflush(out) != 0 || std::ferror(out))
    return make_error(Errc::kIo, "cannot write the export");
  return rows;
}

}  // namespace trifecta::core::telemetry
