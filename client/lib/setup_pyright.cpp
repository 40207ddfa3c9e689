#include "setup_pyright.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#ifndef TRIFECTA_PYRIGHT_VERSION
#error "TRIFECTA_PYRIGHT_VERSION must be defined by the build (client/CMakeLists.txt)"
#endif

extern char** environ;

namespace trifecta::client {

const char* const kPinnedPyrightVersion = TRIFECTA_PYRIGHT_VERSION;

std::optional<PyrightSetup> plan_pyright_setup(std::string* error) {
  PyrightSetup p;
  // Same rule as lib/lang/python/pyright.cpp user_pyright_prefix(): an XDG_DATA_HOME that is not
  // absolute is ignored (the XDG base directory spec).
  if (const char* d = std::getenv("XDG_DATA_HOME"); d && *d == '/') {
    p.prefix = fs::path(d) / "trifecta" / "pyright";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    p.prefix = fs::path(h) / ".local" / "share" / "trifecta" / "pyright";
  } else {
    if (error) *error = "neither XDG_DATA_HOME nor HOME is set: no user data directory";
    return std::nullopt;
  }
  const char* spec = std::getenv("TRIFECTA_PYRIGHT_NPM_SPEC");
  p.spec = spec && *spec ? spec : std::string("pyright@") + kPinnedPyrightVersion;
  p.npm_argv = {"npm",        "install",   "--prefix",     p.prefix.string(),
                "--no-audit", "--no-fund", "--save-exact", p.spec};
  p.launcher = p.prefix / "node_modules" / ".bin" / "pyright-langserver";
  return p;
}

bool install_pyright(const PyrightSetup& plan, std::string* version, std::string* error) {
  std::error_code ec;
  fs::create_directories(plan.prefix, ec);
  if (ec) {
    *error = "cannot create " + plan.prefix.string() + ": " + ec.message();
    return false;
  }
  std::vector<char*> argv;
  for (const auto& a : plan.npm_argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // npm's progress and errors are the user's to read: its stdout goes to our stderr, so our
  // stdout stays the one result line.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "npm", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    *error = std::string("cannot run npm: ") + std::strerror(rc) +
             " (install Node.js and npm, e.g. `apt install npm`)";
    return false;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = "npm install " + plan.spec + " failed (" +
             (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : std::string("killed by a signal")) +
             ")";
    return false;
  }
  if (::access(plan.launcher.c_str(), X_OK) != 0) {
    *error = "npm succeeded but " + plan.launcher.string() + " is not there: is " + plan.spec +
             " the pyright package?";
    return false;
  }
  *version = "unknown";
  std::ifstream in(plan.prefix / "node_modules" / "pyright" / "package.json", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  boost::system::error_code jec;
  const auto doc = boost::json::parse(ss.str(), jec);
  if (!jec && doc.is_object())
    if (const auto* v = doc.as_object().if_contains("version"); v && v->is_string())
      *version = std::string(v->as_string());
  return true;
}

}  // namespace trifecta::client
