-- trifecta — Neovim frontend of trifectad (docs/editors.md, :help trifecta).
--
-- Every feature is one request on the shared connection of trifecta.client (async: the editor
-- never waits for the daemon, except the command-line completion of `:Trifecta sym`, which
-- waits at most `complete_timeout_ms` with vim.wait, so the event loop keeps running).
--
-- Public API: setup(opts), status(), search(query, filters), search_prompt(), sym(uri),
-- outline(), definition(), hover(), references(), diagnostics(), context(args), map(args),
-- show_status(), complete_sym(arglead), command(args) (what :Trifecta runs) and complete(...)
-- (its completion).
--
-- Thread rules: main loop only. Failure behaviour: a failed request is reported with
-- vim.notify ("trifecta: <what> failed: <daemon's message>") at ERROR level; nothing raises.
local client_mod = require("trifecta.client")
local project = require("trifecta.project")
local status_mod = require("trifecta.status")

local M = {}

local defaults = {
  socket = nil, -- default: $TRIFECTA_SOCKET, $XDG_RUNTIME_DIR/trifecta/trifectad.sock, /tmp/trifecta-<uid>/…
  daemon = nil, -- trifectad binary; default: $TRIFECTA_DAEMON, else `trifectad` on PATH
  daemon_args = {}, -- extra arguments when the plugin starts trifectad
  start_cmd = nil, -- a list replacing the start command, e.g. { "trifecta", "daemon", "start" }
  autostart = true, -- start the daemon when nothing listens on the socket
  timeout_ms = 10000, -- per request (search, outline, …)
  lsp_timeout_ms = 30000, -- def/hover/refs/diag (Pyright may be slow on a cold file)
  lsp_wait_ms = 0, -- wait_ready_ms for def/hover/refs/diag: 0 = answer from the AST while Pyright warms up
  root_markers = { ".git", "_ctx" },
  segment = nil, -- a path or function(bufnr) → path: overrides the root detection
  picker = "auto", -- "auto" (Telescope when installed, else vim.ui.select) | "select" | "telescope"
  search_limit = 20,
  context = { mode = "excerpt", budget = 2000 },
  map = { budget = 1024 }, -- :Trifecta map: token budget of the overview (64..100000)
  outline_width = 40,
  complete_timeout_ms = 1500,
  status = { min_ms = 500, max_ms = 10000 },
  -- true: in Python buffers with no LSP client attached, map gd / K / gr (buffer-local) to
  -- :Trifecta def / hover / refs
  lsp_mappings = false,
}

M.config = vim.deepcopy(defaults)
M.last = {} -- the last result of each command (for statusline integrations and tests)

local client, poller

local function notify(msg, level)
  vim.notify("trifecta: " .. msg, level or vim.log.levels.INFO)
end

local function fail(what, e)
  local msg = what .. " failed: " .. (e.message or e.name or "error")
  local data = e.data or {}
  if type(data.suggestions) == "table" and #data.suggestions > 0 then
    msg = msg .. " (did you mean: " .. table.concat(data.suggestions, ", ") .. ")"
  end
  notify(msg, vim.log.levels.ERROR)
end

function M.client()
  if not client then
    local c = M.config
    client = client_mod.new({
      socket = c.socket,
      daemon = c.daemon,
      daemon_args = c.daemon_args,
      start_cmd = c.start_cmd,
      autostart = c.autostart,
      timeout_ms = c.timeout_ms,
    })
  end
  return client
end

local function get_poller()
  if not poller then
    poller = status_mod.new(M.client(), {
      min_ms = M.config.status.min_ms,
      max_ms = M.config.status.max_ms,
      on_change = function()
        pcall(vim.cmd, "redrawstatus!")
        pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "TrifectaStatus", modeline = false })
      end,
    })
  end
  return poller
end

local function lsp_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr })
  end
  return vim.lsp.buf_get_clients(bufnr) -- 0.7–0.9
end

-- gd / K / gr in `bufnr` when no LSP client serves it (lsp_mappings = true).
function M.map_buffer(bufnr)
  if next(lsp_clients(bufnr)) ~= nil then
    return false
  end
  local o = { buffer = bufnr, silent = true }
  vim.keymap.set("n", "gd", M.definition, vim.tbl_extend("force", o, { desc = "trifecta: definition" }))
  vim.keymap.set("n", "K", M.hover, vim.tbl_extend("force", o, { desc = "trifecta: hover" }))
  vim.keymap.set("n", "gr", M.references, vim.tbl_extend("force", o, { desc = "trifecta: references" }))
  return true
end

local augroup = vim.api.nvim_create_augroup("trifecta", { clear = true })

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  vim.api.nvim_clear_autocmds({ group = augroup })
  if M.config.lsp_mappings then
    vim.api.nvim_create_autocmd("FileType", {
      group = augroup,
      pattern = "python",
      callback = function(a)
        M.map_buffer(a.buf)
      end,
    })
  end
  if poller then
    poller:stop()
    poller = nil
  end
  if client then
    client:close()
    client = nil
  end
  project.clear_cache()
  return M
end

function M.segment(bufnr)
  return project.segment(bufnr, M.config)
end

-- Where there is no segment (a file in the home directory or /, outside any work tree or opened
-- tree): say so instead of sending a request.
local function no_segment(what)
  local file = project.file_of(0)
  local dir = file and file:match("^(.*)/[^/]*$") or project.realpath(vim.fn.getcwd())
  if dir == "" then
    dir = "/"
  end
  notify(
    string.format(
      "%s: no project here: %s is %s, not a git work tree or a tree trifecta has opened, and would be indexed whole; open a project's file, or set `segment` in setup()",
      what,
      dir,
      dir == "/" and "the filesystem root" or "your home directory"
    ),
    vim.log.levels.WARN
  )
end

-- Send `method` for the current segment; cb(result) runs only on success.
local function call(what, method, params, cb, ropts)
  params = params or {}
  params.segment = params.segment or M.segment()
  if not params.segment then
    return no_segment(what)
  end
  M.client():request(method, params, function(r, e)
    if poller then
      poller:poke()
    end
    if e then
      M.last[what] = { error = e }
      return fail(what, e)
    end
    cb(r, params.segment)
  end, ropts)
end
M._call = call

-- Code points before byte `byte` of `text`, and the byte offset of code point `index`: the
-- signatures of vim.str_utfindex / vim.str_byteindex changed in 0.11 (an encoding argument).
local new_index_api = vim.fn.has("nvim-0.11") == 1
function M.utfindex(text, byte)
  if new_index_api then
    return vim.str_utfindex(text, "utf-32", byte, false)
  end
  return (vim.str_utfindex(text, byte)) -- 0.7–0.10: (utf-32 index, utf-16 index)
end
function M.byteindex(text, index)
  if new_index_api then
    return vim.str_byteindex(text, "utf-32", index, false)
  end
  return vim.str_byteindex(text, index)
end

-- Move to `file` at 1-based `line` and 1-based code-point `col` (default 1), keeping the jumplist.
function M.jump(file, line, col)
  vim.cmd("normal! m'")
  if project.file_of(0) ~= project.realpath(file) then
    -- a modified buffer without 'hidden' cannot be abandoned: open the target in a split then
    local ok = pcall(vim.cmd, "edit " .. vim.fn.fnameescape(file))
    if not ok then
      vim.cmd("split " .. vim.fn.fnameescape(file))
    end
  end
  local n = vim.api.nvim_buf_line_count(0)
  line = math.max(1, math.min(line or 1, n))
  local text = vim.api.nvim_buf_get_lines(0, line - 1, line, false)[1] or ""
  local byte = 0
  if col and col > 1 then
    local ok, b = pcall(M.byteindex, text, col - 1)
    byte = ok and b or 0
  end
  vim.api.nvim_win_set_cursor(0, { line, byte })
end

-- The answering backend of an lsp.* reply, for people: "lsp READY", "lsp+ast READY (AST asked:
-- lsp_empty)" (Pyright's answer with the AST's added) or "AST fallback (why)".
function M.backend_label(r)
  if r.backend == "lsp" then
    return "lsp " .. (r.lsp_state or "")
  end
  if r.backend == "lsp+ast" then
    local s = "lsp+ast " .. (r.lsp_state or "")
    if r.merge_reason then
      s = s .. " (AST asked: " .. r.merge_reason .. ")"
    end
    return s
  end
  local why = r.fallback_reason or ("lsp " .. (r.lsp_state or "?"))
  local s = "AST fallback (" .. why
  if r.rule then
    s = s .. ", rule " .. r.rule
  end
  return s .. ")"
end

-- ---------------------------------------------------------------------------------------------
-- Search picker

-- Pure: one picker line for a hit.
function M.format_hit(h)
  return string.format("%7.2f  %s:%d  [%s]  %s", h.score or 0, h.path, h.start_line, h.kind or "", h.title or h.preview or "")
end

-- Pure: the picker's title: query, filters, how many.
function M.search_title(r, filters)
  local f = {}
  if filters.path and filters.path ~= "" then
    table.insert(f, "path: " .. filters.path)
  end
  if filters.kind and filters.kind ~= "" then
    table.insert(f, "kind: " .. filters.kind)
  end
  local s = string.format("trifecta search %q", r.query or "")
  -- Words the index lacks, searched as the closest indexed word (protocol 1.7).
  if r.corrected and #r.corrected > 0 then
    local c = {}
    for _, x in ipairs(r.corrected) do
      table.insert(c, x.from .. " → " .. x.to)
    end
    s = s .. " (searched as: " .. table.concat(c, ", ") .. ")"
  end
  if #f > 0 then
    s = s .. " [" .. table.concat(f, ", ") .. "]"
  end
  return s .. string.format(" — %d of %d (score  file:line  [kind]  title)", #(r.hits or {}), r.matched or 0)
end

-- Split "words path=glob kind=code limit=5" into the query and the filters.
function M.parse_search_args(args)
  local words, filters = {}, {}
  for _, a in ipairs(args) do
    local k, v = a:match("^(%a+)=(.*)$")
    if k == "path" or k == "kind" then
      filters[k] = v
    elseif k == "limit" then
      filters.limit = tonumber(v)
    else
      table.insert(words, a)
    end
  end
  return table.concat(words, " "), filters
end

local function use_telescope()
  local p = M.config.picker
  if p == "select" then
    return false
  end
  local ok = pcall(require, "telescope")
  if p == "telescope" and not ok then
    notify("picker = 'telescope' but Telescope is not installed; using vim.ui.select", vim.log.levels.WARN)
  end
  return ok
end

-- Search the current project; show the hits in the picker; choosing one jumps to it.
-- filters: path (glob), kind (code|doc|other), limit.
function M.search(query, filters)
  filters = filters or {}
  if not query or #query < 2 then
    return notify("search needs a query of at least 2 characters", vim.log.levels.WARN)
  end
  local params = { query = query, limit = filters.limit or M.config.search_limit }
  if filters.path and filters.path ~= "" then
    params.path = filters.path
  end
  if filters.kind and filters.kind ~= "" then
    params.kind = filters.kind
  end
  call("search", "ctx.search", params, function(r, seg)
    M.last.search = { result = r, segment = seg, filters = filters }
    local hits = r.hits or {}
    if #hits == 0 then
      local msg = string.format("no hits for %q", query)
      if r.reason then
        msg = msg .. ": " .. r.reason
      end
      if r.did_you_mean and #r.did_you_mean > 0 then
        msg = msg .. " (did you mean: " .. table.concat(r.did_you_mean, ", ") .. ")"
      end
      return notify(msg, vim.log.levels.WARN)
    end
    local function choose(h)
      if h then
        M.jump(project.absolute(seg, h.path), h.start_line, 1)
      end
    end
    if use_telescope() then
      require("telescope").extensions.trifecta.show(r, seg, filters, choose)
    else
      vim.ui.select(hits, { prompt = M.search_title(r, filters), format_item = M.format_hit, kind = "trifecta.search" }, choose)
    end
  end)
end

function M.search_prompt(filters)
  vim.ui.input({ prompt = "trifecta search: ", default = vim.fn.expand("<cword>") }, function(q)
    if q and q ~= "" then
      M.search(q, filters)
    end
  end)
end

-- ---------------------------------------------------------------------------------------------
-- sym://

local SYM = "sym://python/"

-- "json.decoder/JSONDecoder.decode" or a full sym:// URI → the full URI.
function M.sym_uri(arg)
  if arg:match("^sym://") then
    return arg
  end
  return SYM .. arg
end

local modules_cache = {} -- segment -> {at=, list=}
local symbols_cache = {} -- segment .. module -> {at=, list=}

local function wait_request(method, params, timeout)
  local done, res = false, nil
  M.client():request(method, params, function(r, e)
    done, res = true, (not e) and r or nil
  end, { timeout_ms = timeout })
  vim.wait(timeout, function()
    return done
  end, 5)
  return res
end

-- Command-line completion of sym:// names: modules of the project (a walk of its .py files),
-- then, after "module/", the module's definitions (ast.symbols). Keeps the form typed (with or
-- without the "sym://python/" prefix).
function M.complete_sym(arglead)
  local seg = M.segment()
  if not seg then
    return {}
  end
  local prefix = ""
  local rest = arglead
  if arglead:sub(1, #SYM) == SYM then
    prefix, rest = SYM, arglead:sub(#SYM + 1)
  elseif arglead:match("^s") and SYM:sub(1, #arglead) == arglead then
    return { SYM }
  end
  local now = (vim.uv or vim.loop).now()
  local slash = rest:find("/", 1, true)
  local out = {}
  if not slash then
    local c = modules_cache[seg]
    if not c or now - c.at > 30000 then
      c = { at = now, list = project.modules(seg) }
      modules_cache[seg] = c
    end
    for _, m in ipairs(c.list) do
      if m:sub(1, #rest) == rest then
        table.insert(out, prefix .. m)
      end
    end
    return out
  end
  local module, qual = rest:sub(1, slash - 1), rest:sub(slash + 1)
  local key = seg .. "\0" .. module
  local c = symbols_cache[key]
  if not c or now - c.at > 10000 then
    local r = wait_request("ast.symbols", { segment = seg, path = SYM .. module }, M.config.complete_timeout_ms)
    local list = {}
    if r then
      for _, s in ipairs(r.symbols or {}) do
        if not s.qualname:find("<locals>", 1, true) then
          table.insert(list, s.qualname)
        end
      end
      for _, k in ipairs(r.constants or {}) do
        table.insert(list, k.name)
      end
      table.sort(list)
    end
    c = { at = now, list = list }
    symbols_cache[key] = c
  end
  for _, q in ipairs(c.list) do
    if q:sub(1, #qual) == qual then
      table.insert(out, prefix .. module .. "/" .. q)
    end
  end
  return out
end

-- Resolve a sym:// name and jump to its definition (several candidates: pick one).
function M.sym(arg)
  if not arg or arg == "" then
    return notify("sym needs a name: :Trifecta sym json.decoder/JSONDecoder.decode", vim.log.levels.WARN)
  end
  local uri = M.sym_uri(arg)
  local seg = M.segment()
  if not seg then
    return no_segment("sym")
  end
  M.client():request("sym.resolve", { segment = seg, uri = uri }, function(r, e)
    if e and e.name == "AMBIGUOUS_SYMBOL" and e.data and e.data.candidates then
      M.last.sym = { error = e }
      vim.ui.select(e.data.candidates, {
        prompt = uri .. " is ambiguous:",
        format_item = function(c)
          return string.format("%s %s  %s:%d", c.kind, c.qualname, c.file, c.line)
        end,
      }, function(c)
        if c then
          M.jump(project.absolute(seg, c.file), c.line, 1)
        end
      end)
      return
    end
    if e then
      M.last.sym = { error = e }
      return fail("sym " .. uri, e)
    end
    M.last.sym = { result = r }
    M.jump(project.absolute(seg, r.file), r.line, 1)
    notify(string.format("%s %s — %s:%d", r.kind, r.qualname ~= "" and r.qualname or r.module, r.file, r.line))
  end)
end

-- ---------------------------------------------------------------------------------------------
-- Outline

local KIND = { class = "class", ["function"] = "def", method = "def", constant = "const" }

-- Pure: the outline's lines and their target lines from an ast.symbols reply.
function M.outline_lines(r)
  local entries = {}
  for _, s in ipairs(r.symbols or {}) do
    if not s.qualname:find("<locals>", 1, true) then
      local depth = select(2, s.qualname:gsub("%.", ""))
      local text = string.rep("  ", depth) .. (KIND[s.kind] or s.kind) .. " " .. s.name .. (s.kind == "class" and "" or (s.signature or ""))
      table.insert(entries, { line = s.line, text = text })
    end
  end
  for _, k in ipairs(r.constants or {}) do
    table.insert(entries, { line = k.line, text = k.name .. (k.annotation ~= "" and (": " .. k.annotation) or "") })
  end
  table.sort(entries, function(a, b)
    return a.line < b.line
  end)
  local lines, targets = {}, {}
  for _, en in ipairs(entries) do
    table.insert(lines, string.format("%-4d %s", en.line, en.text))
    table.insert(targets, en.line)
  end
  return lines, targets
end

-- A listing (the outline, the map): read-only scratch buffer `name` holding `lines`, with buffer
-- variable `var` = `value` (its jump targets and the window it came from), shown in a window
-- opened by `split` (or the one already showing it) and made current; <CR> runs `on_enter`, q
-- closes. Returns the buffer.
local function show_listing(name, lines, filetype, var, value, split, on_enter, desc)
  local buf = vim.fn.bufnr("^" .. vim.fn.escape(name, "\\/.*$^~[]") .. "$")
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = filetype
  vim.api.nvim_buf_set_var(buf, var, value)
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd(split)
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
    vim.wo[win].number = false
    vim.wo[win].wrap = false
  else
    vim.api.nvim_set_current_win(win)
  end
  vim.keymap.set("n", "<CR>", on_enter, { buffer = buf, silent = true, desc = desc })
  vim.keymap.set("n", "q", "<cmd>close<CR>", { buffer = buf, silent = true })
  return buf
end

-- From a listing buffer: its variable `var` and the target of the cursor's row (`offset` rows
-- of header above the first target), or nil; with a target, the window the listing came from
-- (else the previous one) is made current for the jump.
local function listing_target(var, offset)
  local ok, o = pcall(vim.api.nvim_buf_get_var, 0, var)
  if not ok then
    return nil
  end
  local target = o.targets[vim.api.nvim_win_get_cursor(0)[1] - offset]
  if not target then
    return nil
  end
  if vim.api.nvim_win_is_valid(o.source_win) and o.source_win ~= vim.api.nvim_get_current_win() then
    vim.api.nvim_set_current_win(o.source_win)
  else
    vim.cmd("wincmd p")
  end
  return o, target
end

-- The current file's skeleton in a side buffer; <CR> jumps to the entry's line, q closes.
function M.outline()
  local file = project.file_of(0)
  if not file then
    return notify("outline needs a file buffer", vim.log.levels.WARN)
  end
  local src_win = vim.api.nvim_get_current_win()
  call("outline", "ast.symbols", { path = file }, function(r)
    M.last.outline = { result = r }
    local lines, targets = M.outline_lines(r)
    local header = string.format("%s (%d)%s", r.file, #targets, r.status == "partial" and " — syntax errors, partial" or "")
    table.insert(lines, 1, header)
    M.last.outline.buf = show_listing("trifecta://outline/" .. r.file, lines, "trifecta-outline", "trifecta_outline",
      { file = file, targets = targets, source_win = src_win }, "topleft vertical " .. M.config.outline_width .. "split",
      M.outline_jump, "trifecta: jump to this definition")
  end)
end

-- From the outline buffer: jump to the entry under the cursor in the source window.
function M.outline_jump()
  local o, line = listing_target("trifecta_outline", 1) -- row 1 is the header
  if o then
    M.jump(o.file, line, 1)
  end
end

-- ---------------------------------------------------------------------------------------------
-- Definition, hover, references, diagnostics

local function position_params()
  local file = project.file_of(0)
  if not file then
    return nil
  end
  local row, byte = unpack(vim.api.nvim_win_get_cursor(0))
  local text = vim.api.nvim_buf_get_lines(0, row - 1, row, false)[1] or ""
  local col = M.utfindex(text, math.min(byte, #text)) + 1 -- code points, 1-based
  return { path = file, line = row, column = col, wait_ready_ms = M.config.lsp_wait_ms }
end
M._position_params = position_params

local function lsp_call(what, method, extra, cb)
  local p = position_params()
  if not p then
    return notify(what .. " needs a file buffer", vim.log.levels.WARN)
  end
  for k, v in pairs(extra or {}) do
    p[k] = v
  end
  call(what, method, p, cb, { timeout_ms = M.config.lsp_timeout_ms })
end

local function to_qf(seg, locations, fallback_text)
  local items = {}
  for _, l in ipairs(locations or {}) do
    table.insert(items, {
      filename = project.absolute(seg, l.path),
      lnum = l.line,
      col = l.column,
      end_lnum = l.end_line,
      end_col = l.end_column,
      text = l.text or fallback_text or "",
    })
  end
  return items
end

function M.definition()
  lsp_call("definition", "lsp.definition", nil, function(r, seg)
    M.last.definition = { result = r }
    local locs = r.locations or {}
    local label = M.backend_label(r)
    if #locs == 0 then
      return notify("no definition found" .. (r.reason and (": " .. r.reason) or "") .. " [" .. label .. "]", vim.log.levels.WARN)
    end
    if #locs == 1 then
      local l = locs[1]
      M.jump(project.absolute(seg, l.path), l.line, l.column)
      return notify(string.format("definition %s:%d:%d [%s]", l.path, l.line, l.column, label))
    end
    vim.fn.setqflist({}, " ", { title = "trifecta definitions [" .. label .. "]", items = to_qf(seg, locs, r.name) })
    vim.cmd("copen")
    notify(#locs .. " definitions [" .. label .. "]")
  end)
end

function M.hover()
  lsp_call("hover", "lsp.hover", nil, function(r)
    local label = M.backend_label(r)
    M.last.hover = { result = r }
    if r.contents == nil or r.contents == "" then
      return notify("nothing to show here" .. (r.reason and (": " .. r.reason) or "") .. " [" .. label .. "]", vim.log.levels.WARN)
    end
    local lines = vim.split(r.contents, "\n", { plain = true })
    table.insert(lines, "")
    table.insert(lines, "— " .. label)
    local buf, win = vim.lsp.util.open_floating_preview(lines, r.kind == "markdown" and "markdown" or "plaintext", { focus_id = "trifecta_hover" })
    M.last.hover.buf, M.last.hover.win = buf, win
  end)
end

function M.references()
  lsp_call("references", "lsp.references", { include_declaration = true }, function(r, seg)
    local label = M.backend_label(r)
    M.last.references = { result = r }
    local locs = r.locations or {}
    if #locs == 0 then
      return notify("no references found [" .. label .. "]", vim.log.levels.WARN)
    end
    local title = string.format("trifecta references%s [%s]%s", r.name and (" to " .. r.name) or "", label, r.truncated and " (truncated)" or "")
    vim.fn.setqflist({}, " ", { title = title, items = to_qf(seg, locs, r.name) })
    vim.cmd("copen")
    vim.cmd("wincmd p")
    notify(#locs .. " references [" .. label .. "]")
  end)
end

local SEVERITY = { error = "E", warning = "W", information = "I", hint = "N" }
local ns = vim.api.nvim_create_namespace("trifecta")

function M.diagnostics()
  local bufnr = vim.api.nvim_get_current_buf()
  local file = project.file_of(bufnr)
  if not file then
    return notify("diagnostics need a file buffer", vim.log.levels.WARN)
  end
  call("diagnostics", "lsp.diagnostics", { path = file, wait_ready_ms = M.config.lsp_wait_ms }, function(r, seg)
    local label = M.backend_label(r)
    M.last.diagnostics = { result = r }
    local diags, items = {}, {}
    for _, d in ipairs(r.diagnostics or {}) do
      table.insert(diags, {
        lnum = d.line - 1,
        col = math.max(d.column - 1, 0),
        end_lnum = d.end_line - 1,
        end_col = math.max(d.end_column - 1, 0),
        severity = vim.diagnostic.severity[({ error = "ERROR", warning = "WARN", information = "INFO", hint = "HINT" })[d.severity] or "ERROR"],
        message = d.message,
        source = d.source,
        code = d.code,
      })
      table.insert(items, {
        filename = project.absolute(seg, r.file),
        lnum = d.line,
        col = d.column,
        type = SEVERITY[d.severity] or "E",
        text = d.message .. (d.code ~= "" and (" [" .. d.code .. "]") or ""),
      })
    end
    if vim.api.nvim_buf_is_valid(bufnr) then
      vim.diagnostic.set(ns, bufnr, diags)
    end
    vim.fn.setqflist({}, " ", { title = "trifecta diagnostics " .. r.file .. " [" .. label .. "]", items = items })
    notify(string.format("%d diagnostics in %s [%s]", #items, r.file, label))
  end, { timeout_ms = M.config.lsp_timeout_ms })
end

-- ---------------------------------------------------------------------------------------------
-- Budgeted context

-- Pure: the scratch buffer's lines from a ctx.get reply.
function M.context_lines(r, what)
  local lines = {
    string.format("<!-- trifecta context: %s — mode %s, %d of %d tokens, %s -->", what, r.mode, r.used or 0, r.budget or 0, r.stop_reason or ""),
  }
  for _, c in ipairs(r.chunks or {}) do
    table.insert(lines, "")
    table.insert(lines, string.format("## %s:%d-%d %s", c.path, c.start_line, c.end_line, c.title or ""))
    table.insert(lines, "```python")
    for _, l in ipairs(vim.split(((c.text or ""):gsub("\n$", "")), "\n", { plain = true })) do
      table.insert(lines, l)
    end
    table.insert(lines, "```")
  end
  for _, e in ipairs(r.errors or {}) do
    table.insert(lines, "")
    table.insert(lines, "<!-- not included: " .. (e.target or e.id or "?") .. ": " .. (e.message or "") .. " -->")
  end
  if r.next then
    table.insert(lines, "")
    table.insert(lines, "<!-- more: the budget ran out (stop_reason " .. (r.stop_reason or "") .. ") -->")
  end
  return lines
end

local function show_context(r, what)
  M.last.context = { result = r }
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, "trifecta://context")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.context_lines(r, what))
  vim.bo[buf].filetype = "markdown"
  M.last.context.buf = buf
  notify(string.format("context: %d chunks, %d of %d tokens (%s)", #(r.chunks or {}), r.used or 0, r.budget or 0, r.stop_reason or ""))
end

-- :Trifecta context [mode=skeleton|excerpt|raw] [budget=N] [sym://… …] [query words]
-- Targets: sym:// names given; else the hits of the query; else the current file's module (a
-- Python file) or the current file itself (any other file of the project).
function M.context(args)
  local mode, budget = M.config.context.mode, M.config.context.budget
  local uris, words = {}, {}
  for _, a in ipairs(args or {}) do
    local k, v = a:match("^(%a+)=(.*)$")
    if k == "mode" then
      mode = v
    elseif k == "budget" then
      budget = tonumber(v) or budget
    elseif a:match("^sym://") then
      table.insert(uris, a)
    else
      table.insert(words, a)
    end
  end
  local query = table.concat(words, " ")
  local seg = M.segment()
  if not seg then
    return no_segment("context")
  end
  if #uris == 0 and #query >= 2 then
    call("context", "ctx.search", { query = query, limit = 20, segment = seg }, function(r)
      local ids = {}
      for _, h in ipairs(r.hits or {}) do
        table.insert(ids, h.id)
      end
      if #ids == 0 then
        return notify(string.format("context: no hits for %q", query), vim.log.levels.WARN)
      end
      call("context", "ctx.get", { ids = ids, mode = mode, budget = budget, query = query, segment = seg }, function(g)
        show_context(g, string.format("search %q", query))
      end)
    end)
    return
  end
  local ids = {}
  if #uris == 0 then
    local file = project.file_of(0)
    local rel = file and project.relative(seg, file)
    local module = project.module_of(rel)
    if module then
      uris = { SYM .. module }
    elseif rel then
      ids = { rel } -- the whole file (ctx.get takes files since protocol 1.5)
    else
      return notify("context needs sym:// names, a query, or a file of the project", vim.log.levels.WARN)
    end
  end
  local params = { uris = uris, mode = mode, budget = budget, query = query, segment = seg }
  if #ids > 0 then
    params = { ids = ids, mode = mode, budget = budget, query = query, segment = seg }
  end
  call("context", "ctx.get", params, function(g)
    show_context(g, #ids > 0 and ids[1] or table.concat(uris, " "))
  end)
end

-- ---------------------------------------------------------------------------------------------
-- Repo map

-- Pure: the map buffer's lines and, per line, where <CR> goes ({ path, line } or false), from a
-- ctx.map reply. `what` names the tree mapped. A symbol line ends in "# L<first>-<last>" (the
-- decorated range); <CR> goes to its definition line from `symbols` when one spans that range,
-- a decorator line with it, a file's header and module docstring to line 1, a symbol's docstring
-- line to the symbol.
function M.map_lines(r, what)
  local files = r.files or {}
  local partial = 0
  for _, f in ipairs(files) do
    if f.reduced then
      partial = partial + 1
    end
  end
  local head = string.format("trifecta map of %s — %d of %d Python files", what, #files, r.candidates or 0)
  if partial > 0 then
    head = head .. string.format(", %d in part", partial)
  end
  head = head .. string.format(", %d of %d tokens", r.used or 0, r.budget or 0)
  local lines, targets = { head, "" }, { false, false }
  for _, f in ipairs(files) do
    local at, decorators = 1, {}
    local body = ((f.text or ""):gsub("\n+$", ""))
    for _, l in ipairs(vim.split(body, "\n", { plain = true })) do
      local first, last = l:match("#%s*L(%d+)%-(%d+)%s*$")
      if first then
        first, last = tonumber(first), tonumber(last)
        at = first
        for _, s in ipairs(f.symbols or {}) do
          if s.end_line == last and s.line >= first and s.line <= last then
            at = s.line
            break
          end
        end
        for _, target in ipairs(decorators) do
          target[2] = at
        end
        decorators = {}
      end
      local target = { f.path, at }
      if not first and l:match("^%s*@") then
        table.insert(decorators, target) -- goes where the definition below it goes
      end
      table.insert(lines, l)
      table.insert(targets, target)
    end
    table.insert(lines, "")
    table.insert(targets, false)
  end
  if #files == 0 then
    table.insert(lines, "(no indexed Python files here)")
    table.insert(targets, false)
  end
  if r.skipped and r.skipped > 0 then
    table.insert(lines, string.format("(%d files could not be read)", r.skipped))
    table.insert(targets, false)
  end
  if r.truncated then
    table.insert(lines, string.format("(more with a budget above %d or a narrower path: :Trifecta map PATH budget=N)", r.budget or 0))
    table.insert(targets, false)
  end
  return lines, targets
end

-- Pure: ":Trifecta map" arguments → path (as typed, or nil) and budget.
function M.parse_map_args(args)
  local path, budget = nil, M.config.map.budget
  for _, a in ipairs(args or {}) do
    local v = a:match("^budget=(.*)$")
    if v then
      budget = tonumber(v) or budget
    else
      path = a
    end
  end
  return path, budget
end

-- :Trifecta map [path] [budget=N] — the daemon's ranked overview (ctx.map) of the project, or of
-- a folder or file in it, in a scratch buffer: most central files first, their most used symbols.
-- `path` is taken relative to the current directory when it exists there ("%" is the current
-- file), else relative to the project. <CR> opens the file at the symbol, q closes.
function M.map(args)
  local arg, budget = M.parse_map_args(args)
  local seg = M.segment()
  if not seg then
    return no_segment("map")
  end
  local path = ""
  if arg == "%" then
    arg = project.file_of(0)
    if not arg then
      return notify("map %: the current buffer has no file", vim.log.levels.WARN)
    end
  end
  if arg and arg ~= "" then
    -- cwd-relative when it exists (as the CLI reads it); the daemon checks it is in the segment
    path = (vim.uv or vim.loop).fs_realpath(vim.fn.fnamemodify(arg, ":p")) or arg
  end
  local src_win = vim.api.nvim_get_current_win()
  call("map", "ctx.map", { path = path, budget = budget, segment = seg }, function(r)
    M.last.map = { result = r }
    local what = r.path ~= "" and r.path or vim.fn.fnamemodify(seg, ":t")
    local lines, targets = M.map_lines(r, what)
    local buf = show_listing("trifecta://map/" .. (r.path ~= "" and r.path or "."), lines, "trifecta-map", "trifecta_map",
      { segment = seg, targets = targets, source_win = src_win }, "botright split", M.map_jump,
      "trifecta: open this file or symbol")
    vim.bo[buf].syntax = "python" -- highlighting only: no Python filetype, so no LSP attaches
    vim.api.nvim_win_set_cursor(0, { 1, 0 })
    M.last.map.buf = buf
    notify(string.format("map: %d of %d Python files, %d of %d tokens%s", #(r.files or {}), r.candidates or 0, r.used or 0, r.budget or 0, r.truncated and " (a larger budget shows more)" or ""))
  end)
end

-- From the map buffer: open the file or symbol under the cursor in the window the map came from.
function M.map_jump()
  local m, target = listing_target("trifecta_map", 0)
  if m then
    M.jump(project.absolute(m.segment, target[1]), target[2], 1)
  end
end

-- ---------------------------------------------------------------------------------------------
-- Status

-- The statusline component: never blocks; starts the poller on first use.
function M.status()
  local seg = M.segment()
  if not seg then
    return ""
  end
  local p = get_poller()
  p:watch(seg)
  return p:text(seg)
end

-- The statusline poller (interval, polls, states; see trifecta.status).
function M.poller()
  return get_poller()
end

-- Every distinct statusline text shown so far, oldest first (at most 50).
function M.poller_history()
  return vim.deepcopy(get_poller().history)
end

-- :Trifecta status — daemon, index and LSP of the current project.
function M.show_status()
  local seg = M.segment()
  call("status", "lsp.status", { segment = seg }, function(l)
    call("status", "ctx.status", { segment = seg }, function(c)
      local info = M.client().daemon_info or {}
      local idx = c.index or {}
      local st = c.status or {}
      local lines = {
        get_poller():text(seg),
        string.format("daemon %s (protocol %s), pid %s, socket %s", info.daemon_version or "?", info.protocol or "?", tostring(info.pid or "?"), M.client():socket()),
        string.format("segment %s", seg),
        string.format("index %s, generation %d, %d files, %d chunks%s", idx.state or "?", idx.generation or 0, st.files_indexed or 0, st.chunks or 0, idx.error and (" — " .. idx.error) or ""),
        string.format("lsp %s (%s)%s", l.state or "?", l.reason or "", l.binary_name and (" — " .. l.binary_name .. " " .. (l.version or "")) or ""),
      }
      M.last.status = { lsp = l, ctx = c, lines = lines }
      vim.api.nvim_echo({ { table.concat(lines, "\n") } }, true, {})
    end)
  end)
  get_poller():watch(seg)
end

-- ---------------------------------------------------------------------------------------------
-- :Trifecta

local subcommands = {
  search = function(args)
    local q, f = M.parse_search_args(args)
    if q == "" then
      return M.search_prompt(f)
    end
    M.search(q, f)
  end,
  sym = function(args)
    M.sym(args[1])
  end,
  outline = function()
    M.outline()
  end,
  def = function()
    M.definition()
  end,
  hover = function()
    M.hover()
  end,
  refs = function()
    M.references()
  end,
  diag = function()
    M.diagnostics()
  end,
  status = function()
    M.show_status()
  end,
  context = function(args)
    M.context(args)
  end,
  map = function(args)
    M.map(args)
  end,
}

function M.command(fargs)
  local sub = fargs[1]
  local f = sub and subcommands[sub]
  if not f then
    local names = vim.tbl_keys(subcommands)
    table.sort(names)
    return notify("usage: :Trifecta " .. table.concat(names, "|") .. " …", vim.log.levels.ERROR)
  end
  f(vim.list_slice(fargs, 2))
end

function M.complete(arglead, cmdline, _)
  local words = vim.split((cmdline:gsub("^%s*%S+%s*", "")), "%s+")
  if #words <= 1 then
    local names = vim.tbl_keys(subcommands)
    table.sort(names)
    return vim.tbl_filter(function(n)
      return n:sub(1, #arglead) == arglead
    end, names)
  end
  local sub = words[1]
  if sub == "sym" then
    return M.complete_sym(arglead)
  elseif sub == "search" then
    return vim.tbl_filter(function(n)
      return n:sub(1, #arglead) == arglead
    end, { "path=", "kind=code", "kind=doc", "kind=other", "limit=" })
  elseif sub == "context" then
    if arglead:match("^sym://") or arglead:match("^s") then
      local r = M.complete_sym(arglead)
      if #r > 0 then
        return r
      end
    end
    return vim.tbl_filter(function(n)
      return n:sub(1, #arglead) == arglead
    end, { "mode=skeleton", "mode=excerpt", "mode=raw", "budget=", "sym://python/" })
  elseif sub == "map" then
    local r = vim.fn.getcompletion(arglead, "file")
    if ("budget="):sub(1, #arglead) == arglead then
      table.insert(r, 1, "budget=")
    end
    return r
  end
  return {}
end

return M
