#include "self_check.hpp"

#include <boost/json.hpp>

#include "lang/language.hpp"
#include "lang/python/grammar_abi.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::daemon {

namespace json = boost::json;
namespace python = core::lang::python;

std::string self_check_json(const python::DiscoveryInputs& inputs,
                            std::chrono::milliseconds probe_timeout) {
  const python::GrammarAbi abi = python::grammar_abi();
  json::object grammar{{"grammar_version", abi.grammar_version},
                       {"runtime_min", abi.runtime_min},
                       {"runtime_max", abi.runtime_max},
                       {"parser_accepts", abi.parser_accepts},
                       {"compatible", abi.compatible()}};
  json::object pyright;
  const auto server = core::lang::python_language().discover_server(inputs);
  pyright["found"] = server.ok();
  if (server) {
    pyright["source"] = server->source;
    pyright["path"] = server->path.string();
    pyright["name"] = server->name;
    pyright["version"] = server->version;
    const auto started = python::probe_server(*server, probe_timeout);
    pyright["starts"] = started.ok();
    if (started)
      pyright["start"] = *started;
    else
      pyright["start_error"] = started.error().message;
  } else {
    pyright["error"] = server.error().message;
  }
  json::object out{{"version", proto::kVersion},
                   {"protocol", proto::protocol_version()},
                   {"grammar", std::move(grammar)},
                   {"pyright", std::move(pyright)}};
  return json::serialize(out);
}

}  // namespace trifecta::daemon
