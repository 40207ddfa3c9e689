-- Telescope extension for trifecta.nvim: the search picker with a file preview.
-- Loaded by Telescope only (require("telescope").load_extension("trifecta"), or on first use by
-- trifecta.search when `picker` is "auto" or "telescope"); never required when Telescope is absent.
--   :Telescope trifecta search query=json\ decode  — or :Trifecta search json decode
local has_telescope, telescope = pcall(require, "telescope")
if not has_telescope then
  error("trifecta's Telescope extension needs telescope.nvim")
end
local pickers = require("telescope.pickers")
local finders = require("telescope.finders")
local conf = require("telescope.config").values
local actions = require("telescope.actions")
local action_state = require("telescope.actions.state")

-- Show a ctx.search reply `r` of segment `seg`; `choose(hit)` jumps.
local function show(r, seg, filters, choose)
  local trifecta = require("trifecta")
  pickers
    .new({}, {
      prompt_title = trifecta.search_title(r, filters or {}),
      finder = finders.new_table({
        results = r.hits or {},
        entry_maker = function(h)
          return {
            value = h,
            display = trifecta.format_hit(h),
            ordinal = h.path .. " " .. (h.title or "") .. " " .. (h.preview or ""),
            filename = require("trifecta.project").absolute(seg, h.path),
            lnum = h.start_line,
          }
        end,
      }),
      sorter = conf.generic_sorter({}),
      previewer = conf.grep_previewer({}),
      attach_mappings = function(bufnr)
        actions.select_default:replace(function()
          local entry = action_state.get_selected_entry()
          actions.close(bufnr)
          if entry then
            choose(entry.value)
          end
        end)
        return true
      end,
    })
    :find()
end

return telescope.register_extension({
  exports = {
    show = show,
    -- :Telescope trifecta search query=...
    search = function(opts)
      opts = opts or {}
      local q = opts.query or vim.fn.input("trifecta search: ", vim.fn.expand("<cword>"))
      require("trifecta").search(q, { path = opts.path, kind = opts.kind })
    end,
  },
})
