// client/lib/doctor.hpp — `trifecta doctor`: is this installation fit to run? One Check per item
// the user can fix, each with what was found and, when not ok, the command or step that fixes it.
//
// Checks (names as printed):
//   daemon      the trifectad the client would start (TRIFECTA_DAEMON, beside the client, PATH):
//               runs, and its version and protocol equal the client's
//   running     the trifectad answering at the socket (never started here), if any: its version
//               and protocol equal the client's, else a warning (started before an upgrade) and
//               `trifecta daemon restart`; one that refuses this client's hello fails
//   socket-dir  the socket's directory: owned by us, no group/other access (or absent: trifectad
//               creates it 0700); the socket itself, when present, owned by us
//   units       trifectad.socket + trifectad.service in a systemd user unit directory, the
//               service's ExecStart executable; enabled (sockets.target.wants) or only a warning
//   pyright     `trifectad --self-check`: the server discovery picks, its source and version, and
//               whether it answers `initialize`
//   grammar     `trifectad --self-check`: the grammar's ABI is one the tree-sitter runtime accepts
//   segment     which tree this is and the rule that chose it (-s, the git work tree, the
//               nearest folder with `_ctx`, the cwd); a warning when a segment outside git sits
//               inside another (an ancestor has `_ctx` too: a subfolder opened by mistake pins
//               itself for every client), with how to undo it
//   ctx         `<segment>/_ctx` writable (or creatable)
//   inotify     fs.inotify.max_user_watches against the segment's directory count
//   disk        free space where `_ctx` lives against an estimate of the index size
// A failure of `daemon` (no binary to ask) makes `pyright` and `grammar` fail with that reason.
//
// Thread rules: single-threaded; runs child processes (the daemon binary) with a deadline.
// Failure: never throws; every problem is a Check with status kFail.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "segment.hpp"

namespace trifecta::client {

namespace fs = std::filesystem;

enum class CheckStatus { kOk, kWarn, kFail };

struct Check {
  std::string name;
  CheckStatus status = CheckStatus::kOk;
  std::string detail;  // what was found
  std::string fix;     // what to do (empty when ok)
};

struct DoctorInputs {
  std::string daemon;                                   // binary to ask (daemon_binary())
  std::string client_version;                           // proto::kVersion
  std::string client_protocol;                          // proto::protocol_version()
  fs::path socket;                                      // default_socket_path() or --socket
  fs::path segment_root;                                // the tree being checked
  SegmentSource segment_source = SegmentSource::kFlag;  // how it was chosen (choose_segment)
  std::vector<fs::path> unit_dirs;                      // systemd user unit search path, in order
  fs::path wants_dir;  // $XDG_CONFIG_HOME/systemd/user/sockets.target.wants
  fs::path inotify_limit_file = "/proc/sys/fs/inotify/max_user_watches";

  // The environment's: systemd's user unit path ($XDG_CONFIG_HOME/systemd/user, /etc/systemd/user,
  // $XDG_DATA_HOME/systemd/user, the prefix this client runs from (<exe>/../lib/systemd/user),
  // /usr/local/lib/systemd/user, /usr/lib/systemd/user).
  static DoctorInputs from_env(fs::path socket, fs::path segment_root);
};

std::vector<Check> run_doctor(const DoctorInputs& in);

// True when no check failed (warnings pass).
bool doctor_ok(const std::vector<Check>& checks);

// One line per check: "ok    daemon: trifectad 0.1.0 ..." / "FAIL  units: ... — fix: ...".
std::string render_doctor(const std::vector<Check>& checks);
// {"ok":false,"checks":[{"name":"units","status":"fail","detail":"...","fix":"..."}]}
std::string render_doctor_json(const std::vector<Check>& checks);

// Run `argv` (argv[0] searched on PATH), capture stdout; stderr is discarded. Returns the exit
// status (-1: could not start or killed at the deadline) and fills `out`.
int run_capture(const std::vector<std::string>& argv, std::string& out, int timeout_ms);

}  // namespace trifecta::client
