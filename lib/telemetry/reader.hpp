// telemetry/reader.hpp — reading and validating events.jsonl.
//
// The reader tolerates everything a crash or a full disk can leave behind: a last line without its
// newline (torn tail) is skipped and reported, never parsed as if complete; any other line that is
// not a JSON object with all core keys is counted as invalid and described in `problems` (capped),
// and reading continues. It never throws on file content; a missing or unreadable file is an Error.
//
// Thread rules: pure function; safe from any thread (reads a snapshot of the file).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::telemetry {

struct EventsReport {
  std::vector<boost::json::object> events;  // valid, complete lines in file order
  std::size_t lines = 0;                    // complete (newline-terminated) lines seen
  std::size_t invalid_lines = 0;            // complete lines that failed validation
  bool torn_tail = false;                   // the file ended inside a line
  std::vector<std::string> problems;        // "line 12: missing key 'cmd'" (first 20)
};

// Validate the text of an events file.
EventsReport parse_events(std::string_view text);
// Read and validate a file. Errors: kNotFound, kIo.
Result<EventsReport> read_events(const std::filesystem::path& file);

}  // namespace trifecta::core::telemetry
