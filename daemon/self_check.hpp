// daemon/self_check.hpp — `trifectad --self-check`: what this daemon binary would run with, as one
// JSON object on stdout, for `trifecta doctor` (which cannot see inside the daemon: the client
// links no lib/lang module). It reports the version, the grammar/runtime ABI
// (lang/python/grammar_abi.hpp) and the language server discovery would pick with the same
// environment and `--pyright` / `--no-lsp` flags, and whether that server answers `initialize`.
//
// {"version":"0.1.0","protocol":"1.1",
//  "grammar":{"grammar_version":14,"runtime_min":13,"runtime_max":14,"parser_accepts":true,
//             "compatible":true},
//  "pyright":{"found":true,"source":"user","path":"…","name":"pyright-langserver",
//             "version":"1.1.414","starts":true,"start":"pyright 1.1.414"}}
// `pyright.found` false → "error" says why (and what was tried); `starts` false → "start_error".
//
// Thread rules: run once from main() before anything else starts. Failure: none; every problem
// is a field of the report.
#pragma once

#include <chrono>
#include <string>

#include "lang/python/pyright.hpp"

namespace trifecta::daemon {

std::string self_check_json(const core::lang::python::DiscoveryInputs& inputs,
                            std::chrono::milliseconds probe_timeout);

}  // namespace trifecta::daemon
