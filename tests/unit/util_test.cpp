// Spec of lib/util: hashing, canonical paths and the safe join, relpath, clocks, Result, JSON text.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>
#include <cmath>
#include <limits>

#include <boost/json.hpp>

#include "util/clock.hpp"
#include "util/hash.hpp"
#include "util/json_text.hpp"
#include "util/paths.hpp"
#include "util/regular_file.hpp"
#include "util/result.hpp"
#include "../support/temp_dir.hpp"

using namespace trifecta::core;

TEST_CASE("sha256 matches the published test vectors", "[hash]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_prefix("abc") == "ba7816bf");
  CHECK(sha256_prefix("abc", 0) == "b");
  CHECK(sha256_prefix("abc", 99).size() == 64);
}

TEST_CASE("sha256 equals libsodium's crypto_hash_sha256 on every length around the padding edges", "[hash]") {
  std::string data;
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 5000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    data.push_back(static_cast<char>(x));
  }
  for (std::size_t n : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 4096u, 5000u}) {
    Sha256 sodium{};
    ensure_sodium();
    crypto_hash_sha256(sodium.data(), reinterpret_cast<const unsigned char*>(data.data()), n);
    INFO("length " << n);
    REQUIRE(sha256(std::string_view(data.data(), n)) == sodium);
  }
}

TEST_CASE("blake2b cache keys are 128-bit, stable and content-sensitive", "[hash]") {
  // BLAKE2b-128 of "" (RFC 7693 parameters, 16-byte digest, no key).
  CHECK(blake2b_hex("") == "cae66941d9efbd404e4d88758ea67670");
  CHECK(blake2b_hex("abc").size() == 32);
  CHECK(blake2b_hex("abc") == blake2b_hex("abc"));
  CHECK(blake2b_hex("abc") != blake2b_hex("abd"));
}

TEST_CASE("segment_id is the first 8 hex chars of sha256 of the canonical path", "[hash]") {
  CHECK(segment_id_of("/workspaces/repo") == sha256_hex("/workspaces/repo").substr(0, 8));
}

TEST_CASE("relpath inside the workspace is relative", "[relpath]") {
  const fs::path root = "/workspaces/trifecta_dope";
  CHECK(relpath(root, "/workspaces/trifecta_dope/src/domain/models.py") == "src/domain/models.py");
  CHECK(relpath(root, "/workspaces/trifecta_dope") == ".");
  CHECK(relpath(root, "src/app.py") == "src/app.py");
  CHECK(relpath(root, "/workspaces/trifecta_dope/a/../b.py") == "b.py");
}

TEST_CASE("relpath outside the workspace is external/<hash8>-<name>", "[relpath]") {
  const fs::path root = "/workspaces/trifecta_dope";
  const std::string r = relpath(root, "/usr/lib/python3.12/typing.py");
  CHECK(r == "external/" + sha256_hex("/usr/lib/python3.12/typing.py").substr(0, 8) + "-typing.py");
  CHECK(r.find("/usr") == std::string::npos);
  // A sibling directory sharing a name prefix is outside too.
  CHECK(relpath(root, "/workspaces/trifecta_dope2/x.py").rfind("external/", 0) == 0);
  // '..' leaving the root is outside.
  CHECK(relpath(root, "/workspaces/trifecta_dope/../etc/passwd").rfind("external/", 0) == 0);
}

TEST_CASE("relpath of same-named external files is unique", "[relpath]") {
  const fs::path root = "/workspaces/trifecta_dope";
  const auto a = relpath(root, "/usr/lib/python3.12/typing.py");
  const auto b = relpath(root, "/opt/python3.12/typing.py");
  CHECK(a != b);
  CHECK(a.ends_with("-typing.py"));
  CHECK(b.ends_with("-typing.py"));
}

TEST_CASE("safe_join refuses every way out of the segment", "[paths]") {
  trifecta::test::TempDir tmp;
  const fs::path root = *canonical_path(tmp.path());
  fs::create_directories(root / "pkg" / "sub");
  std::ofstream(root / "pkg" / "mod.py") << "x = 1\n";
  fs::create_symlink("/etc", root / "out_link");
  fs::create_symlink(root / "pkg", root / "in_link");
  fs::create_symlink("../../..", root / "pkg" / "sub" / "up");

  struct Row {
    const char* input;
    bool ok;
    Errc code;
  };
  const Row rows[] = {
      {"pkg/mod.py", true, Errc::kInternal},
      {"pkg/./mod.py", true, Errc::kInternal},
      {"pkg/sub/../mod.py", true, Errc::kInternal},
      {"new/not_yet.py", true, Errc::kInternal},
      {"in_link/mod.py", true, Errc::kInternal},
      {".", true, Errc::kInternal},
      {"", false, Errc::kInvalidArgument},
      {"../x", false, Errc::kPathEscape},
      {"pkg/../../x", false, Errc::kPathEscape},
      {"../" , false, Errc::kPathEscape},
      {"pkg/../../pkg/mod.py", false, Errc::kPathEscape},  // transient climb is refused too
      {"/etc/passwd", false, Errc::kPathEscape},
      {"out_link/passwd", false, Errc::kPathEscape},
      {"out_link", false, Errc::kPathEscape},
      {"pkg/sub/up/etc", false, Errc::kPathEscape},
  };
  for (const Row& row : rows) {
    INFO("input: '" << row.input << "'");
    auto r = safe_join(root, row.input);
    REQUIRE(r.ok() == row.ok);
    if (row.ok) {
      CHECK(is_within(root, *r));
    } else {
      CHECK(r.error().code == row.code);
      CHECK_FALSE(r.error().message.empty());
    }
  }
  auto nul = safe_join(root, std::string_view("a\0b", 3));
  REQUIRE_FALSE(nul.ok());
  CHECK(nul.error().code == Errc::kInvalidArgument);
}

TEST_CASE("resolve_in_root accepts absolute paths inside the root only", "[paths]") {
  trifecta::test::TempDir tmp;
  const fs::path root = *canonical_path(tmp.path());
  std::ofstream(root / "a.py") << "";
  auto in = resolve_in_root(root, (root / "a.py").string());
  REQUIRE(in.ok());
  CHECK(*in == root / "a.py");
  auto out = resolve_in_root(root, "/etc/passwd");
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == Errc::kPathEscape);
  auto sibling = resolve_in_root(root, root.string() + "x/a.py");
  REQUIRE_FALSE(sibling.ok());
}

TEST_CASE("canonical_path reports missing files as kNotFound", "[paths]") {
  auto r = canonical_path("/definitely/not/here");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::kNotFound);
  CHECK(errc_name(r.error().code) == "NOT_FOUND");
}

TEST_CASE("Stopwatch is monotonic and measures real time", "[clock]") {
  Stopwatch sw;
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const double ms = sw.elapsed_ms();
  CHECK(ms >= 9.0);
  CHECK(ms < 1000.0);
  double prev = 0;
  for (int i = 0; i < 1000; ++i) {
    const double now = sw.elapsed_ms();
    CHECK(now >= prev);
    prev = now;
  }
}

TEST_CASE("iso8601_utc prints UTC with an explicit offset and microseconds", "[clock]") {
  const WallClock::time_point t{std::chrono::microseconds(1'767'225'600'123'456LL)};
  CHECK(iso8601_utc(t) == "2026-01-01T00:00:00.123456+00:00");
}

TEST_CASE("Result carries a value or a typed error", "[result]") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(*good == 42);
  Result<int> bad = make_error(Errc::kTimeout, "too slow");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::kTimeout);
  Result<void> v;
  CHECK(v.ok());
  Result<void> e = make_error(Errc::kIo, "disk");
  CHECK_FALSE(e.ok());
}

// ---- json_text --------------------------------------------------------------------------------

TEST_CASE("json_text prints doubles as short decimals that stay doubles", "[util][json]") {
  using trifecta::core::to_json_text;
  CHECK(to_json_text(boost::json::value(0.609)) == "0.609");
  CHECK(to_json_text(boost::json::value(3.032)) == "3.032");
  CHECK(to_json_text(boost::json::value(3.0)) == "3.0");
  CHECK(to_json_text(boost::json::value(0.0)) == "0.0");
  CHECK(to_json_text(boost::json::value(-2.5)) == "-2.5");
  CHECK(to_json_text(boost::json::value(1e-7)) == "1e-07");
  CHECK(to_json_text(boost::json::value(1e300)) == "1e+300");
  CHECK(to_json_text(boost::json::value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(to_json_text(boost::json::value(std::nan(""))) == "null");
  // Every double comes back as the same double, and as a double.
  for (double d : {0.1, 1.0 / 3.0, 123456.789, 5e-324, 1.7976931348623157e308, -0.0, 42.0}) {
    const auto back = boost::json::parse(to_json_text(boost::json::value(d)));
    REQUIRE(back.is_double());
    CHECK(back.get_double() == d);
  }
}

TEST_CASE("json_text matches Boost.JSON for everything but doubles", "[util][json]") {
  using trifecta::core::to_json_text;
  const auto v = boost::json::parse(
      R"({"a":1,"b":-9223372036854775808,"c":18446744073709551615,"d":[true,false,null,"x"],)"
      R"("e":{"nested":[[],{}]},"s":"quote \" backslash \\ nl \n tab \t cr \r bs \b ff \f ctl \u0001 \u001f",)"
      R"("u":"naïve ✓ 𝄞","slash":"a/b"})");
  CHECK(to_json_text(v) == boost::json::serialize(v));
  CHECK(to_json_text(v.as_object()) == boost::json::serialize(v));
  CHECK(boost::json::parse(to_json_text(v)) == v);
  CHECK(to_json_text(boost::json::value(boost::json::string("\x7f"))) == "\"\x7f\"");
}

TEST_CASE("regular_file: a FIFO, a symlink and a directory are refused at once, a file is read", "[util][regular_file]") {
  trifecta::test::TempDir tmp;
  const fs::path dir = tmp.path();
  { std::ofstream(dir / "f.py") << "x = 1\n"; }
  REQUIRE(::mkfifo((dir / "fifo.py").c_str(), 0600) == 0);
  fs::create_symlink(dir / "f.py", dir / "link.py");
  fs::create_directories(dir / "sub");

  auto ok = read_regular_file(dir / "f.py", "f.py", 1 << 20);
  REQUIRE(ok.ok());
  CHECK(*ok == "x = 1\n");
  // A blocking open() of a FIFO with no writer would never return; this one answers at once.
  auto fifo = read_regular_file(dir / "fifo.py", "fifo.py", 1 << 20);
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().code == Errc::kInvalidArgument);
  CHECK(fifo.error().message == "not a regular file: fifo.py");
  auto link = open_regular_file(dir / "link.py", "link.py");
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().code == Errc::kInvalidArgument);
  CHECK(open_regular_file(dir / "sub", "sub").error().code == Errc::kInvalidArgument);
  CHECK(open_regular_file(dir / "nope.py", "nope.py").error().code == Errc::kNotFound);
  CHECK(read_regular_file(dir / "f.py", "f.py", 3).error().code == Errc::kTooLarge);
  // The descriptor it hands out is blocking again (reads of the regular file behave as usual).
  auto open = open_regular_file(dir / "f.py", "f.py");
  REQUIRE(open.ok());
  CHECK((::fcntl(open->fd(), F_GETFL) & O_NONBLOCK) == 0);
}

TEST_CASE("safe_join takes an escaped name that is not UTF-8 back to the file, literal names first", "[util][paths][names]") {
  trifecta::test::TempDir tmp;
  const fs::path root = fs::canonical(tmp.path());
  { std::ofstream(root / "caf\xE9.py") << "x\n"; }
  { std::ofstream(root / "100%sure.py") << "y\n"; }
  auto escaped = safe_join(root, "caf%E9.py");
  REQUIRE(escaped.ok());
  CHECK(*escaped == root / "caf\xE9.py");
  auto literal = safe_join(root, "100%sure.py");
  REQUIRE(literal.ok());
  CHECK(*literal == root / "100%sure.py");
  // Not found either way: the literal path, as before.
  CHECK(*safe_join(root, "nope%E9.py") == root / "nope%E9.py");
  // Escapes never get around the lexical checks.
  CHECK(safe_join(root, "%2E%2E/x").ok());  // decodes to valid UTF-8: taken literally
  CHECK(safe_join(root, "../caf%E9.py").error().code == Errc::kPathEscape);
}

TEST_CASE("json_text never writes invalid UTF-8: such strings come out percent-escaped", "[util][json][names]") {
  CHECK(to_json_text(boost::json::value("caf\xE9%.py")) == "\"caf%E9%25.py\"");
  CHECK(to_json_text(boost::json::value("100%sure \xC3\xA9")) == "\"100%sure \xC3\xA9\"");  // valid: as it is
  boost::json::object o{{"path", "d\xFF/m.py"}, {"id", "d\xFF/m.py#L1-2"}};
  CHECK(to_json_text(o) == "{\"path\":\"d%FF/m.py\",\"id\":\"d%FF/m.py#L1-2\"}");
}
