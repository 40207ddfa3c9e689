-- The plugin against a real trifectad started by the plugin itself, with Pyright disabled
-- (`--no-lsp`): every lsp.* answer comes from the AST fallback and says so. Also: search →
-- jump, sym:// completion and open, outline, diagnostics, context, map, status transitions, a slow
-- request that does not block the editor, timeouts, and a daemon that dies.
local uv = vim.loop
local TMP = os.getenv("TRIFECTA_TEST_TMP")
local ROOT = os.getenv("TRIFECTA_TEST_ROOT")
local PROJ = uv.fs_realpath(TMP .. "/proj")

return function(T)
  local trifecta = require("trifecta")
  local opts = {
    daemon_args = { "--no-lsp", "--enable-debug-methods", "--idle-timeout", "300" },
    status = { min_ms = 50, max_ms = 400 },
  }
  trifecta.setup(opts)

  -- vim.ui.select is the picker's seam: record what the plugin shows, pick like a user would.
  local shown
  vim.ui.select = function(items, o, on_choice)
    shown = { items = items, opts = o, on_choice = on_choice, lines = {} }
    for _, it in ipairs(items) do
      table.insert(shown.lines, o.format_item and o.format_item(it) or tostring(it))
    end
  end

  local function edit(rel)
    vim.cmd("edit " .. vim.fn.fnameescape(PROJ .. "/" .. rel))
  end
  local function current_rel()
    return (uv.fs_realpath(vim.api.nvim_buf_get_name(0)) or ""):sub(#PROJ + 2)
  end
  local function cursor()
    return vim.api.nvim_win_get_cursor(0)
  end
  local function float_text()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        return table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), "\n")
      end
    end
  end

  local function close_floats()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        vim.api.nvim_win_close(w, true)
      end
    end
  end

  T.test("the plugin loads, :Trifecta exists and the help file's tags parse", function()
    T.eq(vim.fn.exists(":Trifecta"), 2, ":Trifecta defined")
    local doc = TMP .. "/rt/doc"
    vim.fn.mkdir(doc, "p")
    vim.fn.writefile(vim.fn.readfile(ROOT .. "/editors/nvim/doc/trifecta.txt"), doc .. "/trifecta.txt")
    vim.cmd("helptags " .. vim.fn.fnameescape(doc))
    local tags = table.concat(vim.fn.readfile(doc .. "/tags"), "\n")
    for _, tag in ipairs({ "trifecta", ":Trifecta", "trifecta-setup", "trifecta-status", "trifecta.status()", "trifecta-install" }) do
      T.ok(tags:find(vim.pesc(tag) .. "\t"), "tag " .. tag)
    end
    vim.opt.runtimepath:append(TMP .. "/rt")
    vim.cmd("help trifecta-status")
    T.match(vim.api.nvim_buf_get_name(0), "trifecta%.txt$", "help buffer")
    vim.cmd("helpclose")
  end)

  T.test("the statusline shows off while no daemon runs (polls never start it)", function()
    edit("main.py")
    trifecta.status()
    T.wait(function()
      return trifecta.status() == "trifecta: off"
    end, 5000, "trifecta: off")
    T.sleep(300)
    T.eq(trifecta.status(), "trifecta: off", "still off: the poller did not start the daemon")
  end)

  T.test("search starts the daemon, shows score, kind and file, and the choice jumps to the line", function()
    edit("main.py")
    shown = nil
    vim.cmd("Trifecta search make user")
    T.wait(function()
      return shown
    end, 20000, "the picker")
    T.match(shown.opts.prompt, 'trifecta search "make user"', "prompt")
    local pick
    for i, h in ipairs(shown.items) do
      T.match(shown.lines[i], "^%s*%d+%.%d%d  %S+:%d+  %[%a+%]  ", "picker line " .. i)
      if h.path == "pkg/models.py" and h.title == "make_user" then
        pick = h
      end
    end
    T.ok(pick, "make_user in the hits: " .. vim.inspect(shown.lines))
    shown.on_choice(pick)
    T.eq(current_rel(), "pkg/models.py", "file")
    T.eq(cursor()[1], 17, "line of def make_user")
  end)

  T.test("a misspelt word is searched as the indexed word, and the picker title says so", function()
    shown = nil
    vim.cmd("Trifecta search greetign")
    T.wait(function()
      return shown
    end, 10000, "the picker")
    T.match(shown.opts.prompt, 'trifecta search "greetign" %(searched as: greetign → greeting%)', "the correction in the title")
    local found = false
    for _, h in ipairs(shown.items) do
      found = found or h.path == "pkg/models.py"
    end
    T.ok(found, "User.greeting's file in the hits: " .. vim.inspect(shown.lines))
  end)

  T.test("the path/kind filter reaches the daemon and is shown", function()
    shown = nil
    vim.cmd("Trifecta search user path=pkg/ kind=code")
    T.wait(function()
      return shown
    end, 10000, "the picker")
    T.match(shown.opts.prompt, "%[path: pkg/, kind: code%]", "filter in the title")
    T.ok(#shown.items > 0, "hits")
    for _, h in ipairs(shown.items) do
      T.match(h.path, "^pkg/", "path filter")
      T.eq(h.kind, "code", "kind filter")
    end
    local n = #T.messages
    vim.cmd("Trifecta search zzqqxx")
    T.wait_message("no hits for \"zzqqxx\"", 10000, n + 1)
  end)

  T.test("status goes from off to AST once the daemon serves the project (no Pyright)", function()
    edit("main.py")
    T.wait(function()
      return trifecta.status() == "trifecta: AST"
    end, 10000, "trifecta: AST")
  end)

  T.test("segment: a work tree's root first, then the nearest opened segment (_ctx)", function()
    local base = TMP .. "/markers"
    vim.fn.mkdir(base .. "/outer/.git", "p")
    vim.fn.mkdir(base .. "/outer/inner/_ctx", "p")
    vim.fn.mkdir(base .. "/plain/_ctx", "p")
    vim.fn.mkdir(base .. "/plain/sub", "p")
    vim.fn.writefile({ "x = 1" }, base .. "/outer/inner/a.py")
    vim.fn.writefile({ "y = 2" }, base .. "/plain/sub/b.py")
    vim.cmd("edit " .. base .. "/outer/inner/a.py")
    T.eq(trifecta.segment(), uv.fs_realpath(base .. "/outer"), "a segment opened below a work tree")
    vim.cmd("edit " .. base .. "/plain/sub/b.py")
    T.eq(trifecta.segment(), uv.fs_realpath(base .. "/plain"), "a tree outside git, opened before")
    vim.cmd("bwipeout! " .. vim.fn.fnameescape(base .. "/outer/inner/a.py"))
    vim.cmd("bwipeout!")
  end)

  T.test("segment: none for a file in the home directory outside any work tree or opened tree", function()
    local base = uv.fs_realpath(TMP) .. "/fakehome"
    vim.fn.mkdir(base .. "/proj", "p")
    vim.fn.writefile({ "z = 3" }, base .. "/loose.py")
    vim.fn.writefile({ "w = 4" }, base .. "/proj/c.py")
    local saved_home, saved_cwd = vim.env.HOME, vim.fn.getcwd()
    vim.env.HOME = base .. "/"
    vim.cmd("cd " .. vim.fn.fnameescape(base))
    local ok, err = pcall(function()
      vim.cmd("edit " .. base .. "/loose.py")
      T.eq(trifecta.segment(), nil, "a file directly in the home directory")
      local from = #T.messages + 1
      trifecta.show_status()
      T.match(T.wait_message("no project here", 2000, from), "is your home directory", "what :Trifecta status says")
      T.eq(trifecta.status(), "", "no statusline text")
      T.eq(vim.fn.isdirectory(base .. "/_ctx"), 0, "nothing opened at home")
      -- A folder below it is a tree of its own: the file's directory, not the home directory it
      -- lies under.
      vim.cmd("edit " .. base .. "/proj/c.py")
      T.eq(trifecta.segment(), base .. "/proj", "a file in a folder of the home directory")
    end)
    vim.env.HOME = saved_home
    vim.cmd("cd " .. vim.fn.fnameescape(saved_cwd))
    vim.cmd("silent! bwipeout! " .. vim.fn.fnameescape(base .. "/loose.py"))
    vim.cmd("silent! bwipeout! " .. vim.fn.fnameescape(base .. "/proj/c.py"))
    if not ok then
      error(err, 0)
    end
  end)

  T.test("status shows the index build's progress, then the ready state", function()
    -- A tree big enough that its first build takes a while, outside the cwd: its segment is the
    -- file's directory (no .git above it).
    local big = TMP .. "/big"
    vim.fn.mkdir(big, "p")
    for i = 1, 1500 do
      local lines = {}
      for j = 1, 20 do
        table.insert(lines, string.format("def func_%d_%d(alpha, beta):", i, j))
        table.insert(lines, string.format('    """Compute thing %d of module %d."""', j, i))
        table.insert(lines, string.format("    return alpha * %d + beta - %d", j, i))
        table.insert(lines, "")
      end
      vim.fn.writefile(lines, string.format("%s/mod_%05d.py", big, i))
    end
    local before = #trifecta.poller_history()
    vim.cmd("edit " .. big .. "/mod_00001.py")
    T.eq(trifecta.segment(), uv.fs_realpath(big), "segment of a file outside the cwd")
    trifecta.status()
    T.wait(function()
      return trifecta.status() == "trifecta: AST"
    end, 120000, "the built index")
    local history = vim.list_slice(trifecta.poller_history(), before + 1)
    T.log("statusline texts seen: " .. table.concat(history, " → "))
    local pct = {}
    for _, h in ipairs(history) do
      local p = h:match("^trifecta: index building (%d+)%%$")
      if p then
        table.insert(pct, tonumber(p))
      end
    end
    T.ok(#pct >= 1, "a percentage was shown")
    for i = 2, #pct do
      T.ok(pct[i] >= pct[i - 1], "progress never goes back")
    end
    edit("main.py")
  end)

  T.test("the poller backs off while nothing changes and comes back after a command", function()
    edit("main.py")
    trifecta.status()
    local p = trifecta.poller()
    T.wait(function()
      return p.interval == 400
    end, 10000, "the interval at its maximum (400 ms here)")
    local before = p.polls
    T.sleep(1000)
    T.ok(p.polls - before <= 4, "at most 4 polls in 1 s at 400 ms: " .. (p.polls - before))
    vim.cmd("Trifecta search make user")
    T.wait(function()
      return p.interval < 400
    end, 5000, "the interval reset by the command")
  end)

  T.test("sym:// completion lists modules, then definitions, in the form typed", function()
    edit("main.py")
    T.eq(trifecta.complete_sym("pkg.m"), { "pkg.models" }, "modules")
    local defs = trifecta.complete_sym("pkg.models/")
    T.ok(vim.tbl_contains(defs, "pkg.models/User"), "class: " .. vim.inspect(defs))
    T.ok(vim.tbl_contains(defs, "pkg.models/User.greeting"), "method")
    T.ok(vim.tbl_contains(defs, "pkg.models/make_user"), "function")
    T.eq(trifecta.complete_sym("sym://python/pkg.se"), { "sym://python/pkg.service" }, "full URI form")
    T.eq(trifecta.complete("pkg.models/User.g", "Trifecta sym pkg.models/User.g", 30), { "pkg.models/User.greeting" }, ":Trifecta sym completion")
    T.eq(trifecta.complete("ou", "Trifecta ou", 11), { "outline" }, "subcommand completion")
  end)

  T.test(":Trifecta sym opens the symbol, a wrong name says what was tried", function()
    edit("main.py")
    vim.cmd("Trifecta sym pkg.models/User.greeting")
    T.wait(function()
      return current_rel() == "pkg/models.py" and cursor()[1] == 12
    end, 10000, "jump to User.greeting")
    local n = #T.messages
    vim.cmd("Trifecta sym sym://python/pkg.models/Usr")
    local msg = T.wait_message("sym sym://python/pkg.models/Usr failed", 10000, n + 1)
    T.match(msg, "User", "suggestion")
  end)

  T.test("an ambiguous sym:// name offers its candidates, the choice jumps", function()
    vim.fn.writefile({ "import sys", 'if sys.platform == "win32":', "    def pick():", "        return 1",
      "else:", "    def pick():", "        return 2" }, PROJ .. "/pkg/dup.py")
    edit("main.py")
    shown = nil
    vim.cmd("Trifecta sym pkg.dup/pick")
    T.wait(function()
      return shown
    end, 10000, "the candidates")
    T.match(shown.opts.prompt, "sym://python/pkg%.dup/pick is ambiguous", "prompt")
    T.eq(shown.lines, { "function pick  pkg/dup.py:3", "function pick  pkg/dup.py:6" }, "candidates")
    shown.on_choice(shown.items[2])
    T.eq(current_rel(), "pkg/dup.py", "file")
    T.eq(cursor()[1], 6, "the second definition")
  end)

  T.test(":Trifecta status names the daemon, the project, the index and the language server", function()
    edit("main.py")
    trifecta.last.status = nil
    local echoed
    local orig = vim.api.nvim_echo
    vim.api.nvim_echo = function(chunks)
      echoed = chunks[1][1]
    end
    vim.cmd("Trifecta status")
    local ok = pcall(T.wait, function()
      return trifecta.last.status
    end, 10000, "the status")
    vim.api.nvim_echo = orig
    T.ok(ok, "the status within 10 s")
    T.eq(echoed, table.concat(trifecta.last.status.lines, "\n"), "shown to the user")
    local text = table.concat(trifecta.last.status.lines, "\n")
    T.match(trifecta.last.status.lines[1], "^trifecta: %a", "the status line's text first")
    T.match(text, "daemon %d+%.%d+%.%d+ %(protocol 1%.%d+%), pid %d+, socket .*d%.sock", "daemon")
    T.match(text, "segment " .. vim.pesc(PROJ), "project")
    T.match(text, "index ready, generation %d+, %d+ files, %d+ chunks", "index")
    T.match(text, "lsp UNAVAILABLE", "language server")
  end)

  T.test("search without words asks for the query (default: the word under the cursor)", function()
    edit("pkg/service.py")
    vim.api.nvim_win_set_cursor(0, { 8, 11 })
    local asked
    local orig = vim.ui.input
    vim.ui.input = function(o, cb)
      asked = o
      cb("greeting user")
    end
    shown = nil
    vim.cmd("Trifecta search")
    vim.ui.input = orig
    T.eq(asked and asked.default, "make_user", "default")
    T.wait(function()
      return shown
    end, 10000, "the picker")
    T.match(shown.opts.prompt, 'trifecta search "greeting user"', "the query typed")
  end)

  T.test("outline: the file's skeleton in a side buffer, <CR> jumps to the entry", function()
    edit("pkg/models.py")
    local src = vim.api.nvim_get_current_win()
    vim.cmd("Trifecta outline")
    T.wait(function()
      return vim.bo.filetype == "trifecta-outline"
    end, 10000, "the outline buffer")
    local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    T.match(lines[1], "^pkg/models%.py %(%d+%)", "header")
    local text = table.concat(lines, "\n")
    T.match(text, "6    class User", "class")
    T.match(text, "12     def greeting%(self%) %-> str", "method, indented")
    T.match(text, "17   def make_user%(name: str, age: int = 0%) %-> User", "function")
    T.ok(vim.api.nvim_get_current_win() ~= src, "a side window")
    for i, l in ipairs(lines) do
      if l:find("def greeting", 1, true) then
        vim.api.nvim_win_set_cursor(0, { i, 0 })
      end
    end
    vim.api.nvim_input("<CR>")
    T.wait(function()
      return vim.api.nvim_get_current_win() == src and cursor()[1] == 12
    end, 5000, "the jump from the outline")
    T.eq(current_rel(), "pkg/models.py", "file")
    vim.cmd("only")
  end)

  T.test("definition, hover and references answer from the AST and say so", function()
    edit("pkg/service.py")
    vim.api.nvim_win_set_cursor(0, { 8, 11 }) -- on make_user(name)
    local n = #T.messages
    vim.cmd("Trifecta def")
    local msg = T.wait_message("^trifecta: definition", 10000, n + 1)
    T.match(msg, "pkg/models%.py:17:5 %[AST fallback %(lsp_unavailable", "backend shown")
    T.eq(current_rel(), "pkg/models.py", "definition file")
    T.eq(cursor(), { 17, 4 }, "definition position")

    edit("pkg/service.py")
    vim.api.nvim_win_set_cursor(0, { 8, 11 })
    vim.cmd("Trifecta hover")
    local text = T.wait(float_text, 10000, "the hover window")
    T.match(text, "def make_user%(name: str, age: int = 0%) %-> User", "hover contents")
    T.match(text, "AST fallback", "backend shown in the hover")
    close_floats()

    edit("pkg/models.py")
    vim.api.nvim_win_set_cursor(0, { 17, 4 })
    vim.fn.setqflist({}, "r")
    vim.cmd("Trifecta refs")
    T.wait(function()
      return #vim.fn.getqflist() >= 3
    end, 10000, "references in the quickfix list")
    local qf = vim.fn.getqflist({ title = 1, items = 1 })
    T.match(qf.title, "references to make_user %[AST fallback", "quickfix title")
    local files = {}
    for _, it in ipairs(qf.items) do
      files[vim.fn.bufname(it.bufnr):gsub("^.*/proj/", "")] = true
    end
    T.ok(files["pkg/models.py"] and files["pkg/service.py"], "definition and use: " .. vim.inspect(files))
    vim.cmd("cclose")
  end)

  T.test("columns are sent in code points: a definition after two emoji on the line", function()
    edit("main.py")
    local line = vim.api.nvim_buf_get_lines(0, 3, 4, false)[1]
    local byte = line:find("welcome", 1, true) - 1
    vim.api.nvim_win_set_cursor(0, { 4, byte })
    T.eq(trifecta._position_params().column, 26, "code-point column (the byte column is " .. (byte + 1) .. ")")
    local n = #T.messages
    vim.cmd("Trifecta def")
    T.wait_message("^trifecta: definition pkg/service%.py:7", 10000, n + 1)
    T.eq(current_rel(), "pkg/service.py", "file")
    T.eq(cursor()[1], 7, "line")
  end)

  T.test("lsp_mappings: gd in a Python buffer without an LSP client runs the definition", function()
    trifecta.setup(vim.tbl_extend("force", opts, { lsp_mappings = true }))
    vim.cmd("filetype on")
    vim.cmd("edit! " .. vim.fn.fnameescape(PROJ .. "/pkg/service.py"))
    T.eq(vim.bo.filetype, "python", "filetype")
    vim.api.nvim_win_set_cursor(0, { 8, 11 })
    local n = #T.messages
    vim.api.nvim_input("gd")
    T.wait_message("^trifecta: definition pkg/models%.py:17:5", 10000, n + 1)
    T.eq(current_rel(), "pkg/models.py", "file")
    trifecta.setup(opts)
  end)

  T.test("diagnostics: syntax errors in the quickfix list and vim.diagnostic", function()
    vim.fn.writefile({ "def oops(:", "    pass" }, PROJ .. "/pkg/broken.py")
    edit("pkg/broken.py")
    local buf = vim.api.nvim_get_current_buf()
    local n = #T.messages
    vim.cmd("Trifecta diag")
    local msg = T.wait_message("diagnostics in pkg/broken%.py", 10000, n + 1)
    T.match(msg, "AST fallback", "backend shown")
    local qf = vim.fn.getqflist()
    T.ok(#qf >= 1, "quickfix entries")
    T.eq(qf[1].type, "E", "an error")
    T.ok(#vim.diagnostic.get(buf) >= 1, "vim.diagnostic entries")
  end)

  T.test("context: ctx.get output in a scratch buffer, within the budget", function()
    -- Run a :Trifecta context command; the context buffer's lines once it shows.
    local function context(cmd, what)
      vim.cmd(cmd)
      T.wait(function()
        return vim.api.nvim_buf_get_name(0):find("trifecta://context", 1, true)
      end, 10000, what)
      return vim.api.nvim_buf_get_lines(0, 0, -1, false)
    end
    edit("pkg/models.py")
    local text = table.concat(context("Trifecta context mode=skeleton", "the context buffer"), "\n")
    T.match(text, "sym://python/pkg%.models — mode skeleton", "header")
    T.match(text, "class User", "skeleton text")
    T.eq(vim.bo.buftype, "nofile", "scratch")
    vim.cmd("close")
    local head = context("Trifecta context budget=40 mode=raw make user", "the context buffer")[1]
    local used, budget = head:match("(%d+) of (%d+) tokens")
    T.eq(tonumber(budget), 40, "budget")
    T.ok(tonumber(used) <= 40, "used within the budget: " .. head)
    vim.cmd("close")
    -- A file that is not Python: the file itself (ctx.get takes files).
    vim.fn.writefile({ "# Notes", "", "Deploy with care." }, PROJ .. "/NOTES.md")
    edit("NOTES.md")
    local notes = table.concat(context("Trifecta context mode=raw", "the context buffer of a markdown file"), "\n")
    T.match(notes, "NOTES%.md — mode raw", "header names the file")
    T.match(notes, "Deploy with care%.", "the file's text")
    vim.cmd("close")
  end)

  T.test("map: the ranked overview in a buffer, <CR> opens the symbol, a path and a budget narrow it", function()
    edit("main.py")
    local src = vim.api.nvim_get_current_win()
    vim.cmd("Trifecta map")
    T.wait(function()
      return vim.bo.filetype == "trifecta-map"
    end, 10000, "the map buffer")
    local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    local shown, all = lines[1]:match("^trifecta map of proj — (%d+) of (%d+) Python files, %d+ of 1024 tokens$")
    T.ok(shown and shown == all, "header, every file shown: " .. lines[1])
    local text = table.concat(lines, "\n")
    -- the file every other one imports comes first, then its importer
    local models, service = text:find("# pkg/models.py", 1, true), text:find("# pkg/service.py", 1, true)
    T.ok(models and service and models < service, "pkg/models.py before pkg/service.py:\n" .. text)
    T.match(text, "class User:  # L5%-14", "a class with its range")
    T.match(text, "def make_user%(name: str, age: int = 0%) %-> User:  # L17%-19", "a function")
    T.eq(vim.bo.modifiable, false, "read-only")
    T.ok(vim.api.nvim_get_current_win() ~= src, "its own window")
    -- the decorator line goes where its class goes: the class line (6), not the decorator (5)
    local function row_of(prefix)
      for i, l in ipairs(lines) do
        if vim.trim(l):sub(1, #prefix) == prefix then
          return i
        end
      end
      error("no map line starts with " .. prefix)
    end
    vim.api.nvim_win_set_cursor(0, { row_of("@dataclass"), 0 })
    vim.api.nvim_input("<CR>")
    T.wait(function()
      return vim.api.nvim_get_current_win() == src and current_rel() == "pkg/models.py"
    end, 5000, "the jump from the map")
    T.eq(cursor()[1], 6, "the class line")
    vim.cmd("wincmd b")
    T.eq(vim.bo.filetype, "trifecta-map", "the map stays open")
    vim.api.nvim_win_set_cursor(0, { row_of("def welcome("), 0 })
    vim.api.nvim_input("<CR>")
    T.wait(function()
      return current_rel() == "pkg/service.py" and cursor()[1] == 7
    end, 5000, "the jump to welcome")
    vim.cmd("only")

    -- a folder (relative to the current directory, here the project) and a small budget: not every
    -- file, the first in part (no file takes more than a quarter while others wait)
    local n = #T.messages
    vim.cmd("Trifecta map pkg budget=64")
    T.wait_message("^trifecta: map: [12] of [345] Python files, %d+ of 64 tokens %(a larger budget shows more%)", 10000, n + 1)
    T.eq(vim.api.nvim_buf_get_name(0):match("trifecta://map/.*$"), "trifecta://map/pkg", "buffer name")
    lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    T.match(lines[1], "^trifecta map of pkg — [12] of [345] Python files, [12] in part, %d+ of 64 tokens$", "header")
    T.match(lines[#lines], "^%(more with a budget above 64", "the footer says a larger budget shows more")
    T.ok(not table.concat(lines, "\n"):find("main.py", 1, true), "nothing outside pkg/")
    vim.cmd("close")

    -- "%": the current file only
    edit("pkg/service.py")
    n = #T.messages
    vim.cmd("Trifecta map %")
    T.wait_message("^trifecta: map: 1 of 1 Python files", 10000, n + 1)
    T.match(vim.api.nvim_buf_get_lines(0, 2, 3, false)[1], "^# pkg/service%.py", "the file")
    vim.cmd("only")

    -- bad paths: a typed error each, no buffer
    n = #T.messages
    vim.cmd("Trifecta map ../..")
    T.match(T.wait_message("^trifecta: map failed", 10000, n + 1), "outside the segment", "PATH_ESCAPE")
    n = #T.messages
    vim.cmd("Trifecta map no/such/dir")
    T.match(T.wait_message("^trifecta: map failed", 10000, n + 1), "no such file or folder", "NOT_FOUND")
    n = #T.messages
    vim.cmd("Trifecta map budget=10")
    T.match(T.wait_message("^trifecta: map failed", 10000, n + 1), "budget", "INVALID_PARAMS")
    T.eq(#vim.api.nvim_list_wins(), 1, "no map window for an error")

    -- completion offers budget= and the files of the current directory
    local c = trifecta.complete("", "Trifecta map ", 13)
    T.eq(c[1], "budget=", "budget= first")
    T.ok(vim.tbl_contains(c, "pkg/"), "a folder: " .. vim.inspect(c))
  end)

  T.test("a slow request does not block the editor: a keypress is handled while it is pending", function()
    local c = trifecta.client()
    local pressed, answered, pending_at_press
    vim.keymap.set("n", "<F12>", function()
      pressed = uv.hrtime()
      pending_at_press = c:in_flight()
    end)
    local t0 = uv.hrtime()
    c:request("debug.sleep", { ms = 1500 }, function(r, e)
      answered = { r = r, e = e, t = uv.hrtime() }
    end)
    vim.api.nvim_input("<F12>")
    T.wait(function()
      return pressed
    end, 1000, "the keypress")
    T.ok((pressed - t0) / 1e6 < 500, "key handled within 500 ms")
    T.ok(not answered and pending_at_press >= 1, "while the request was pending")
    T.wait(function()
      return answered
    end, 5000, "the slow reply")
    T.eq(answered.r and answered.r.slept_ms, 1500, "reply")
  end)

  T.test("a reply that does not come in time fails with a clear message, the connection stays usable", function()
    local c = trifecta.client()
    local got
    c:request("debug.sleep", { ms = 1500 }, function(r, e)
      got = { r = r, e = e }
    end, { timeout_ms = 200 })
    T.wait(function()
      return got
    end, 3000, "the timeout")
    T.eq(got.e and got.e.name, "TIMEOUT", "error name")
    T.match(got.e.message, "did not answer debug%.sleep within 200 ms", "message")
    local pong
    c:request("ping", nil, function(r)
      pong = r
    end)
    T.wait(function()
      return pong
    end, 3000, "ping after the timeout")
  end)

  T.test("a dead daemon: pending requests fail with a clear message, then the next call reconnects", function()
    local c = trifecta.client()
    local pid = c.daemon_info.pid
    local got
    c:request("debug.sleep", { ms = 10000 }, function(r, e)
      got = { r = r, e = e }
    end)
    T.sleep(100)
    uv.kill(pid, "sigkill")
    T.wait(function()
      return got
    end, 5000, "the pending request's failure")
    T.eq(got.e.name, "UNAVAILABLE", "error name")
    T.match(got.e.message, "trifectad closed the connection", "message")
    T.wait(function()
      return trifecta.status() == "trifecta: off"
    end, 5000, "statusline off")

    -- Without autostart the user is told how to start it.
    trifecta.setup(vim.tbl_extend("force", opts, { autostart = false }))
    local n = #T.messages
    vim.cmd("Trifecta search make user")
    local msg = T.wait_message("search failed", 5000, n + 1)
    T.match(msg, "cannot connect to trifectad at .*d%.sock", "what failed")
    T.match(msg, "trifecta daemon start", "what to do")

    -- With autostart the next call starts a new daemon and answers — also when it queued
    -- behind a request that may not start it (a status poll).
    trifecta.setup(opts)
    local quiet, loud
    trifecta.client():request("ping", nil, function(r, e)
      quiet = { r = r, e = e }
    end, { spawn = false })
    trifecta.client():request("ping", nil, function(r, e)
      loud = { r = r, e = e }
    end)
    T.wait(function()
      return quiet and loud
    end, 20000, "both pings")
    T.ok(loud.r and loud.r.pong, "the request allowed to start the daemon is answered: " .. vim.inspect(loud.e))
    T.ok(loud.r.pid ~= pid, "by a new daemon")
    shown = nil
    vim.cmd("Trifecta search make user")
    T.wait(function()
      return shown
    end, 20000, "the picker after the restart")
    T.ok(trifecta.client().daemon_info.pid ~= pid, "a new daemon")
    T.wait(function()
      return trifecta.status() == "trifecta: AST"
    end, 10000, "statusline back")
  end)

  T.test("status text for each state (pure)", function()
    local f = require("trifecta.status").format
    T.eq(f(nil), "trifecta: …")
    T.eq(f({ daemon = false }), "trifecta: off")
    T.eq(f({ daemon = true, index = "building", progress = { done = 42, total = 100 } }), "trifecta: index building 42%")
    T.eq(f({ daemon = true, index = "building" }), "trifecta: index building")
    T.eq(f({ daemon = true, index = "ready", lsp = "WARMING" }), "trifecta: WARMING")
    T.eq(f({ daemon = true, index = "ready", lsp = "COLD" }), "trifecta: WARMING")
    T.eq(f({ daemon = true, index = "ready", lsp = "READY" }), "trifecta: READY")
    T.eq(f({ daemon = true, index = "failed", lsp = "READY" }), "trifecta: index failed")
    T.eq(f({ daemon = true, lsp = "READY" }), "trifecta: …", "index state not known yet")
  end)

  T.after = function()
    trifecta.setup(opts)
  end
end
