# trifecta_warnings(<target>): the warning set for Trifecta's own targets (never third-party
# code such as the tree-sitter grammar). Warnings are errors unless TRIFECTA_WERROR is OFF.
function(trifecta_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
    -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
  if(TRIFECTA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
# Not in the set: -Wnull-dereference (GCC 12 reports false positives inside inlined Boost.Asio).
