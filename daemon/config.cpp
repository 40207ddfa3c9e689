#include "config.hpp"

#include <unistd.h>

#include <cstdlib>

namespace trifecta::daemon {

fs::path default_socket_path() {
  if (const char* s = std::getenv("TRIFECTA_SOCKET"); s && *s) return s;
  if (const char* r = std::getenv("XDG_RUNTIME_DIR"); r && *r) return fs::path(r) / "trifecta" / "trifectad.sock";
  return fs::path("/tmp") / ("trifecta-" + std::to_string(::geteuid())) / "trifectad.sock";
}

fs::path default_state_dir() {
  if (const char* s = std::getenv("XDG_STATE_HOME"); s && *s) return fs::path(s) / "trifecta";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".local" / "state" / "trifecta";
  return fs::path("/tmp") / ("trifecta-state-" + std::to_string(::geteuid()));
}

}  // namespace trifecta::daemon
