-- trifecta.client — one connection to trifectad over its Unix socket (docs/protocol.md).
--
-- What it does: newline-delimited JSON-RPC 2.0 on a libuv pipe (vim.loop.new_pipe), `hello`
-- first, any number of requests in flight matched by id (replies come in completion order),
-- a timeout per request, notifications (`ctx.progress`) handed to listeners. When nothing
-- listens on the socket it starts the daemon once (`trifectad --socket PATH`, or the configured
-- start command) and connects again.
--
-- Thread rules: every function here must be called from the main loop. libuv callbacks run in
-- a "fast" context; they only touch this module's tables and hand results to the main loop
-- with vim.schedule, so callbacks given to `request` always run where the nvim API is allowed.
--
-- Failure behaviour: every request's callback is called exactly once, with (nil, err) or
-- (result, nil). `err` is a table {name = "UNAVAILABLE"|"TIMEOUT"|"VERSION_MISMATCH"|<the
-- daemon's data.name>, message = "...", code = <int or nil>, data = <table or nil>}.
-- When the daemon goes away every pending request fails with name "UNAVAILABLE" and the
-- connection is dropped; the next request connects again (and may start the daemon).
local uv = vim.uv or vim.loop -- vim.loop on 0.7–0.9; the same libuv bindings renamed in 0.10

local M = {}

M.PROTOCOL = "1.1"
M.CLIENT_NAME = "trifecta.nvim"
M.CLIENT_VERSION = "0.1.0"

-- The socket path, first match wins (the daemon's and the CLI's rule): $TRIFECTA_SOCKET,
-- $XDG_RUNTIME_DIR/trifecta/trifectad.sock, /tmp/trifecta-<uid>/trifectad.sock.
function M.default_socket()
  local s = os.getenv("TRIFECTA_SOCKET")
  if s and s ~= "" then
    return s
  end
  local r = os.getenv("XDG_RUNTIME_DIR")
  if r and r ~= "" then
    return r .. "/trifecta/trifectad.sock"
  end
  return "/tmp/trifecta-" .. tostring(uv.getuid()) .. "/trifectad.sock"
end

-- The daemon binary: $TRIFECTA_DAEMON, else `trifectad` on PATH.
function M.default_daemon()
  local d = os.getenv("TRIFECTA_DAEMON")
  if d and d ~= "" then
    return d
  end
  return "trifectad"
end

local Client = {}
Client.__index = Client

-- opts: socket (path), daemon (binary), daemon_args (extra args), start_cmd (a list that
-- replaces `daemon --socket PATH [daemon_args]`), autostart (bool, default true),
-- timeout_ms (default per request), start_timeout_ms (how long the start may take).
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, Client)
  self.opts = opts
  self.state = "disconnected" -- disconnected | connecting | connected
  self.pipe = nil
  self.buf = ""
  self.next_id = 1
  self.pending = {} -- id -> {cb=, timer=, method=}
  self.queue = {} -- requests waiting for the connection: {line=, id=}
  self.listeners = {} -- method -> {fn, ...}
  self.daemon_info = nil -- hello's result
  self.generation = 0 -- bumped on every (re)connect
  self.spawns = 0
  return self
end

function Client:socket()
  return self.opts.socket or M.default_socket()
end

local function err(name, message, extra)
  local e = { name = name, message = message }
  if extra then
    for k, v in pairs(extra) do
      e[k] = v
    end
  end
  return e
end
M.err = err

local function decode(line)
  local ok, v = pcall(vim.json.decode, line, { luanil = { object = true, array = true } })
  if ok and type(v) == "table" then
    return v
  end
  return nil
end

-- Subscribe to a notification method (e.g. "ctx.progress"); fn(params) runs on the main loop.
function Client:on(method, fn)
  self.listeners[method] = self.listeners[method] or {}
  table.insert(self.listeners[method], fn)
end

function Client:_finish(id, result, e)
  local p = self.pending[id]
  if not p then
    return -- timed out earlier: the late reply is dropped
  end
  self.pending[id] = nil
  if p.timer then
    p.timer:stop()
    p.timer:close()
  end
  vim.schedule(function()
    p.cb(result, e)
  end)
end

function Client:_on_line(line)
  if line == "" or line == "\r" then
    return
  end
  local msg = decode(line)
  if not msg then
    return -- not JSON: the daemon never sends this; ignore rather than kill the connection
  end
  if msg.id == nil and msg.method then
    local ls = self.listeners[msg.method]
    if ls then
      vim.schedule(function()
        for _, fn in ipairs(ls) do
          fn(msg.params or {})
        end
      end)
    end
    return
  end
  if msg.id == nil then
    return -- an error about the connection itself (id null); the read side handles a close
  end
  if msg.error then
    local data = msg.error.data or {}
    self:_finish(msg.id, nil, err(data.name or "ERROR", msg.error.message or "error", { code = msg.error.code, data = data }))
  else
    self:_finish(msg.id, msg.result, nil)
  end
end

-- Drop the connection; every request in flight or queued fails with `e`.
function Client:_drop(e)
  if self.pipe then
    local p = self.pipe
    self.pipe = nil
    if not p:is_closing() then
      p:read_stop()
      p:close()
    end
  end
  self.state = "disconnected"
  self.buf = ""
  local ids = {}
  for id in pairs(self.pending) do
    table.insert(ids, id)
  end
  for _, id in ipairs(ids) do
    self:_finish(id, nil, e)
  end
  for _, q in ipairs(self.queue) do
    self:_finish(q.id, nil, e)
  end
  self.queue = {}
end

function Client:_write(line)
  self.pipe:write(line, function(werr)
    if werr then
      self:_drop(err("UNAVAILABLE", "sending to trifectad failed: " .. werr .. "; the next call reconnects"))
    end
  end)
end

function Client:_flush()
  local q = self.queue
  self.queue = {}
  for _, r in ipairs(q) do
    if self.pending[r.id] then -- not timed out while waiting for the connection
      self:_write(r.line)
    end
  end
end

function Client:_spawn(done)
  local cmd
  if self.opts.start_cmd then
    cmd = vim.deepcopy(self.opts.start_cmd)
  else
    cmd = { self.opts.daemon or M.default_daemon(), "--socket", self:socket() }
    for _, a in ipairs(self.opts.daemon_args or {}) do
      table.insert(cmd, a)
    end
  end
  self.spawns = self.spawns + 1
  local handle, pid_or_err
  local finished = false
  local watchdog = uv.new_timer()
  local function finish(ok, why)
    if finished then
      return
    end
    finished = true
    watchdog:stop()
    watchdog:close()
    done(ok, why)
  end
  handle, pid_or_err = uv.spawn(cmd[1], {
    args = vim.list_slice(cmd, 2),
    stdio = { nil, nil, nil },
    detached = true, -- the daemon outlives the editor
  }, function(code)
    if handle and not handle:is_closing() then
      handle:close()
    end
    -- trifectad's foreground process exits 0 once the daemon serves, 3 when another daemon
    -- already holds the socket (that one serves). Anything else is a failed start.
    if code == 0 or code == 3 then
      finish(true)
    else
      finish(false, table.concat(cmd, " ") .. " exited with status " .. code .. " (run `trifectad --foreground` to see why)")
    end
  end)
  if not handle then
    finish(false, "cannot start " .. cmd[1] .. ": " .. tostring(pid_or_err) .. " (install trifectad or set the `daemon` option)")
    return
  end
  watchdog:start(self.opts.start_timeout_ms or 10000, 0, function()
    finish(false, "trifectad did not become ready in time")
  end)
end

-- allow_spawn: nil on the first attempt (start the daemon when a queued request allows it),
-- false after a start (never start twice in a row).
function Client:_connect(allow_spawn)
  self.state = "connecting"
  local path = self:socket()
  local pipe = uv.new_pipe(false)
  pipe:connect(path, function(cerr)
    if cerr then
      pipe:close()
      local absent = cerr:match("ENOENT") or cerr:match("ECONNREFUSED")
      -- A request that may start the daemon may have queued behind one that may not (a status
      -- poll): the first attempt starts it for them.
      if allow_spawn == nil then
        allow_spawn = false
        for _, q in ipairs(self.queue) do
          allow_spawn = allow_spawn or (q.spawn and self.pending[q.id] ~= nil)
        end
      end
      if absent and allow_spawn then
        self:_spawn(function(ok, why)
          if ok then
            self:_connect(false)
          else
            self:_drop(err("UNAVAILABLE", "trifectad is not running and could not be started: " .. why))
          end
        end)
        return
      end
      local hint = absent and "start it with `trifecta daemon start` or any :Trifecta command" or "check the socket's permissions"
      self:_drop(err("UNAVAILABLE", "cannot connect to trifectad at " .. path .. ": " .. cerr .. " (" .. hint .. ")"))
      return
    end
    self.pipe = pipe
    self.generation = self.generation + 1
    pipe:read_start(function(rerr, data)
      if rerr or not data then
        if self.pipe == pipe then
          self:_drop(err("UNAVAILABLE", "trifectad closed the connection (" .. (rerr or "end of stream") .. "); the next call reconnects"))
        end
        return
      end
      self.buf = self.buf .. data
      while true do
        local nl = self.buf:find("\n", 1, true)
        if not nl then
          break
        end
        local line = self.buf:sub(1, nl - 1)
        self.buf = self.buf:sub(nl + 1)
        self:_on_line(line)
      end
    end)
    -- hello first; queued requests go out once it is accepted (a major mismatch fails them).
    local id = self:_new_id()
    self.pending[id] = {
      method = "hello",
      cb = function(result, e)
        if e then
          local msg = e.message
          if e.name == "VERSION_MISMATCH" then
            msg = msg .. " — run `trifecta daemon restart`"
          end
          self:_drop(err(e.name, msg, { code = e.code, data = e.data }))
          return
        end
        self.daemon_info = result
        self.state = "connected"
        self:_flush()
      end,
    }
    self:_write(vim.json.encode({
      jsonrpc = "2.0",
      id = id,
      method = "hello",
      params = { protocol = M.PROTOCOL, client_name = M.CLIENT_NAME, client_version = M.CLIENT_VERSION },
    }) .. "\n")
  end)
end

function Client:_new_id()
  local id = self.next_id
  self.next_id = id + 1
  return id
end

-- Send `method` with `params` (a table, or nil); cb(result, err) runs once on the main loop.
-- ropts: timeout_ms (default opts.timeout_ms or 10000; 0 = none), spawn (default
-- opts.autostart ~= false: start the daemon when nothing listens). Returns the request id.
function Client:request(method, params, cb, ropts)
  ropts = ropts or {}
  local id = self:_new_id()
  local msg = { jsonrpc = "2.0", id = id, method = method }
  if params and next(params) ~= nil then
    msg.params = params
  end
  local line = vim.json.encode(msg) .. "\n"
  local entry = { cb = cb, method = method }
  self.pending[id] = entry
  local timeout = ropts.timeout_ms or self.opts.timeout_ms or 10000
  if timeout > 0 then
    entry.timer = uv.new_timer()
    entry.timer:start(timeout, 0, function()
      self:_finish(id, nil, err("TIMEOUT", "trifectad did not answer " .. method .. " within " .. timeout .. " ms"))
    end)
  end
  if self.state == "connected" then
    self:_write(line)
  else
    local spawn = ropts.spawn
    if spawn == nil then
      spawn = self.opts.autostart ~= false
    end
    table.insert(self.queue, { id = id, line = line, spawn = spawn })
    if self.state == "disconnected" then
      self:_connect(nil) -- nil: decide from the queue when the first attempt fails
    end
  end
  return id
end

-- Requests waiting for an answer (tests and :Trifecta status).
function Client:in_flight()
  local n = 0
  for _ in pairs(self.pending) do
    n = n + 1
  end
  return n
end

function Client:close()
  self:_drop(err("UNAVAILABLE", "connection closed by the editor"))
end

return M
