#include "local.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "connection.hpp"
#include "doctor.hpp"
#include "segment.hpp"
#include "setup_pyright.hpp"
#include "trifecta/proto/protocol.hpp"
#include "util/cli_doc.hpp"

namespace trifecta::cli {

namespace tc = trifecta::client;
namespace cd = trifecta::core::cli_doc;

namespace {

cd::CommandDoc full_tree() {
  Opts scratch;
  CLI::App app;
  build_app(app, scratch, nullptr, false);
  return cd::describe_app(app, "trifecta");
}

// The man page's sections after COMMANDS (roff).
constexpr const char* kManExtra = R"(.SH EXIT STATUS
0 ok; 1 the request failed (an error reply, a failed target) or \fBdoctor\fR found a problem;
2 usage; 3 the daemon is unavailable (for \fBdaemon status\fR: not running).
.SH ENVIRONMENT
.TP
.B TRIFECTA_SOCKET
The daemon socket when \fB\-\-socket\fR is not given.
.TP
.B TRIFECTA_DAEMON
The trifectad to start (default: the one beside trifecta, then PATH).
.TP
.B TRIFECTA_PYRIGHT
The language server launcher trifectad runs.
.TP
.B TRIFECTA_PYRIGHT_NPM_SPEC
The npm package spec \fBsetup\-pyright\fR installs (default: the pinned pyright version).
.SH FILES
.TP
.I $XDG_RUNTIME_DIR/trifecta/trifectad.sock
The default socket.
.TP
.I ${XDG_DATA_HOME:\-~/.local/share}/trifecta/pyright
Where \fBsetup\-pyright\fR installs Pyright.
.TP
.I <segment>/_ctx
The segment's persisted index and AST cache.
.SH SEE ALSO
.BR trifectad (1)
)";

}  // namespace

int run_doctor(const Opts& o) {
  const auto socket = o.socket.empty() ? tc::default_socket_path() : tc::fs::path(o.socket);
  std::error_code ec;
  const auto chosen = tc::choose_segment(o.segment, tc::fs::current_path(ec));
  auto in = tc::DoctorInputs::from_env(socket, chosen.root);
  in.segment_source = chosen.source;
  in.daemon = tc::daemon_binary();
  in.client_version = proto::kVersion;
  in.client_protocol = proto::protocol_version();
  const auto checks = tc::run_doctor(in);
  const std::string text = o.json_out ? tc::render_doctor_json(checks) : tc::render_doctor(checks);
  std::fputs(text.c_str(), stdout);
  return tc::doctor_ok(checks) ? kExitOk : kExitFailed;
}

int run_setup_pyright(const Opts& o) {
  std::string err;
  const auto plan = tc::plan_pyright_setup(&err);
  if (!plan) {
    std::fprintf(stderr, "trifecta: setup-pyright: %s\n", err.c_str());
    return kExitFailed;
  }
  std::string cmd;
  for (const auto& a : plan->npm_argv) cmd += (cmd.empty() ? "" : " ") + a;
  if (o.dry_run) {
    std::printf("would run: %s\nlauncher: %s\n", cmd.c_str(), plan->launcher.c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "running: %s\n", cmd.c_str());
  std::string version;
  if (!tc::install_pyright(*plan, &version, &err)) {
    std::fprintf(stderr, "trifecta: setup-pyright: %s\n", err.c_str());
    return kExitFailed;
  }
  std::printf(
      "installed pyright %s: %s\ntrifectad finds it (lsp status: source \"user\") unless "
      "TRIFECTA_PYRIGHT or --pyright names another; restart a running daemon: trifecta daemon "
      "restart\n",
      version.c_str(), plan->launcher.c_str());
  return kExitOk;
}

int run_completion(const Opts& o) {
  const auto tree = full_tree();
  const std::string s = o.shell == "bash"  ? cd::bash_completion(tree)
                        : o.shell == "zsh" ? cd::zsh_completion(tree)
                                           : cd::fish_completion(tree);
  std::fputs(s.c_str(), stdout);
  return kExitOk;
}

int run_man(const Opts&) {
  cd::ManPage page;
  page.version = std::string("trifecta ") + proto::kVersion;
  page.date = cd::build_date();
  page.summary = "code context for coding agents and editors";
  page.extra_roff = kManExtra;
  std::fputs(cd::man_page(full_tree(), page).c_str(), stdout);
  return kExitOk;
}

}  // namespace trifecta::cli
