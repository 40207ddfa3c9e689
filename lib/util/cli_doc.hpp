// util/cli_doc.hpp — man pages and shell completions generated from a CLI11 command tree, so they
// cannot drift from `--help`: `trifecta man`, `trifecta completion bash|zsh|fish` and
// `trifectad --man` walk the very CLI::App they parse with (the build runs them; `make install`
// and the .deb ship the output).
//
// describe_app() turns the App into a plain tree (commands, options, positionals; hidden ones —
// CLI11 group "" — left out). The renderers only read that tree:
//   man_page         roff (man(7)); one SUBCOMMANDS subsection per command with its options
//   bash_completion  a `complete -F` function: the command path so far decides which
//                    subcommands and options are offered; files for positionals and option values
//   zsh_completion   a `#compdef` function using _describe (names with their help) and _files
//   fish_completion  `complete -c` lines, conditioned on the command path typed so far
//
// Thread rules: pure functions of their inputs. Failure: none (an empty tree renders an empty
// but valid script or page).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace trifecta::core::cli_doc {

struct OptionDoc {
  std::vector<std::string> names;  // "-n", "--limit"; a positional: its name ("query")
  std::string value;               // value placeholder ("INT"); "" for a flag
  std::string help;
  bool positional = false;
  bool required = false;
  bool many = false;  // takes several values (a positional list)
};

struct CommandDoc {
  std::string name;               // "search"; the root: the program name
  std::vector<std::string> path;  // {"ctx", "search"}; the root: {}
  std::string help;
  std::string footer;
  std::vector<OptionDoc> options;  // in declaration order, positionals included
  std::vector<CommandDoc> subcommands;
};

CommandDoc describe_app(const CLI::App& app, const std::string& program);

// Every command of the tree, depth first, the root first.
std::vector<const CommandDoc*> all_commands(const CommandDoc& root);

struct ManPage {
  int section = 1;
  std::string version;  // "trifecta 0.1.0"
  std::string date;     // "2026-12-01"
  std::string summary;  // the NAME line's text after "\-"
  // Extra sections after COMMANDS, already in roff ("SH" lines included): ENVIRONMENT, FILES...
  std::string extra_roff;
};

std::string man_page(const CommandDoc& root, const ManPage& page);
std::string bash_completion(const CommandDoc& root);
std::string zsh_completion(const CommandDoc& root);
std::string fish_completion(const CommandDoc& root);

// roff-escape plain text (backslash, leading '.' or '\'', '-' as \-).
std::string roff_escape(const std::string& text);

// "YYYY-MM-DD" of $SOURCE_DATE_EPOCH (reproducible builds), else of now; UTC.
std::string build_date();

}  // namespace trifecta::core::cli_doc
