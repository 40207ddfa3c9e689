// Spec of util/utf8.hpp: validation, U+FFFD repair by maximal subparts, the PEP 263 decision.
#include <catch2/catch.hpp>

#include <string>

#include "util/utf8.hpp"

using namespace trifecta::core;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";

std::string decode(std::string_view bytes, utf8::Decoded* info = nullptr) {
  std::string out;
  const utf8::Decoded d = utf8::decode_source(bytes, out);
  if (info) *info = d;
  return d.changed ? out : std::string(bytes);
}
}  // namespace

TEST_CASE("valid UTF-8 is recognised, whatever its alignment to the 8-byte ASCII skip", "[utf8]") {
  CHECK(utf8::is_valid(""));
  CHECK(utf8::is_valid("plain ascii text, longer than eight bytes"));
  CHECK(utf8::is_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  for (std::size_t at = 0; at < 24; ++at) {
    std::string text(24, 'a');
    text[at] = '\xff';
    INFO("bad byte at " << at);
    CHECK(utf8::valid_prefix(text) == at);
  }
  CHECK_FALSE(utf8::is_valid("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(utf8::is_valid("\xc0\xaf"));          // overlong
  CHECK_FALSE(utf8::is_valid("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(utf8::is_valid("\xe2\x82"));          // cut short
}

TEST_CASE("replace_invalid puts one U+FFFD per maximal subpart and counts the bytes", "[utf8]") {
  std::string out = "untouched";
  CHECK(utf8::replace_invalid("h\xc3\xa9llo", out) == 0);
  CHECK(out == "untouched");
  CHECK(utf8::replace_invalid("a\xc3(b\xed\xa0\x80", out) == 4);  // truncated lead, surrogate
  CHECK(out == "a" + kFffd + "(b" + kFffd + kFffd + kFffd);
  CHECK(utf8::replace_invalid("x\xe2\x82y", out) == 2);  // a cut 3-byte sequence is one subpart
  CHECK(out == "x" + kFffd + "y");
  CHECK(utf8::replace_invalid("\xf0\x9f\x98", out) == 3);  // cut at the end of the text
  CHECK(out == kFffd);
  CHECK(utf8::replace_invalid("\xff\xfe", out) == 2);
  CHECK(out == kFffd + kFffd);
}

TEST_CASE("declared_encoding reads PEP 263 lines 1 and 2, comments only", "[utf8]") {
  CHECK(utf8::declared_encoding("# -*- coding: latin-1 -*-\nx = 1\n") == "latin-1");
  CHECK(utf8::declared_encoding("#!/usr/bin/python\n# vim: set fileencoding=ISO_8859_1 :\n") == "latin-1");
  CHECK(utf8::declared_encoding("# coding=cp1252\n") == "cp1252");
  CHECK(utf8::declared_encoding("# coding: windows-1252\n") == "cp1252");
  CHECK(utf8::declared_encoding("# coding: utf8\n") == "utf-8");
  CHECK(utf8::declared_encoding("#!/usr/bin/python\n\n# coding: latin-1\n").empty());  // line 3
  CHECK(utf8::declared_encoding("x = 1\n# coding: latin-1\n").empty());  // line 1 is code
  CHECK(utf8::declared_encoding("s = '# coding: latin-1'\n").empty());   // not a comment
  CHECK(utf8::declared_encoding("# nothing here\nimport os\n").empty());
}

TEST_CASE("decode_source: a declared Latin-1 file is decoded, not repaired", "[utf8]") {
  utf8::Decoded d;
  CHECK(decode("# -*- coding: latin-1 -*-\ncaf\xe9 = 1\n", &d) == "# -*- coding: latin-1 -*-\ncaf\xc3\xa9 = 1\n");
  CHECK(d.encoding == "latin-1");
  CHECK(d.replaced_bytes == 0);
  CHECK(d.changed);
}

TEST_CASE("decode_source: cp1252 maps 0x80-0x9F to its letters, undefined bytes to U+FFFD", "[utf8]") {
  utf8::Decoded d;
  CHECK(decode("# coding: cp1252\np = '\x80\x93\x81'\n", &d) ==
        "# coding: cp1252\np = '\xe2\x82\xac\xe2\x80\x9c" + kFffd + "'\n");
  CHECK(d.encoding == "cp1252");
  CHECK(d.replaced_bytes == 1);
}

TEST_CASE("decode_source: no declaration (or a BOM, or a UTF-8 one) falls back to U+FFFD", "[utf8]") {
  utf8::Decoded d;
  CHECK(decode("x = '\xe9'\n", &d) == "x = '" + kFffd + "'\n");
  CHECK(d.encoding == "utf-8");
  CHECK(d.replaced_bytes == 1);
  CHECK(decode("\xEF\xBB\xBFx = '\xe9'\n", &d) == "\xEF\xBB\xBFx = '" + kFffd + "'\n");
  CHECK(d.had_bom);
  CHECK(d.replaced_bytes == 1);
  CHECK(decode("# coding: utf-8\nx = '\xe9'\n", &d) == "# coding: utf-8\nx = '" + kFffd + "'\n");
  CHECK(d.replaced_bytes == 1);
  CHECK(decode("# coding: koi8-r\nx = '\xe9'\n", &d) == "# coding: koi8-r\nx = '" + kFffd + "'\n");
  CHECK(d.encoding == "utf-8");
}

TEST_CASE("decode_source leaves valid UTF-8 alone, even when it declares Latin-1", "[utf8]") {
  std::string out = "untouched";
  const utf8::Decoded d = utf8::decode_source("# coding: latin-1\ncaf\xc3\xa9 = 1\n", out);
  CHECK_FALSE(d.changed);
  CHECK(d.encoding == "utf-8");
  CHECK(out == "untouched");
  utf8::Decoded bom;
  CHECK(decode("\xEF\xBB\xBFx = 1\n", &bom) == "\xEF\xBB\xBFx = 1\n");
  CHECK(bom.had_bom);
  CHECK(utf8::strip_bom("\xEF\xBB\xBFx") == "x");
  CHECK(utf8::strip_bom("x") == "x");
}

TEST_CASE("names that are not UTF-8 are percent-escaped, reversibly, and valid names never are", "[util][utf8][names]") {
  CHECK(utf8::escape_name("pkg/caf\xC3\xA9%.py") == "pkg/caf\xC3\xA9%.py");  // valid: as it is
  CHECK(utf8::escape_name("pkg/caf\xE9%.py") == "pkg/caf%E9%25.py");
  CHECK(utf8::escape_name("d\xFF/m\xC3\xA9\xC3.py") == "d%FF/m\xC3\xA9%C3.py");
  for (std::string raw : {std::string("caf\xE9.py"), std::string("\xFF\xFE%41"), std::string("a\xC3(%%\x80")}) {
    const std::string esc = utf8::escape_name(raw);
    CHECK(utf8::is_valid(esc));
    auto back = utf8::unescape_name(esc);
    REQUIRE(back.has_value());
    CHECK(*back == raw);
  }
  // Literal text that decodes to valid UTF-8 (or has no escape) is never decoded.
  CHECK_FALSE(utf8::unescape_name("100%sure.py").has_value());
  CHECK_FALSE(utf8::unescape_name("caf%C3%A9.py").has_value());  // é: valid, so not an escape
  CHECK_FALSE(utf8::unescape_name("plain.py").has_value());
  CHECK_FALSE(utf8::unescape_name("bad%zz.py").has_value());
}
