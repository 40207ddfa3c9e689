-- trifecta.nvim: the :Trifecta command. Everything else loads on first use
-- (require("trifecta")); configure with require("trifecta").setup({...}) (see :help trifecta).
if vim.g.loaded_trifecta then
  return
end
vim.g.loaded_trifecta = true

if vim.fn.has("nvim-0.7") == 0 then
  vim.api.nvim_echo({ { "trifecta.nvim needs Neovim 0.7 or later", "WarningMsg" } }, true, {})
  return
end

vim.api.nvim_create_user_command("Trifecta", function(o)
  require("trifecta").command(o.fargs)
end, {
  nargs = "*",
  desc = "trifecta: search|sym|outline|def|hover|refs|diag|status|context|map",
  complete = function(arglead, cmdline, pos)
    return require("trifecta").complete(arglead, cmdline, pos)
  end,
})
