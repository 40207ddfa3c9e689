// Test support for lib/lsp clients: an io_context driven on the test's own thread (so callbacks
// run where the assertions are), a segment in a temp dir, transition recording and small
// synchronous wrappers around the callback API.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lsp/client.hpp"
#include "temp_dir.hpp"

namespace trifecta::test {

namespace lsp = trifecta::core::lsp;
namespace fs = std::filesystem;


class LspHarness {
 public:
  LspHarness() : guard_(boost::asio::make_work_guard(io)) {
    root = tmp.path() / "segment";
    fs::create_directories(root);
    root = fs::canonical(root);
  }

  // Runs handlers on this thread until `pred()` holds or `limit` passes; returns pred().
  template <class Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return pred();
      io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(5));
  }

  lsp::StateMachine::Listener recorder() {
    return [this](const lsp::Transition& t) { transitions.push_back(t); };
  }
  std::string path() const {
    std::string s;
    for (const auto& t : transitions)
      s += std::string(lsp::state_name(t.from)) + ">" + std::string(lsp::state_name(t.to)) + " ";
    return s;
  }
  int count_to(lsp::State s) const {
    int n = 0;
    for (const auto& t : transitions) n += t.to == s;
    return n;
  }

  template <class T, class Start>
  core::Result<T> await(Start start, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::optional<core::Result<T>> out;
    start([&out](core::Result<T> r) { out.emplace(std::move(r)); });
    if (!run_until([&] { return out.has_value(); }, limit))
      return core::make_error(core::Errc::kInternal, "test: callback never ran");
    return std::move(*out);
  }

  core::Result<std::vector<lsp::Location>> definition(lsp::Client& c, const fs::path& f, int line, int col) {
    return await<std::vector<lsp::Location>>([&](auto cb) { c.definition(f, {line, col}, cb); });
  }
  core::Result<std::vector<lsp::Location>> references(lsp::Client& c, const fs::path& f, int line, int col) {
    return await<std::vector<lsp::Location>>([&](auto cb) { c.references(f, {line, col}, true, cb); });
  }
  core::Result<std::optional<lsp::HoverInfo>> hover(lsp::Client& c, const fs::path& f, int line, int col) {
    return await<std::optional<lsp::HoverInfo>>([&](auto cb) { c.hover(f, {line, col}, cb); });
  }
  core::Result<std::vector<lsp::Diagnostic>> diagnostics(lsp::Client& c, const fs::path& f,
                                                         std::chrono::milliseconds wait) {
    return await<std::vector<lsp::Diagnostic>>([&](auto cb) { c.diagnostics(f, wait, cb); });
  }

  TempDir tmp;
  fs::path root;
  boost::asio::io_context io;
  std::vector<lsp::Transition> transitions;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
};

}  // namespace trifecta::test
