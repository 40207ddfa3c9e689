// client/cli/local.hpp — the commands that run without the daemon: `doctor`
// (client/lib/doctor.hpp), `setup-pyright` (client/lib/setup_pyright.hpp), `completion` and `man`
// (rendered from the full command table, util/cli_doc.hpp: the build installs their output). Rows
// in commands.cpp.
//
// Thread rules: single-threaded. Failure: a message on stderr and the exit code (commands.hpp).
#pragma once

#include "commands.hpp"

namespace trifecta::cli {

int run_doctor(const Opts& o);
int run_setup_pyright(const Opts& o);
int run_completion(const Opts& o);
int run_man(const Opts& o);

}  // namespace trifecta::cli
