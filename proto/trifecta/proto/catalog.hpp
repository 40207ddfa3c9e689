// proto/catalog.hpp — the method table: one row per method the daemon serves, with its summary,
// whether it needs `params.segment`, whether it may wait for an index build, and its params /
// result types. The daemon's `hello.capabilities` and its dispatcher table are checked against
// it (tests/unit/dispatcher_test.cpp); generated help and MCP tool schemas read `params` from it.
//
// Compile time: `MethodSpec<Params, Result>` constants (`spec::kCtxSearch`, ...) tie a name to
// its types; a client decodes a reply with `decode(result, Spec::Result&)`.
// Run time: `catalog()` lists every row (`MethodInfo`), `find_method(name)` finds one.
//
// Thread rules: immutable data built once (thread-safe static init); pure functions.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "trifecta/proto/ast.hpp"
#include "trifecta/proto/codec.hpp"
#include "trifecta/proto/ctx.hpp"
#include "trifecta/proto/daemon.hpp"
#include "trifecta/proto/lsp.hpp"
#include "trifecta/proto/sym.hpp"

namespace trifecta::proto {

template <class P, class R>
struct MethodSpec {
  using Params = P;
  using Result = R;
  std::string_view name;
};

namespace spec {
inline constexpr MethodSpec<HelloParams, HelloResult> kHello{method::kHello};
inline constexpr MethodSpec<PingParams, PingResult> kPing{method::kPing};
inline constexpr MethodSpec<StatusParams, StatusResult> kStatus{method::kStatus};
inline constexpr MethodSpec<ShutdownParams, ShutdownResult> kShutdown{method::kShutdown};
inline constexpr MethodSpec<DebugSleepParams, DebugSleepResult> kDebugSleep{method::kDebugSleep};
inline constexpr MethodSpec<SegmentCloseParams, SegmentCloseResult> kSegmentClose{method::kSegmentClose};
inline constexpr MethodSpec<AstSkeletonParams, AstSkeletonResult> kAstSkeleton{method::kAstSkeleton};
inline constexpr MethodSpec<AstSymbolsParams, AstSymbolsResult> kAstSymbols{method::kAstSymbols};
inline constexpr MethodSpec<SymResolveParams, SymResolveResult> kSymResolve{method::kSymResolve};
inline constexpr MethodSpec<SymSearchParams, SymSearchResult> kSymSearch{method::kSymSearch};
inline constexpr MethodSpec<CtxBuildParams, CtxBuildResult> kCtxBuild{method::kCtxBuild};
inline constexpr MethodSpec<CtxSearchParams, CtxSearchResult> kCtxSearch{method::kCtxSearch};
inline constexpr MethodSpec<CtxGetParams, CtxGetResult> kCtxGet{method::kCtxGet};
inline constexpr MethodSpec<CtxStatusParams, CtxStatusResult> kCtxStatus{method::kCtxStatus};
inline constexpr MethodSpec<CtxValidateParams, CtxValidateResult> kCtxValidate{method::kCtxValidate};
inline constexpr MethodSpec<CtxMapParams, CtxMapResult> kCtxMap{method::kCtxMap};
inline constexpr MethodSpec<LspStatusParams, LspStatusResult> kLspStatus{method::kLspStatus};
inline constexpr MethodSpec<LspRestartParams, LspRestartResult> kLspRestart{method::kLspRestart};
inline constexpr MethodSpec<LspDefinitionParams, LspDefinitionResult> kLspDefinition{method::kLspDefinition};
inline constexpr MethodSpec<LspHoverParams, LspHoverResult> kLspHover{method::kLspHover};
inline constexpr MethodSpec<LspReferencesParams, LspReferencesResult> kLspReferences{method::kLspReferences};
inline constexpr MethodSpec<LspDiagnosticsParams, LspDiagnosticsResult> kLspDiagnostics{method::kLspDiagnostics};
inline constexpr MethodSpec<LspCallsParams, LspCallsResult> kLspCalls{method::kLspCalls};
}  // namespace spec

struct MethodInfo {
  std::string_view name;
  std::string_view summary;  // one line
  bool needs_segment = false;
  bool may_wait = false;     // may wait for an index build (or the language server)
  bool debug_only = false;   // served only with trifectad --enable-debug-methods
  std::vector<FieldInfo> params;
  std::vector<FieldInfo> result;
  // Non-throwing decode of this method's result (names the bad field), for generic clients.
  std::optional<std::string> (*check_result)(const json::value& result) = nullptr;
  // Non-throwing parse of this method's params (names the bad field).
  std::optional<std::string> (*check_params)(const json::object& params) = nullptr;
};

// Every method, in documentation order.
std::span<const MethodInfo> catalog();
// The row for `name`, or nullptr.
const MethodInfo* find_method(std::string_view name);
// `{"name":..., "summary":..., "needs_segment":..., "may_wait":..., "params":[{name,type,required,default,description}]}`
json::value describe_method(const MethodInfo& m);

}  // namespace trifecta::proto
