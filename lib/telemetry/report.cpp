// telemetry/report.cpp — the streaming aggregation behind `trifecta telemetry report` (see
// report.hpp for what is counted and how memory stays bounded).
#include "telemetry/report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

namespace trifecta::core::telemetry {

namespace json = boost::json;
namespace fs = std::filesystem;

// ---- time ----------------------------------------------------------------------------------

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_ts_us(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::size_t p = 19;
  std::int64_t frac_us = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int n = 0;
    std::int64_t scale = 100000;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (n < 6) frac_us += (s[p] - '0') * scale;
      scale /= 10;
      ++n;
      ++p;
    }
    if (n == 0 || n > 9) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, p + 1, 2, oh) || p + 3 >= s.size() || s[p + 3] != ':' ||
        !digits(s, p + 4, 2, om))
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
    p += 6;
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  const std::int64_t secs =
      days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
      mi * 60 + se - offset_s;
  return secs * 1000000 + frac_us;
}

std::string format_ts_us(std::int64_t us) {
  std::int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  std::int64_t rem = secs - days * 86400;
  // civil_from_days
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem % 3600 / 60), static_cast<long long>(rem % 60));
  return buf;
}

std::optional<double> parse_duration_s(std::string_view t) {
  if (t.empty()) return std::nullopt;
  double total = 0;
  std::size_t p = 0;
  while (p < t.size()) {
    std::size_t q = p;
    double v = 0;
    bool any = false;
    while (q < t.size() && t[q] >= '0' && t[q] <= '9') {
      v = v * 10 + (t[q] - '0');
      ++q;
      any = true;
    }
    if (!any || q >= t.size()) return std::nullopt;
    switch (t[q]) {
      case 's':
        total += v;
        break;
      case 'm':
        total += v * 60;
        break;
      case 'h':
        total += v * 3600;
        break;
      case 'd':
        total += v * 86400;
        break;
      case 'w':
        total += v * 7 * 86400;
        break;
      default:
        return std::nullopt;
    }
    p = q + 1;
  }
  if (total <= 0) return std::nullopt;
  return total;
}

// ---- latency sketch ------------------------------------------------------------------------

int LatencySketch::bucket_of(double ms) {
  if (!(ms >= kMinMs)) return 0;
  const int b = 1 + static_cast<int>(std::floor(std::log2(ms / kMinMs) * kBucketsPerOctave));
  return std::min(b, kBuckets - 1);
}

double LatencySketch::bucket_value(int b) {
  if (b == 0) return 0;
  // Bucket b covers [kMinMs * 2^((b-1)/64), kMinMs * 2^(b/64)): its geometric midpoint.
  return kMinMs * std::exp2((b - 0.5) / kBucketsPerOctave);
}

void LatencySketch::add(double ms) {
  if (!(ms >= 0)) ms = 0;  // NaN or negative: not a duration
  ++count_;
  sum_ += ms;
  max_ = std::max(max_, ms);
  if (buckets_.empty() && exact_.size() < kExactSamples) {
    exact_.push_back(ms);
    return;
  }
  if (buckets_.empty()) {
    buckets_.assign(kBuckets, 0);
    for (double v : exact_) ++buckets_[static_cast<std::size_t>(bucket_of(v))];
  }
  ++buckets_[static_cast<std::size_t>(bucket_of(ms))];
}

double LatencySketch::percentile(double p) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(
      std::max<double>(1, std::ceil(p / 100.0 * static_cast<double>(count_))));
  if (buckets_.empty()) {
    std::vector<double> v = exact_;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
    return v[rank - 1];
  }
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[static_cast<std::size_t>(b)];
    if (seen >= rank) return std::min(bucket_value(b), max_);
  }
  return max_;
}

std::vector<std::uint64_t> LatencySketch::histogram(std::size_t bins, double hi) const {
  std::vector<std::uint64_t> h(bins, 0);
  if (bins == 0 || count_ == 0) return h;
  auto put = [&](double v, std::uint64_t n) {
    std::size_t i = hi > 0 ? static_cast<std::size_t>(v / hi * static_cast<double>(bins)) : 0;
    h[std::min(i, bins - 1)] += n;
  };
  if (buckets_.empty()) {
    for (double v : exact_) put(v, 1);
  } else {
    for (int b = 0; b < kBuckets; ++b)
      if (buckets_[static_cast<std::size_t>(b)])
        put(bucket_value(b), buckets_[static_cast<std::size_t>(b)]);
  }
  return h;
}

// ---- aggregation ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxProblems = 20;
constexpr std::int64_t kBaseBinUs = 1000000;  // 1 s; doubled as the span grows
constexpr std::string_view kOther = "(other)";

std::string_view str_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}
double num_at(const json::object& o, std::string_view key, double dflt = 0) {
  auto it = o.find(key);
  if (it == o.end()) return dflt;
  const auto& v = it->value();
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return dflt;
}
const json::object* obj_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
bool is_position_method(std::string_view cmd) {
  return cmd == "lsp.definition" || cmd == "lsp.hover" || cmd == "lsp.references" ||
         cmd == "lsp.diagnostics";
}
std::uint64_t tokens_of(double bytes) {
  return bytes > 0 ? static_cast<std::uint64_t>((static_cast<std::uint64_t>(bytes) + 3) / 4) : 0;
}

}  // namespace

struct Aggregator::Impl {
  ReportOptions opts;
  Report r;
  struct Cmd {
    LatencySketch lat;
    std::uint64_t errors = 0;
    std::vector<TimeBin> bins = std::vector<TimeBin>(Report::kTimeBins);
  };
  std::unordered_map<std::string, Cmd> cmds;
  std::int64_t bin_start = 0, bin_width = 0;                // 0 width: no timed event yet
  std::set<std::pair<std::string, std::string>> spawned;    // (run_id, segment_id)
  std::unordered_map<std::string, std::size_t> open_start;  // segment_id -> index in starts
  std::set<std::string> runs;
  std::string last_run;

  // Room for `us` on the time axis: double the bin width until it fits.
  void fit(std::int64_t us) {
    if (bin_width == 0) {
      bin_width = kBaseBinUs;
      bin_start = floor_div(us, bin_width) * bin_width;
      return;
    }
    const auto n = static_cast<std::int64_t>(Report::kTimeBins);
    while (us < bin_start || us >= bin_start + n * bin_width) {
      const std::int64_t w2 = bin_width * 2;
      // Aligned to the new width; when `us` lies before the axis, strictly before the old start
      // (the new span, 2n old bins long, still covers the old one).
      const std::int64_t s2 = floor_div(us < bin_start ? bin_start - 1 : bin_start, w2) * w2;
      for (auto& [name, c] : cmds) {
        std::vector<TimeBin> nb(Report::kTimeBins);
        for (std::size_t i = 0; i < c.bins.size(); ++i) {
          const std::int64_t at = bin_start + static_cast<std::int64_t>(i) * bin_width;
          const auto j = static_cast<std::size_t>((at - s2) / w2);
          if (j >= nb.size()) continue;  // cannot happen: the new span covers the old
          nb[j].count += c.bins[i].count;
          nb[j].sum_ms += c.bins[i].sum_ms;
          nb[j].max_ms = std::max(nb[j].max_ms, c.bins[i].max_ms);
        }
        c.bins.swap(nb);
      }
      bin_start = s2;
      bin_width = w2;
    }
  }

  void problem(const std::string& what) {
    if (r.problems.size() < kMaxProblems) r.problems.push_back(what);
  }

  void event(const json::object& e, std::int64_t ts) {
    ++r.events;
    if (r.first_us == 0 || ts < r.first_us) r.first_us = ts;
    if (ts > r.last_us) r.last_us = ts;
    const std::string_view run = str_at(e, "run_id");
    if (run != last_run) {  // runs change rarely: skip the set for the common case
      last_run.assign(run);
      if (runs.size() < 100 && runs.insert(last_run).second) r.runs.push_back(last_run);
    }

    std::string_view cmd = str_at(e, "cmd");
    const double ms = num_at(e, "timing_ms");
    const json::object* result = obj_at(e, "result");
    const json::object* args = obj_at(e, "args");
    const json::object* x = obj_at(e, "x");
    static const json::object kEmpty;
    if (!result) result = &kEmpty;
    if (!args) args = &kEmpty;
    if (!x) x = &kEmpty;

    // Per command.
    auto it = cmds.find(std::string(cmd));
    if (it == cmds.end()) {
      const std::string name =
          cmds.size() < Report::kMaxCommands ? std::string(cmd) : std::string(kOther);
      it = cmds.try_emplace(name).first;
    }
    Cmd& c = it->second;
    c.lat.add(ms);
    const std::string_view status = str_at(*result, "status");
    const bool error = status == "error" || status == "failed" || result->contains("error");
    if (error) ++c.errors;
    fit(ts);
    TimeBin& b = c.bins[static_cast<std::size_t>((ts - bin_start) / bin_width)];
    ++b.count;
    b.sum_ms += ms;
    b.max_ms = std::max(b.max_ms, ms);

    const std::string_view seg = str_at(e, "segment_id");
    if (cmd == "lsp.spawn") {
      ++r.lsp.spawns;
      if (!spawned.emplace(std::string(run), std::string(seg)).second) ++r.lsp.restarts;
    } else if (cmd == "lsp.state_change") {
      const std::string_view to = str_at(*result, "to_state");
      ++r.lsp.transitions;
      if (r.lsp.timeline.size() < Report::kMaxTransitions) {
        r.lsp.timeline.push_back({ts, std::string(seg), std::string(str_at(*result, "from_state")),
                                  std::string(to), std::string(str_at(*result, "reason")), ms});
      }
      const std::string key = std::string(run) + "/" + std::string(seg);
      auto open = open_start.find(key);
      if (to == "WARMING") {
        if (r.lsp.starts.size() < Report::kMaxTransitions) {
          open_start[key] = r.lsp.starts.size();
          r.lsp.starts.push_back({ts, std::string(seg), -1, "WARMING"});
        }
      } else if (open != open_start.end()) {
        LspStart& s = r.lsp.starts[open->second];
        s.outcome = std::string(to);
        if (to == "READY") s.ready_ms = ms > 0 ? ms : static_cast<double>(ts - s.ts_us) / 1000.0;
        open_start.erase(open);
      }
      if (to == "READY") ++r.lsp.ready;
      if (to == "FAILED") ++r.lsp.failed;
    } else if (is_position_method(cmd)) {
      const std::string_view backend = str_at(*result, "backend");
      if (!backend.empty()) {
        ++r.lsp.requests;
        if (backend == "ast")
          ++r.lsp.fallbacks;
        else if (backend == "lsp")
          ++r.lsp.lsp_answers;
        else
          ++r.lsp.merges;
        const std::string_view outcome = str_at(*result, "lsp_outcome");
        if (outcome == "empty") ++r.lsp.lsp_empty;
        if (outcome == "external") ++r.lsp.lsp_external;
        if (outcome == "unknown") ++r.lsp.lsp_unknown;
      }
    } else if (cmd == "ast.parse") {
      ++r.ast.parses;
      auto h = x->find("cache_hit");
      if (h != x->end() && h->value().is_bool() && h->value().get_bool())
        ++r.ast.hits;
      else
        ++r.ast.misses;
    } else if (cmd == "ctx.get") {
      std::string_view mode = str_at(*args, "mode");
      if (mode.empty()) mode = "excerpt";
      ModeStats& m = r.modes[std::string(mode)];
      ++m.answers;
      m.tokens_served += tokens_of(num_at(*x, "bytes_out"));
    } else if (cmd == "file.read") {
      std::string_view mode = str_at(*args, "mode");
      if (mode.empty()) mode = str_at(*x, "disclosure_mode");
      if (mode.empty()) mode = "raw";
      ModeStats& m = r.modes[std::string(mode)];
      const double bytes = num_at(*result, "bytes");
      ++m.files_read;
      m.bytes_read += static_cast<std::uint64_t>(std::max(0.0, bytes));
      m.raw_tokens += tokens_of(bytes);
    }
  }

  json::parser parser;
  std::size_t line_no = 0;

  void line(std::string_view text) {
    ++line_no;
    ++r.lines;
    unsigned char buf[16384];
    json::monotonic_resource mr(buf, sizeof buf);  // per line: a stack buffer, heap past it
    parser.reset(json::storage_ptr(&mr));
    boost::system::error_code ec;
    parser.write(text.data(), text.size(), ec);
    if (ec) {
      ++r.invalid_lines;
      problem("line " + std::to_string(line_no) + ": not JSON: " + ec.message());
      return;
    }
    json::value v = parser.release();
    if (!v.is_object()) {
      ++r.invalid_lines;
      problem("line " + std::to_string(line_no) + ": not a JSON object");
      return;
    }
    const auto& o = v.get_object();
    std::optional<std::int64_t> ts;
    if (auto t = o.find("ts"); t != o.end() && t->value().is_string())
      ts = parse_ts_us(t->value().get_string());
    const auto c = o.find("cmd");
    if (!ts || c == o.end() || !c->value().is_string()) {
      ++r.invalid_lines;
      problem("line " + std::to_string(line_no) +
              (!ts ? ": missing or malformed 'ts'" : ": missing or malformed 'cmd'"));
    } else if (opts.since_us && *ts < opts.since_us) {
      ++r.before_since;
    } else {
      event(o, *ts);
    }
    v = nullptr;
  }
};

Aggregator::Aggregator(ReportOptions options) : impl_(new Impl) {
  impl_->opts = options;
  impl_->r.since_us = options.since_us;
  for (const char* m : {"skeleton", "excerpt", "raw"}) impl_->r.modes[m];
}
Aggregator::~Aggregator() {
  delete impl_;
}

void Aggregator::add_line(std::string_view line) {
  impl_->line(line);
}

Result<bool> for_each_line(const fs::path& file, const std::function<void(std::string_view)>& fn) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(Errc::kNotFound, "no events file: " + file.string());
    return make_error(Errc::kIo, "cannot read " + file.string() + ": " + std::strerror(errno));
  }
  std::vector<char> buf(1 << 20);
  std::string carry;  // a line split across reads
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error(Errc::kIo, "cannot read " + file.string() + ": " + std::strerror(err));
    }
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        carry.append(chunk);
        break;
      }
      if (carry.empty()) {
        fn(chunk.substr(0, nl));
      } else {
        carry.append(chunk.substr(0, nl));
        fn(carry);
        carry.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  ::close(fd);
  return !carry.empty();
}

Result<void> Aggregator::add_events_file(const fs::path& file) {
  impl_->line_no = 0;
  auto torn = for_each_line(file, [this](std::string_view line) { impl_->line(line); });
  if (!torn) return torn.error();
  impl_->r.files.push_back(file.string());
  if (*torn) {
    ++impl_->r.torn_tails;
    impl_->problem(file.filename().string() + ": torn last line (no newline), skipped");
  }
  return {};
}

void Aggregator::add_last_run(const json::object& doc) {
  if (const json::object* a = obj_at(doc, "ast")) {
    impl_->r.ast.run_parses += static_cast<std::uint64_t>(num_at(*a, "ast_parse_count"));
    impl_->r.ast.run_hits += static_cast<std::uint64_t>(num_at(*a, "ast_cache_hit_count"));
  }
  const json::object* d = obj_at(doc, "telemetry_drops");
  if (!d) return;
  auto& t = impl_->r.telemetry;
  ++t.last_run_files;
  t.attempted += static_cast<std::uint64_t>(num_at(*d, "attempted"));
  t.dropped += static_cast<std::uint64_t>(num_at(*d, "dropped"));
  t.write_errors += static_cast<std::uint64_t>(num_at(*d, "write_errors"));
}

void Aggregator::add_last_run_file(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return;
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (64u << 20))
    text.append(buf, n);
  std::fclose(f);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    impl_->problem(file.filename().string() + ": not a JSON object, its counters are not used");
    return;
  }
  add_last_run(v.get_object());
}

Report Aggregator::finish() const {
  Report r = impl_->r;
  for (const auto& [name, c] : impl_->cmds) {
    CommandStats s;
    s.cmd = name;
    s.count = c.lat.count();
    s.errors = c.errors;
    s.p50_ms = c.lat.percentile(50);
    s.p95_ms = c.lat.percentile(95);
    s.max_ms = c.lat.max();
    s.mean_ms = s.count ? c.lat.sum() / static_cast<double>(s.count) : 0;
    s.exact = c.lat.exact();
    // Histogram range: up to the p95's next "nice" ceiling (the tail beyond lands in the last bin).
    double hi = std::max(s.p95_ms * 1.25, 0.001);
    const double mag = std::pow(10.0, std::floor(std::log10(hi)));
    for (double step : {1.0, 2.0, 2.5, 5.0, 10.0})
      if (step * mag >= hi) {
        hi = step * mag;
        break;
      }
    s.hist_hi_ms = hi;
    s.hist = c.lat.histogram(Report::kHistBins, hi);
    s.over_time = c.bins;
    r.commands.push_back(std::move(s));
  }
  std::sort(r.commands.begin(), r.commands.end(), [](const auto& a, const auto& b) {
    return a.count != b.count ? a.count > b.count : a.cmd < b.cmd;
  });
  r.bin_start_us = impl_->bin_start;
  r.bin_width_us = impl_->bin_width;
  auto ratio = [](std::uint64_t a, std::uint64_t b) {
    return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
  };
  r.lsp.ready_rate = ratio(r.lsp.ready, r.lsp.spawns);
  r.lsp.fallback_rate = ratio(r.lsp.fallbacks, r.lsp.requests);
  r.lsp.merge_rate = ratio(r.lsp.merges, r.lsp.requests);
  r.ast.hit_rate = ratio(r.ast.hits, r.ast.parses);
  r.ast.run_hit_rate = ratio(r.ast.run_hits, r.ast.run_parses);
  r.telemetry.drop_rate =
      ratio(r.telemetry.dropped, std::max<std::uint64_t>(r.telemetry.attempted, 1));
  return r;
}

Result<Report> build_report(const std::vector<fs::path>& sources, ReportOptions options) {
  Aggregator agg(options);
  for (const auto& src : sources) {
    std::error_code ec;
    if (fs::is_directory(src, ec)) {
      if (auto ok = agg.add_events_file(src / "events.jsonl"); !ok) return ok.error();
      agg.add_last_run_file(src / "last_run.json");
    } else {
      if (auto ok = agg.add_events_file(src); !ok) return ok.error();
      agg.add_last_run_file(src.parent_path() / "last_run.json");
    }
  }
  return agg.finish();
}

// ---- JSON ----------------------------------------------------------------------------------

namespace {
double r3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}
}  // namespace

json::object report_to_json(const Report& r) {
  json::object o;
  json::object src;
  json::array files;
  for (const auto& f : r.files) files.emplace_back(f);
  src["files"] = std::move(files);
  src["lines"] = r.lines;
  src["events"] = r.events;
  src["invalid_lines"] = r.invalid_lines;
  src["torn_tails"] = r.torn_tails;
  src["before_since"] = r.before_since;
  src["first_ts"] = r.first_us ? json::value(format_ts_us(r.first_us)) : json::value(nullptr);
  src["last_ts"] = r.last_us ? json::value(format_ts_us(r.last_us)) : json::value(nullptr);
  src["since"] = r.since_us ? json::value(format_ts_us(r.since_us)) : json::value(nullptr);
  json::array runs;
  for (const auto& x : r.runs) runs.emplace_back(x);
  src["runs"] = std::move(runs);
  json::array problems;
  for (const auto& p : r.problems) problems.emplace_back(p);
  src["problems"] = std::move(problems);
  o["source"] = std::move(src);

  json::array cmds;
  for (const auto& c : r.commands) {
    cmds.push_back(json::object{{"cmd", c.cmd},
                                {"count", c.count},
                                {"errors", c.errors},
                                {"p50_ms", r3(c.p50_ms)},
                                {"p95_ms", r3(c.p95_ms)},
                                {"max_ms", r3(c.max_ms)},
                                {"mean_ms", r3(c.mean_ms)},
                                {"exact_percentiles", c.exact}});
  }
  o["commands"] = std::move(cmds);

  json::array starts;
  for (const auto& s : r.lsp.starts) {
    starts.push_back(json::object{
        {"ts", format_ts_us(s.ts_us)},
        {"segment_id", s.segment_id},
        {"time_to_ready_ms", s.ready_ms >= 0 ? json::value(r3(s.ready_ms)) : json::value(nullptr)},
        {"outcome", s.outcome}});
  }
  json::array timeline;
  for (const auto& t : r.lsp.timeline) {
    timeline.push_back(json::object{{"ts", format_ts_us(t.ts_us)},
                                    {"segment_id", t.segment_id},
                                    {"from", t.from},
                                    {"to", t.to},
                                    {"reason", t.reason},
                                    {"timing_ms", r3(t.timing_ms)}});
  }
  o["lsp"] = json::object{{"spawns", r.lsp.spawns},
                          {"restarts", r.lsp.restarts},
                          {"ready", r.lsp.ready},
                          {"failed", r.lsp.failed},
                          {"ready_rate", r3(r.lsp.ready_rate)},
                          {"position_requests", r.lsp.requests},
                          {"lsp_answers", r.lsp.lsp_answers},
                          {"fallbacks", r.lsp.fallbacks},
                          {"fallback_rate", r3(r.lsp.fallback_rate)},
                          {"merges", r.lsp.merges},
                          {"merge_rate", r3(r.lsp.merge_rate)},
                          {"lsp_empty", r.lsp.lsp_empty},
                          {"lsp_external", r.lsp.lsp_external},
                          {"lsp_unknown", r.lsp.lsp_unknown},
                          {"starts", std::move(starts)},
                          {"transitions", r.lsp.transitions},
                          {"timeline", std::move(timeline)}};
  o["ast"] = json::object{{"parses", r.ast.parses},
                          {"cache_hits", r.ast.hits},
                          {"cache_misses", r.ast.misses},
                          {"cache_hit_rate", r3(r.ast.hit_rate)},
                          {"run_parses", r.ast.run_parses},
                          {"run_cache_hits", r.ast.run_hits},
                          {"run_cache_hit_rate", r3(r.ast.run_hit_rate)}};
  json::object modes;
  for (const auto& [name, m] : r.modes) {
    modes[name] = json::object{{"answers", m.answers},       {"files_read", m.files_read},
                               {"bytes_read", m.bytes_read}, {"tokens_served", m.tokens_served},
                               {"raw_tokens", m.raw_tokens}, {"saved_tokens", m.saved()}};
  }
  o["disclosure"] = std::move(modes);
  o["telemetry"] =
      json::object{{"attempted", r.telemetry.attempted},
                   {"dropped", r.telemetry.dropped},
                   {"write_errors", r.telemetry.write_errors},
                   {"drop_rate", std::round(r.telemetry.drop_rate * 10000.0) / 10000.0},
                   {"last_run_files", r.telemetry.last_run_files},
                   {"invalid_lines", r.invalid_lines},
                   {"torn_tails", r.torn_tails}};
  return o;
}

// ---- health --------------------------------------------------------------------------------

std::vector<HealthFailure> check_health(const Report& r, const HealthThresholds& t) {
  std::vector<HealthFailure> out;
  char buf[512];
  if (r.events < t.min_events) {
    std::snprintf(buf, sizeof buf, "%llu events read, at least %llu needed",
                  static_cast<unsigned long long>(r.events),
                  static_cast<unsigned long long>(t.min_events));
    out.push_back({"events", buf});
  }
  if (r.telemetry.drop_rate > t.max_drop_rate) {
    std::snprintf(buf, sizeof buf, "drop rate %.4f (%llu of %llu events dropped) > %.4f",
                  r.telemetry.drop_rate, static_cast<unsigned long long>(r.telemetry.dropped),
                  static_cast<unsigned long long>(r.telemetry.attempted), t.max_drop_rate);
    out.push_back({"drop_rate", buf});
  }
  if (r.telemetry.write_errors > t.max_write_errors) {
    std::snprintf(buf, sizeof buf, "%llu telemetry write errors > %llu",
                  static_cast<unsigned long long>(r.telemetry.write_errors),
                  static_cast<unsigned long long>(t.max_write_errors));
    out.push_back({"write_errors", buf});
  }
  if (r.lsp.spawns > 0) {
    const double rate = static_cast<double>(r.lsp.failed) / static_cast<double>(r.lsp.spawns);
    if (rate > t.max_lsp_failure_rate) {
      std::snprintf(buf, sizeof buf, "LSP failure rate %.3f (%llu FAILED of %llu spawns) > %.3f",
                    rate, static_cast<unsigned long long>(r.lsp.failed),
                    static_cast<unsigned long long>(r.lsp.spawns), t.max_lsp_failure_rate);
      out.push_back({"lsp_failure_rate", buf});
    }
  }
  std::uint64_t events = 0, errors = 0;
  for (const auto& c : r.commands) {
    events += c.count;
    errors += c.errors;
  }
  if (events > 0) {
    const double rate = static_cast<double>(errors) / static_cast<double>(events);
    if (rate > t.max_error_rate) {
      std::snprintf(buf, sizeof buf, "error rate %.4f (%llu of %llu events) > %.4f", rate,
                    static_cast<unsigned long long>(errors),
                    static_cast<unsigned long long>(events), t.max_error_rate);
      out.push_back({"error_rate", buf});
    }
  }
  for (const auto& c : r.commands) {
    auto own = t.p95_ms.find(c.cmd);
    const double ceiling = own != t.p95_ms.end() ? own->second : t.max_p95_ms;
    // lsp.state_change's timing is the time spent in a state, not a latency.
    if (own == t.p95_ms.end() && (c.cmd == "lsp.state_change" || c.cmd == "lsp.stop")) continue;
    if (c.p95_ms > ceiling) {
      std::snprintf(buf, sizeof buf, "%s p95 %.3f ms > %.3f ms (%llu events)", c.cmd.c_str(),
                    c.p95_ms, ceiling, static_cast<unsigned long long>(c.count));
      out.push_back({"p95:" + c.cmd, buf});
    }
  }
  return out;
}

}  // namespace trifecta::core::telemetry
