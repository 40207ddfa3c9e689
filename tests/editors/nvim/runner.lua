-- A small test runner for the Neovim plugin (plenary is not available offline).
--
-- Usage: nvim --headless -u NONE -i NONE --cmd 'set rtp^=editors/nvim' -c 'luafile runner.lua'
-- with $TRIFECTA_TEST_SUITE naming a suite file. A suite returns function(T) that registers
-- tests with T.test(name, fn). Tests run one after the other inside a coroutine: T.wait and
-- T.sleep yield back to Neovim's main loop (a timer resumes them), so while a test waits the
-- editor really is idle — typeahead (nvim_input), timers and libuv callbacks all run, exactly as
-- for a user. Output is TAP; the exit status is 0 only when every test passed.
local uv = vim.loop
local T = { messages = {} }
local tests = {}
local co

function T.test(name, fn)
  table.insert(tests, { name = name, fn = fn })
end

local function out(s)
  io.stdout:write(s .. "\n")
  io.stdout:flush()
end
T.log = function(s)
  out("# " .. s)
end

function T.sleep(ms)
  local me = co
  vim.defer_fn(function()
    local ok, err = coroutine.resume(me)
    if not ok then
      out("not ok - runner crashed: " .. tostring(err))
      vim.cmd("cquit 2")
    end
  end, ms)
  coroutine.yield()
end

-- Wait (yielding to the main loop) until cond() is truthy; fail after timeout_ms.
function T.wait(cond, timeout_ms, what)
  local t0 = uv.hrtime()
  while true do
    local v = cond()
    if v then
      return v
    end
    if (uv.hrtime() - t0) / 1e6 > timeout_ms then
      error("timed out after " .. timeout_ms .. " ms waiting for " .. what, 2)
    end
    T.sleep(10)
  end
end

function T.ok(v, msg)
  if not v then
    error("expected true: " .. (msg or "?"), 2)
  end
  return v
end

function T.eq(a, b, msg)
  if not vim.deep_equal(a, b) then
    error(string.format("%s: expected %s, got %s", msg or "eq", vim.inspect(b), vim.inspect(a)), 2)
  end
end

function T.match(s, pat, msg)
  if type(s) ~= "string" or not s:find(pat) then
    error(string.format("%s: %s does not match %q", msg or "match", vim.inspect(s), pat), 2)
  end
end

-- Every vim.notify message, in order.
vim.notify = function(msg, level)
  table.insert(T.messages, { msg = msg, level = level })
end
function T.last_message()
  local m = T.messages[#T.messages]
  return m and m.msg
end
function T.wait_message(pat, timeout_ms, from)
  return T.wait(function()
    for i = from or 1, #T.messages do
      if T.messages[i].msg:find(pat) then
        return T.messages[i].msg
      end
    end
  end, timeout_ms or 10000, "a message matching " .. pat)
end

local suite = os.getenv("TRIFECTA_TEST_SUITE")
local register = dofile(suite)
register(T)

co = coroutine.create(function()
  local failed = 0
  out("1.." .. #tests)
  for i, t in ipairs(tests) do
    local t0 = uv.hrtime()
    local ok, err = xpcall(t.fn, debug.traceback)
    local ms = (uv.hrtime() - t0) / 1e6
    if ok then
      out(string.format("ok %d - %s (%.0f ms)", i, t.name, ms))
    elseif type(err) == "string" and err:match("^SKIP: ") then
      out(string.format("ok %d - %s # %s", i, t.name, err:match("^SKIP: ([^\n]*)")))
    else
      failed = failed + 1
      out(string.format("not ok %d - %s", i, t.name))
      for line in tostring(err):gmatch("[^\n]+") do
        out("#   " .. line)
      end
      if #T.messages > 0 then
        out("#   last message: " .. T.messages[#T.messages].msg)
      end
    end
  end
  if T.after then
    pcall(T.after)
  end
  out(string.format("# %d passed, %d failed", #tests - failed, failed))
  if failed > 0 then
    vim.cmd("cquit 1")
  else
    vim.cmd("qall!")
  end
end)

vim.schedule(function()
  local ok, err = coroutine.resume(co)
  if not ok then
    out("not ok - runner crashed: " .. tostring(err))
    vim.cmd("cquit 2")
  end
end)
