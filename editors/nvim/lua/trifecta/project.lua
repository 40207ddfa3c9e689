-- trifecta.project — which segment (project root) a buffer belongs to, and path helpers.
--
-- The rule the CLI uses (client/lib/segment.hpp), seen from the buffer's file: the nearest
-- enclosing directory with the first of `root_markers` found (default `.git`, then `_ctx`, the
-- directory of a segment the daemon has opened); else the editor's cwd when
-- the file lies under it; else the file's directory. The last two never give the filesystem
-- root or the home directory (trifectad would index everything under it): the file's directory
-- stands in for such a cwd, and where that is one too there is no segment (nil). `segment` in
-- the config (a path, or a function(bufnr) returning one) overrides it. Paths are resolved with
-- realpath, because the daemon names segments by their canonical path.
--
-- Thread rules: main loop only (reads buffer names and the filesystem with vim.loop's
-- synchronous calls, which are cheap stat()s).
-- Failure behaviour: total; a path that cannot be resolved is used as given.
local uv = vim.uv or vim.loop -- vim.loop on 0.7–0.9; the same libuv bindings renamed in 0.10

local M = {}

local function realpath(p)
  return uv.fs_realpath(p) or p
end
M.realpath = realpath

local function parent(dir)
  local up = dir:match("^(.*)/[^/]*$")
  if up == nil or up == "" then
    return "/"
  end
  return up
end

-- The absolute, resolved file name of `bufnr`, or nil for an unnamed / non-file buffer.
function M.file_of(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr or 0)
  if name == "" or name:match("^%a[%w+.-]*://") then
    return nil
  end
  return realpath(vim.fn.fnamemodify(name, ":p"))
end

local cache = {} -- start dir -> root

-- Whether `dir` (resolved) is the filesystem root or the home directory: never a segment by the
-- fallback.
function M.too_broad(dir)
  if dir == "/" then
    return true
  end
  local home = os.getenv("HOME")
  return home ~= nil and home ~= "" and dir == realpath((home:gsub("(.)/+$", "%1")))
end

-- The segment of `bufnr` (default: current buffer), or nil where there is none (see above). `cfg`
-- is the plugin's config.
function M.segment(bufnr, cfg)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  cfg = cfg or {}
  if type(cfg.segment) == "function" then
    local s = cfg.segment(bufnr)
    if s then
      return realpath((vim.fn.fnamemodify(s, ":p"):gsub("/$", "")))
    end
  elseif type(cfg.segment) == "string" and cfg.segment ~= "" then
    return realpath((vim.fn.fnamemodify(cfg.segment, ":p"):gsub("/$", "")))
  end
  local cwd = realpath(vim.fn.getcwd())
  local file = M.file_of(bufnr)
  local start = file and parent(file) or cwd
  if cache[start] then
    return cache[start]
  end
  local markers = cfg.root_markers or { ".git", "_ctx" }
  -- Marker by marker (a work tree's root before a segment opened below it), nearest first.
  for _, m in ipairs(markers) do
    local dir = start
    while true do
      if uv.fs_stat(dir .. "/" .. m) then
        cache[start] = dir
        return dir
      end
      if dir == "/" then
        break
      end
      dir = parent(dir)
    end
  end
  local root = start
  if (start == cwd or start:sub(1, #cwd + 1) == cwd .. "/") and not M.too_broad(cwd) then
    root = cwd
  end
  if M.too_broad(root) then
    return nil -- not cached: a marker made later counts
  end
  cache[start] = root
  return root
end

function M.clear_cache()
  cache = {}
end

-- A daemon path (segment-relative, or absolute when `external`) as an absolute file name.
function M.absolute(segment, path)
  if path:sub(1, 1) == "/" then
    return path
  end
  return segment .. "/" .. path
end

-- `file` relative to `segment`, or nil when it lies outside.
function M.relative(segment, file)
  if file:sub(1, #segment + 1) == segment .. "/" then
    return file:sub(#segment + 2)
  end
  return nil
end

-- The dotted module of a segment-relative Python file ("pkg/models.py" → "pkg.models",
-- "pkg/__init__.py" → "pkg", "src/pkg/x.py" → "pkg.x"), or nil for a non-Python file.
function M.module_of(rel)
  if not rel or not rel:match("%.py$") then
    return nil
  end
  local m = rel:gsub("%.py$", ""):gsub("^src/", ""):gsub("/__init__$", "")
  if m == "__init__" then
    return nil
  end
  return (m:gsub("/", "."))
end

-- Every Python module of `segment` (a bounded walk: skips dot directories, __pycache__,
-- node_modules and virtualenvs; stops after `limit` files). Sorted.
function M.modules(segment, limit)
  limit = limit or 20000
  local out, seen = {}, {}
  local stack = { "" }
  local files = 0
  while #stack > 0 and files < limit do
    local rel = table.remove(stack)
    local handle = uv.fs_scandir(rel == "" and segment or (segment .. "/" .. rel))
    if handle then
      while true do
        local name, kind = uv.fs_scandir_next(handle)
        if not name then
          break
        end
        local child = rel == "" and name or (rel .. "/" .. name)
        if kind == "directory" then
          if not name:match("^%.") and name ~= "__pycache__" and name ~= "node_modules" and name ~= "site-packages" then
            table.insert(stack, child)
          end
        elseif name:match("%.py$") then
          files = files + 1
          local m = M.module_of(child)
          if m and not seen[m] then
            seen[m] = true
            table.insert(out, m)
          end
        end
      end
    end
  end
  table.sort(out)
  return out
end

return M
