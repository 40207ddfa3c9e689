#include "telemetry/reader.hpp"

#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>

#include "telemetry/event.hpp"

namespace trifecta::core::telemetry {
namespace {

constexpr std::size_t kMaxProblems = 20;
constexpr std::string_view kCore[] = {"ts",     "run_id",    "segment_id", "cmd",      "args",
                                      "result", "timing_ms", "tokens",     "warnings", "x"};

void problem(EventsReport& r, std::size_t line_no, const std::string& what) {
  if (r.problems.size() < kMaxProblems) r.problems.push_back("line " + std::to_string(line_no) + ": " + what);
}

}  // namespace

EventsReport parse_events(std::string_view text) {
  EventsReport r;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    ++line_no;
    if (nl == std::string_view::npos) {
      r.torn_tail = true;
      problem(r, line_no, "torn last line (no newline), skipped");
      break;
    }
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++r.lines;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) {
      ++r.invalid_lines;
      problem(r, line_no, ec ? "not JSON: " + ec.message() : std::string("not a JSON object"));
      continue;
    }
    auto& o = v.get_object();
    bool ok = true;
    for (auto k : kCore) {
      if (!o.contains(k)) {
        ok = false;
        problem(r, line_no, "missing key '" + std::string(k) + "'");
        break;
      }
    }
    if (ok && !(o.at("cmd").is_string() && o.at("timing_ms").is_number() && o.at("args").is_object() &&
                o.at("result").is_object() && o.at("x").is_object() && o.at("warnings").is_array())) {
      ok = false;
      problem(r, line_no, "core key has the wrong type");
    }
    if (!ok) {
      ++r.invalid_lines;
      continue;
    }
    r.events.push_back(std::move(o));
  }
  return r;
}

Result<EventsReport> read_events(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return make_error(Errc::kNotFound, "no events file: " + file.string());
    return make_error(Errc::kIo, "cannot read " + file.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_events(ss.str());
}

}  // namespace trifecta::core::telemetry
