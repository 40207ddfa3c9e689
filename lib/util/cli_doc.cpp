#include "util/cli_doc.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>

namespace trifecta::core::cli_doc {

namespace {

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Single-quote for a POSIX shell (bash, zsh) or fish: ' becomes '\''  (fish: \').
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
std::string fish_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}
// zsh _describe entries are "name:description"; a ':' in the name must be escaped.
std::string zsh_entry(const std::string& name, const std::string& help) {
  std::string n;
  for (char c : name) n += c == ':' ? std::string("\\:") : std::string(1, c);
  std::string h = help.substr(0, help.find('\n'));
  return sh_quote(n + ":" + h);
}

// The first sentence-ish line of a help text, for one-line listings.
std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

void collect(const CommandDoc& c, std::vector<const CommandDoc*>& out) {
  out.push_back(&c);
  for (const auto& s : c.subcommands) collect(s, out);
}

// "INT" of "INT:INT in [1 - 1000]" (CLI11 appends its validators' descriptions); "VALUE" when the
// option names no type.
std::string placeholder(const CLI::Option& o) {
  std::string t = o.get_type_name();
  t = t.substr(0, t.find(':'));
  return t.empty() ? "VALUE" : t;
}

void describe_into(const CLI::App& app, CommandDoc& doc) {
  doc.help = app.get_description();
  doc.footer = app.get_footer();
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    OptionDoc od;
    od.help = o->get_description();
    od.required = o->get_required();
    if (o->get_positional() && !o->nonpositional()) {
      od.positional = true;
      od.names.push_back(o->get_name(true));
      od.value = placeholder(*o);
      od.many = o->get_items_expected_max() > 1;
    } else {
      for (const auto& s : o->get_snames()) od.names.push_back("-" + s);
      for (const auto& l : o->get_lnames()) od.names.push_back("--" + l);
      if (o->get_expected_max() > 0) od.value = placeholder(*o);  // flags expect 0 values
    }
    doc.options.push_back(std::move(od));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden
    CommandDoc sd;
    sd.name = sub->get_name();
    sd.path = doc.path;
    sd.path.push_back(sd.name);
    describe_into(*sub, sd);
    doc.subcommands.push_back(std::move(sd));
  }
}

std::string path_key(const CommandDoc& c) {
  return join(c.path, " ");
}

// Options that take a value, over the whole tree (the completers skip their values when finding
// the command path).
std::set<std::string> value_options(const CommandDoc& root) {
  std::set<std::string> out;
  for (const CommandDoc* c : all_commands(root))
    for (const auto& o : c->options)
      if (!o.positional && !o.value.empty())
        for (const auto& n : o.names) out.insert(n);
  return out;
}

std::vector<std::string> option_names(const CommandDoc& c) {
  std::vector<std::string> out;
  for (const auto& o : c.options)
    if (!o.positional)
      for (const auto& n : o.names) out.push_back(n);
  return out;
}

bool has_positional(const CommandDoc& c) {
  for (const auto& o : c.options)
    if (o.positional) return true;
  return false;
}

std::string roff_option_line(const OptionDoc& o) {
  std::string line;
  if (o.positional) {
    line = "\\fI" + roff_escape(o.names.front()) + "\\fR" + (o.many ? "..." : "");
    return line;
  }
  for (const auto& n : o.names)
    line += (line.empty() ? "" : ", ") + ("\\fB" + roff_escape(n) + "\\fR");
  if (!o.value.empty()) line += " \\fI" + roff_escape(o.value) + "\\fR";
  return line;
}

std::string roff_paragraphs(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty())
      out += roff_escape(line) + "\n";
    else if (!out.empty())
      out += ".PP\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string roff_escape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c >= 0x80) {
      // Non-ASCII (UTF-8): groff's \[uXXXX] escape, so the page renders without warnings in any
      // locale. A malformed sequence becomes U+FFFD.
      const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      unsigned cp = len == 1 ? 0xFFFD : c & (0xFF >> (len + 1));
      bool ok = len > 1 && i + len <= text.size();
      for (int k = 1; ok && k < len; ++k) {
        const auto cc = static_cast<unsigned char>(text[i + k]);
        ok = (cc & 0xC0) == 0x80;
        cp = (cp << 6) | (cc & 0x3F);
      }
      if (!ok)
        cp = 0xFFFD;
      else
        i += len - 1;
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\[u%04X]", cp);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string build_date() {
  std::time_t t = std::time(nullptr);
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH"); e && *e) {
    char* end = nullptr;
    const long long v = std::strtoll(e, &end, 10);
    if (end && *end == '\0' && v >= 0) t = static_cast<std::time_t>(v);
  }
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

CommandDoc describe_app(const CLI::App& app, const std::string& program) {
  CommandDoc root;
  root.name = program;
  describe_into(app, root);
  return root;
}

std::vector<const CommandDoc*> all_commands(const CommandDoc& root) {
  std::vector<const CommandDoc*> out;
  collect(root, out);
  return out;
}

std::string man_page(const CommandDoc& root, const ManPage& page) {
  std::string up;
  for (char c : root.name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string out;
  out += ".\\\" Generated from the command table by `" + root.name +
         (page.section == 1 && root.subcommands.empty() ? " --man" : " man") + "`; do not edit.\n";
  out += ".TH " + up + " " + std::to_string(page.section) + " \"" + page.date + "\" \"" +
         roff_escape(page.version) + "\" \"User Commands\"\n";
  out += ".SH NAME\n" + roff_escape(root.name) + " \\- " + roff_escape(page.summary) + "\n";
  out += ".SH SYNOPSIS\n.B " + roff_escape(root.name) + "\n";
  out += root.subcommands.empty() ? "[\\fIoptions\\fR]\n"
                                  : "[\\fIoptions\\fR] \\fIcommand\\fR [\\fIarguments\\fR]\n";
  out += ".SH DESCRIPTION\n" + roff_paragraphs(root.help);
  out += ".SH OPTIONS\n";
  for (const auto& o : root.options) {
    out += ".TP\n" + roff_option_line(o) + "\n" + roff_paragraphs(o.help);
  }
  if (!root.subcommands.empty()) {
    out += ".SH COMMANDS\n";
    for (const CommandDoc* c : all_commands(root)) {
      if (c == &root) continue;
      std::string heading = root.name + " " + path_key(*c);
      for (const auto& o : c->options)
        if (o.positional) heading += " " + o.names.front() + (o.many ? "..." : "");
      out += ".SS \"" + roff_escape(heading) + "\"\n" + roff_paragraphs(c->help);
      if (!c->subcommands.empty()) {
        std::vector<std::string> names;
        for (const auto& s : c->subcommands) names.push_back(s.name);
        out += ".PP\nCommands: " + roff_escape(join(names, ", ")) + ".\n";
      }
      for (const auto& o : c->options) {
        out += ".TP\n" + roff_option_line(o) + "\n" + roff_paragraphs(o.help);
      }
      if (!c->footer.empty()) out += ".PP\n" + roff_paragraphs(c->footer);
    }
  }
  out += page.extra_roff;
  return out;
}

std::string bash_completion(const CommandDoc& root) {
  const std::string fn = "_" + root.name + "_complete";
  std::string paths, cases;
  for (const CommandDoc* c : all_commands(root)) {
    if (c != &root) paths += (paths.empty() ? "" : " ") + std::string("'") + path_key(*c) + "'";
    std::vector<std::string> subs;
    for (const auto& s : c->subcommands) subs.push_back(s.name);
    cases += "    " + sh_quote(path_key(*c)) + ") subs=" + sh_quote(join(subs, " ")) +
             "; opts=" + sh_quote(join(option_names(*c), " ")) +
             "; files=" + (has_positional(*c) ? "1" : "0") + " ;;\n";
  }
  std::string takes;
  for (const auto& n : value_options(root)) takes += (takes.empty() ? "" : " ") + n;
  std::string out;
  out += "# bash completion for " + root.name + " — generated from the command table by `" +
         root.name + " completion bash`; do not edit.\n";
  out += fn + "() {\n";
  out += "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" path=\"\" cand i w\n";
  out += "  ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n";
  out += "  local takes=" + sh_quote(" " + takes + " ") + "\n";
  out += "  local -a known=(" + paths + ")\n";
  out += "  for ((i = 1; i < COMP_CWORD; i++)); do\n";
  out += "    w=\"${COMP_WORDS[i]}\"\n";
  out +=
      "    if [[ \"$w\" == -* ]]; then [[ \"$takes\" == *\" $w \"* ]] && ((i++)); continue; fi\n";
  out += "    cand=\"${path:+$path }$w\"\n";
  out +=
      "    for k in \"${known[@]}\"; do [[ \"$k\" == \"$cand\" ]] && { path=\"$cand\"; break; }; "
      "done\n";
  out += "  done\n";
  out += "  if [[ \"$takes\" == *\" $prev \"* ]]; then\n";
  out += "    COMPREPLY=($(compgen -f -- \"$cur\")); return 0\n  fi\n";
  out += "  local subs=\"\" opts=\"\" files=0\n";
  out += "  case \"$path\" in\n" + cases + "  esac\n";
  out += "  if [[ \"$cur\" == -* ]]; then\n";
  out += "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n";
  out += "  else\n";
  out += "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n";
  out += "    ((files)) && COMPREPLY+=($(compgen -f -- \"$cur\"))\n";
  out += "  fi\n  return 0\n}\n";
  out += "complete -o filenames -F " + fn + " " + root.name + "\n";
  return out;
}

std::string zsh_completion(const CommandDoc& root) {
  const std::string fn = "_" + root.name;
  std::string out;
  out += "#compdef " + root.name + "\n";
  out += "# zsh completion for " + root.name + " — generated from the command table by `" +
         root.name + " completion zsh`; do not edit.\n";
  std::string takes, paths;
  for (const auto& n : value_options(root)) takes += (takes.empty() ? "" : " ") + n;
  for (const CommandDoc* c : all_commands(root))
    if (c != &root) paths += " " + sh_quote(path_key(*c));
  out += fn + "() {\n";
  out += "  local -a known=(" + paths + ")\n";
  out += "  local takes=" + sh_quote(" " + takes + " ") + "\n";
  out += "  local path_so_far=\"\" cand w k i\n";
  out += "  for ((i = 2; i < CURRENT; i++)); do\n";
  out += "    w=\"${words[i]}\"\n";
  out +=
      "    if [[ \"$w\" == -* ]]; then [[ \"$takes\" == *\" $w \"* ]] && ((i++)); continue; fi\n";
  out += "    cand=\"${path_so_far:+$path_so_far }$w\"\n";
  out +=
      "    for k in \"${known[@]}\"; do [[ \"$k\" == \"$cand\" ]] && { path_so_far=\"$cand\"; "
      "break; }; done\n";
  out += "  done\n";
  out += "  if [[ \"$takes\" == *\" ${words[CURRENT-1]} \"* ]]; then _files; return; fi\n";
  out += "  local -a subs opts\n  local files=0\n";
  out += "  case \"$path_so_far\" in\n";
  for (const CommandDoc* c : all_commands(root)) {
    out += "    " + sh_quote(path_key(*c)) + ")\n      subs=(";
    for (const auto& s : c->subcommands) out += " " + zsh_entry(s.name, first_line(s.help));
    out += " )\n      opts=(";
    for (const auto& o : c->options)
      if (!o.positional)
        for (const auto& n : o.names) out += " " + zsh_entry(n, first_line(o.help));
    out += " )\n      files=" + std::string(has_positional(*c) ? "1" : "0") + " ;;\n";
  }
  out += "  esac\n";
  out += "  if [[ \"$PREFIX\" == -* ]]; then\n    _describe -t options option opts\n";
  out += "  else\n    (( ${#subs} )) && _describe -t commands command subs\n";
  out += "    (( files )) && _files\n  fi\n}\n";
  out += "if [[ \"${zsh_eval_context[-1]}\" == loadautofunc ]]; then\n  " + fn +
         " \"$@\"\nelse\n  compdef " + fn + " " + root.name + "\nfi\n";
  return out;
}

std::string fish_completion(const CommandDoc& root) {
  const std::string helper = "__" + root.name + "_path";
  std::string out;
  out += "# fish completion for " + root.name + " — generated from the command table by `" +
         root.name + " completion fish`; do not edit.\n";
  std::string paths, takes;
  for (const CommandDoc* c : all_commands(root))
    if (c != &root) paths += " " + fish_quote(path_key(*c));
  for (const auto& n : value_options(root)) takes += " " + fish_quote(n);
  out += "function " + helper + " --description 'The " + root.name + " command typed so far'\n";
  out += "    set -l known" + paths + "\n";
  out += "    set -l takes" + takes + "\n";
  out += "    set -l words (commandline -opc)\n";
  out += "    set -e words[1]\n";
  out += "    set -l path ''\n";
  out += "    set -l skip 0\n";
  out += "    for w in $words\n";
  out += "        if test $skip -eq 1\n            set skip 0\n            continue\n        end\n";
  out += "        if string match -q -- '-*' $w\n";
  out += "            contains -- $w $takes; and set skip 1\n            continue\n        end\n";
  out += "        set -l cand (string trim -- \"$path $w\")\n";
  out += "        contains -- $cand $known; and set path $cand\n";
  out += "    end\n";
  out += "    echo $path\n";
  out += "end\n";
  out += "complete -c " + root.name + " -f\n";
  for (const CommandDoc* c : all_commands(root)) {
    const std::string cond =
        "-n " + fish_quote("test (" + helper + ") = " + fish_quote(path_key(*c)));
    for (const auto& s : c->subcommands)
      out += "complete -c " + root.name + " " + cond + " -a " + fish_quote(s.name) + " -d " +
             fish_quote(first_line(s.help)) + "\n";
    for (const auto& o : c->options) {
      if (o.positional) {
        out += "complete -c " + root.name + " " + cond + " -F\n";
        continue;
      }
      std::string line = "complete -c " + root.name + " " + cond;
      for (const auto& n : o.names) {
        if (n.rfind("--", 0) == 0)
          line += " -l " + fish_quote(n.substr(2));
        else if (n.size() == 2)
          line += " -s " + fish_quote(n.substr(1));
        else
          line += " -o " + fish_quote(n.substr(1));
      }
      if (!o.value.empty()) line += " -r -F";
      line += " -d " + fish_quote(first_line(o.help));
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace trifecta::core::cli_doc
