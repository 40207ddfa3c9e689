-- trifecta.status — the statusline component: daemon, index and LSP state of the current
-- buffer's project, as one short string (`trifecta: READY`, `trifecta: WARMING`,
-- `trifecta: index building 42%`).
--
-- How it stays current without blocking: `text()` only reads a cache and makes sure a poller
-- runs. The poller is a one-shot libuv timer re-armed after each answer: the first poll of a
-- segment sends `lsp.status` (which opens the segment on the daemon: its index build and Pyright
-- warm-up start), later polls send the daemon-wide `status` and pick the segment's row. The
-- interval starts at `min_ms` and doubles up to `max_ms` while nothing changes; a change or a
-- user command resets it. While the index builds, one `ctx.build` request (it joins the running
-- build) brings `ctx.progress` notifications, which give the percentage. Polls never start the
-- daemon: with no daemon the text is `trifecta: off` until a command starts it.
--
-- Thread rules: main loop only. Failure behaviour: a failed poll shows `off` (daemon gone) or
-- keeps the last text (timeout), and the poller backs off; it never raises.
local uv = vim.uv or vim.loop -- vim.loop on 0.7–0.9; the same libuv bindings renamed in 0.10

local M = {}

-- Pure: the statusline text for a segment's state
-- {daemon = bool, index = "idle"|"building"|"ready"|"failed"|nil, lsp = <lsp.status state>,
--  progress = {done=, total=} or nil}.
function M.format(st)
  if not st or st.daemon == nil then
    return "trifecta: …"
  end
  if st.daemon == false then
    return "trifecta: off"
  end
  if st.index == "building" then
    if st.progress and st.progress.total and st.progress.total > 0 then
      return string.format("trifecta: index building %d%%", math.floor(100 * st.progress.done / st.progress.total))
    end
    return "trifecta: index building"
  end
  if st.index == "failed" then
    return "trifecta: index failed"
  end
  if st.index == nil then
    return "trifecta: …" -- the segment was just opened: its index state comes with the next poll
  end
  local lsp = st.lsp
  if lsp == "READY" then
    return "trifecta: READY"
  elseif lsp == "COLD" or lsp == "WARMING" then
    return "trifecta: WARMING"
  elseif lsp == "UNAVAILABLE" then
    return "trifecta: AST"
  elseif lsp == "FAILED" then
    return "trifecta: LSP FAILED (AST)"
  end
  return "trifecta: …"
end

-- A poller bound to a client and a function giving the segment to watch.
function M.new(client, opts)
  local self = {
    client = client,
    min_ms = opts.min_ms or 500,
    max_ms = opts.max_ms or 10000,
    interval = opts.min_ms or 500,
    segment = nil, -- the segment being watched
    states = {}, -- segment -> state table (see M.format)
    opened = {}, -- segment -> true once lsp.status was sent
    building = {}, -- segment -> true while a ctx.build watcher is in flight
    ids = {}, -- segment_id -> segment
    timer = nil,
    inflight = false,
    polls = 0,
    on_change = opts.on_change,
    history = {}, -- every distinct text shown, in order (for :Trifecta status and tests)
  }

  local function changed(seg, st)
    local old = self.states[seg]
    self.states[seg] = st
    local before, after = M.format(old), M.format(st)
    if before ~= after then
      table.insert(self.history, after)
      if #self.history > 50 then
        table.remove(self.history, 1)
      end
      self.interval = self.min_ms
      if self.on_change and seg == self.segment then
        self.on_change(after)
      end
      return true
    end
    return false
  end

  client:on("ctx.progress", function(p)
    local seg = self.ids[p.segment_id]
    if not seg then
      -- one build watched and the id not learnt yet: it is that one
      local only
      for s in pairs(self.building) do
        if only then
          return
        end
        only = s
      end
      seg = only
    end
    if not seg then
      return
    end
    local st = vim.deepcopy(self.states[seg] or { daemon = true })
    st.index = "building"
    st.progress = { done = p.done, total = p.total }
    changed(seg, st)
  end)

  local schedule

  local function watch_build(seg)
    if self.building[seg] then
      return
    end
    self.building[seg] = true
    client:request("ctx.build", { segment = seg }, function(r, e)
      self.building[seg] = nil
      local st = vim.deepcopy(self.states[seg] or { daemon = true })
      st.progress = nil
      if e then
        if e.name == "UNAVAILABLE" then
          st.daemon = false
        end
      elseif r then
        st.index = r.index and r.index.state or st.index
      end
      changed(seg, st)
      self:poke()
    end, { timeout_ms = 0, spawn = false })
  end

  local function apply(seg, index, lsp)
    local st = vim.deepcopy(self.states[seg] or {})
    st.daemon = true
    st.index = index or st.index
    st.lsp = lsp or st.lsp
    if st.index ~= "building" then
      st.progress = nil
    end
    local c = changed(seg, st)
    if st.index == "building" then
      watch_build(seg)
    end
    return c
  end

  local function poll()
    self.timer_armed = false
    local seg = self.segment
    if not seg or self.inflight then
      return -- nothing to watch, or the answer in flight re-arms the timer
    end
    self.inflight = true
    self.polls = self.polls + 1
    local function done(e, c)
      self.inflight = false
      if e then
        if e.name == "UNAVAILABLE" then
          local st = vim.deepcopy(self.states[seg] or {})
          st.daemon = false
          st.index, st.lsp, st.progress = nil, nil, nil
          self.opened = {}
          c = changed(seg, st)
        end
      end
      if not c then
        self.interval = math.min(self.interval * 2, self.max_ms)
      end
      schedule()
    end
    if not self.opened[seg] then
      client:request("lsp.status", { segment = seg }, function(r, e)
        if e then
          return done(e)
        end
        self.opened[seg] = true
        -- the index state comes with the next `status`; poll again soon
        local c = apply(seg, nil, r.state)
        self.interval = self.min_ms
        done(nil, c or true)
      end, { timeout_ms = 3000, spawn = false })
      return
    end
    client:request("status", nil, function(r, e)
      if e then
        return done(e)
      end
      for _, s in ipairs(r.segments or {}) do
        self.ids[s.segment_id] = s.root
        if s.root == seg then
          return done(nil, apply(seg, s.state, s.lsp_state))
        end
      end
      -- closed or evicted: open it again on the next poll
      self.opened[seg] = nil
      done(nil, true)
    end, { timeout_ms = 3000, spawn = false })
  end

  schedule = function()
    if self.timer_armed then
      return
    end
    if not self.timer then
      self.timer = uv.new_timer()
    end
    self.timer_armed = true
    self.timer:start(self.interval, 0, function()
      vim.schedule(poll)
    end)
  end

  -- Watch `seg` (the current buffer's segment); starts the poller on first use.
  function self.watch(_, seg)
    if seg ~= self.segment then
      self.segment = seg
      self.interval = self.min_ms
      if self.timer_armed then
        self.timer:stop()
        self.timer_armed = false
      end
      vim.schedule(poll)
    elseif not self.timer_armed and not self.inflight then
      schedule()
    end
  end

  -- Poll soon (after a command: the daemon may just have started).
  function self.poke(_)
    self.interval = self.min_ms
    if self.timer_armed then
      self.timer:stop()
      self.timer_armed = false
    end
    if self.segment then
      schedule()
    end
  end

  function self.text(_, seg)
    return M.format(self.states[seg])
  end

  function self.stop(_)
    if self.timer then
      self.timer:stop()
      if not self.timer:is_closing() then
        self.timer:close()
      end
      self.timer = nil
      self.timer_armed = false
    end
    self.segment = nil
  end

  return self
end

return M
