-- Keypress → search picker shown with results, measured inside Neovim (vim.loop.hrtime).
-- Run by scripts/bench_nvim.sh inside tmux (a real terminal UI), with the plugin on the
-- runtimepath and a warm daemon serving $TRIFECTA_BENCH_TREE.
--
-- One run: t0 just before the key <F5> is fed as typeahead (nvim_input); the mapping calls
-- require("trifecta").search(query); the reply goes into the picker (vim.ui.select, with the
-- plugin's own title and item format); the picker below draws those lines into a floating
-- window and forces a screen update (`:redraw`); t1 after the redraw. Also timed, alone: the
-- ctx.search round trip on the plugin's connection (no picker), to show where the time goes.
--
-- Then the map: t0 before <F6> is fed; the mapping runs `:Trifecta map PATH` (the whole tree,
-- json, email, http in turn, the default 1,024-token budget); the plugin fills and opens the map
-- buffer and ends with its notification, which the vim.notify below turns into a `:redraw`; t1
-- after it. And the ctx.map round trip alone.
local uv = vim.loop
local trifecta = require("trifecta")
trifecta.setup({ picker = "select", segment = os.getenv("TRIFECTA_BENCH_TREE") })
local RUNS = tonumber(os.getenv("TRIFECTA_BENCH_RUNS") or "200")
local WARMUP = 20
local OUT = os.getenv("TRIFECTA_BENCH_OUT")
local queries = { "json decode error", "http client request", "parse url query", "thread pool executor",
  "regular expression compile", "email message header", "socket timeout", "tar file extract" }

local t0, t1, nhits
local qi = 0
local buf = vim.api.nvim_create_buf(false, true)

vim.ui.select = function(items, opts, on_choice)
  local lines = { opts.prompt }
  for _, it in ipairs(items) do
    table.insert(lines, opts.format_item(it))
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  local win = vim.api.nvim_open_win(buf, false, { relative = "editor", row = 2, col = 2, width = vim.o.columns - 6,
    height = math.min(#lines, vim.o.lines - 6), style = "minimal", border = "single" })
  vim.cmd("redraw")
  t1 = uv.hrtime()
  nhits = #items
  vim.api.nvim_win_close(win, true)
  local _ = on_choice -- the run ends here: nothing is chosen
end

vim.keymap.set("n", "<F5>", function()
  qi = qi % #queries + 1
  trifecta.search(queries[qi])
end)

local map_paths = { "", "json", "email", "http" }
local mi, map_lines = 0, 0
vim.keymap.set("n", "<F6>", function()
  mi = mi % #map_paths + 1
  vim.cmd("Trifecta map " .. map_paths[mi])
end)
vim.notify = function(msg)
  if msg:find("^trifecta: map: ") then
    vim.cmd("redraw")
    t1 = uv.hrtime()
    map_lines = math.max(map_lines, vim.api.nvim_buf_line_count(0))
  end
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  if n % 2 == 1 then
    return xs[(n + 1) / 2]
  end
  return (xs[n / 2] + xs[n / 2 + 1]) / 2
end
local function pct(xs, p)
  table.sort(xs)
  return xs[math.max(1, math.ceil(p * #xs))]
end

local co
local function sleep(ms)
  vim.defer_fn(function()
    assert(coroutine.resume(co))
  end, ms)
  coroutine.yield()
end

-- WARMUP + RUNS times: feed `key`, wait until the handler sets t1, run `after`; the last RUNS
-- durations (ms).
local function time_key(key, what, after)
  local ms = {}
  for i = 1, WARMUP + RUNS do
    t1 = nil
    t0 = uv.hrtime()
    vim.api.nvim_input(key)
    local deadline = uv.hrtime() + 10e9
    while not t1 do
      if uv.hrtime() > deadline then
        error("no " .. what .. " within 10 s (run " .. i .. ")")
      end
      sleep(1)
    end
    if i > WARMUP then
      table.insert(ms, (t1 - t0) / 1e6)
    end
    after(i)
    sleep(5)
  end
  return ms
end

-- WARMUP + RUNS round trips of `method` with params(i) on the plugin's connection; the last RUNS (ms).
local function time_rpc(method, params)
  local ms = {}
  for i = 1, WARMUP + RUNS do
    local done
    local s = uv.hrtime()
    trifecta.client():request(method, params(i), function()
      done = uv.hrtime()
    end)
    while not done do
      sleep(1)
    end
    if i > WARMUP then
      table.insert(ms, (done - s) / 1e6)
    end
  end
  return ms
end

co = coroutine.create(function()
  local tree = os.getenv("TRIFECTA_BENCH_TREE")
  local hits_min = math.huge
  local picker = time_key("<F5>", "picker", function(i)
    if i > WARMUP then
      hits_min = math.min(hits_min, nhits)
    end
  end)
  local rpc = time_rpc("ctx.search", function(i)
    return { segment = tree, query = queries[i % #queries + 1], limit = 20 }
  end)
  local map = time_key("<F6>", "map", function()
    vim.cmd("only")
  end)
  local map_rpc = time_rpc("ctx.map", function(i)
    return { segment = tree, path = map_paths[i % #map_paths + 1], budget = 1024 }
  end)
  local f = io.open(OUT, "w")
  f:write(string.format("nvim %s, %d runs after %d warm-up, %d queries, >= %d hits each\n",
    tostring(vim.version().major .. "." .. vim.version().minor .. "." .. vim.version().patch), RUNS, WARMUP, #queries, hits_min))
  f:write(string.format("keypress -> picker shown: median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms\n",
    median(picker), pct(picker, 0.9), pct(picker, 0), pct(picker, 1)))
  f:write(string.format("ctx.search round trip alone: median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms\n",
    median(rpc), pct(rpc, 0.9), pct(rpc, 0), pct(rpc, 1)))
  f:write(string.format("keypress -> map shown (%d paths, budget 1024, up to %d lines): median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms\n",
    #map_paths, map_lines, median(map), pct(map, 0.9), pct(map, 0), pct(map, 1)))
  f:write(string.format("ctx.map round trip alone: median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms\n",
    median(map_rpc), pct(map_rpc, 0.9), pct(map_rpc, 0), pct(map_rpc, 1)))
  f:close()
  vim.cmd("qall!")
end)

vim.defer_fn(function()
  local ok, err = coroutine.resume(co)
  if not ok then
    local f = io.open(OUT, "w")
    f:write("error: " .. tostring(err) .. "\n")
    f:close()
    vim.cmd("qall!")
  end
end, 200)
