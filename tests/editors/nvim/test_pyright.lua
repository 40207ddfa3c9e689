-- The plugin against a real trifectad with the real Pyright (third_party/pyright, installed by
-- scripts/setup.sh): the statusline goes WARMING → READY, then definition, hover and references
-- are answered by Pyright and say "lsp READY". Skipped, with the reason, when Pyright or node
-- is missing.
local uv = vim.loop
local TMP = os.getenv("TRIFECTA_TEST_TMP")
local PROJ = uv.fs_realpath(TMP .. "/proj")

return function(T)
  local trifecta = require("trifecta")
  local opts = {
    daemon_args = { "--enable-debug-methods", "--idle-timeout", "300" },
    status = { min_ms = 100, max_ms = 1000 },
    lsp_timeout_ms = 60000,
  }
  trifecta.setup(opts)

  local function missing()
    local p = os.getenv("TRIFECTA_PYRIGHT")
    if not p or p == "" or vim.fn.executable(p) == 0 then
      return "no Pyright launcher (TRIFECTA_PYRIGHT=" .. tostring(p) .. ")"
    end
    if vim.fn.executable("node") == 0 then
      return "node is not installed"
    end
  end

  local function edit(rel)
    vim.cmd("edit " .. vim.fn.fnameescape(PROJ .. "/" .. rel))
  end
  local function current_rel()
    return (uv.fs_realpath(vim.api.nvim_buf_get_name(0)) or ""):sub(#PROJ + 2)
  end

  T.test("status goes WARMING then READY while Pyright starts", function()
    local why = missing()
    if why then
      error("SKIP: " .. why, 0)
    end
    edit("pkg/service.py")
    trifecta.status()
    -- A command starts the daemon (polls never do); the segment opens and Pyright warms up.
    vim.cmd("Trifecta outline")
    T.wait(function()
      return vim.bo.filetype == "trifecta-outline"
    end, 20000, "the outline")
    vim.cmd("only")
    T.wait(function()
      return trifecta.status() == "trifecta: READY"
    end, 120000, "trifecta: READY")
    local history = require("trifecta").poller_history()
    T.log("statusline texts seen: " .. table.concat(history, " → "))
    local warming, ready
    for i, s in ipairs(history) do
      if s == "trifecta: WARMING" and not warming then
        warming = i
      end
      if s == "trifecta: READY" then
        ready = i
      end
    end
    T.ok(warming and ready and warming < ready, "WARMING before READY: " .. vim.inspect(history))
  end)

  T.test("definition, hover and references come from Pyright and say lsp READY", function()
    local why = missing()
    if why then
      error("SKIP: " .. why, 0)
    end
    edit("pkg/service.py")
    vim.api.nvim_win_set_cursor(0, { 8, 11 }) -- on make_user(name)
    local n = #T.messages
    vim.cmd("Trifecta def")
    local msg = T.wait_message("^trifecta: definition", 60000, n + 1)
    T.match(msg, "pkg/models%.py:17:5 %[lsp READY%]", "Pyright answered")
    T.eq(current_rel(), "pkg/models.py", "definition file")
    T.eq(vim.api.nvim_win_get_cursor(0), { 17, 4 }, "definition position")

    edit("pkg/service.py")
    vim.api.nvim_win_set_cursor(0, { 8, 11 })
    trifecta.last.hover = nil
    vim.cmd("Trifecta hover")
    T.wait(function()
      return trifecta.last.hover and trifecta.last.hover.buf
    end, 60000, "the hover window")
    local text = table.concat(vim.api.nvim_buf_get_lines(trifecta.last.hover.buf, 0, -1, false), "\n")
    T.match(text, "make_user", "hover contents")
    T.match(text, "lsp READY", "backend shown in the hover")
    pcall(vim.api.nvim_win_close, trifecta.last.hover.win, true)

    edit("pkg/models.py")
    vim.api.nvim_win_set_cursor(0, { 17, 4 })
    vim.fn.setqflist({}, "r")
    vim.cmd("Trifecta refs")
    T.wait(function()
      return #vim.fn.getqflist() >= 3
    end, 60000, "references in the quickfix list")
    T.match(vim.fn.getqflist({ title = 1 }).title, "%[lsp READY%]", "quickfix title")
    vim.cmd("cclose")
  end)
end
