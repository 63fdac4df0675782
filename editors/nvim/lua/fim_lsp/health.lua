--- :checkhealth fim_lsp
local M = {}

local health = vim.health
-- The check ends with one FIM call; a slow model gets its time.
local CHECK_TIMEOUT_MS = 20000

--- The buffer the user was in: :checkhealth has already switched to its own buffer.
local function user_buffer()
  local alt = vim.fn.bufnr("#")
  if alt > 0 and vim.bo[alt].buftype == "" then
    return alt
  end
  local current = vim.api.nvim_get_current_buf()
  if vim.bo[current].buftype == "" then
    return current
  end
end

local function check_neovim()
  if vim.fn.has("nvim-0.10") == 0 then
    health.error("Neovim 0.10 or newer is required")
  elseif vim.lsp.inline_completion then
    health.ok("Neovim draws the suggestions itself (vim.lsp.inline_completion)")
  else
    health.ok("Suggestions are drawn by fim_lsp.ghost (Neovim " .. tostring(vim.version()) .. ")")
  end
end

local function check_server(config)
  local cmd = config.cmd
  local exe = type(cmd) == "table" and cmd[1]
  if not exe then
    health.error("`cmd` is not a list: " .. vim.inspect(cmd))
    return
  end
  local path = vim.fn.exepath(exe)
  if path == "" then
    health.error(("Server command `%s` not found on PATH"):format(exe), {
      "Install the server: pip install fim-lsp (or pipx install fim-lsp)",
      "Or point `cmd` at it: require('fim_lsp').setup({ cmd = { '/path/to/fim-lsp' } })",
    })
    return
  end
  local ok, result = pcall(function()
    return vim
      .system(vim.list_extend(vim.deepcopy(cmd), { "--version" }), { text = true })
      :wait(5000)
  end)
  if ok and result.code == 0 then
    health.ok(("Server: %s (%s)"):format(path, vim.trim(result.stdout or "")))
  else
    health.warn(
      ("Server found at %s, but `%s --version` failed"):format(path, table.concat(cmd, " ")),
      {
        ok and vim.trim(result.stderr or "") or tostring(result),
      }
    )
  end
end

local function check_api_key(config)
  local settings = config.settings or {}
  if type(settings.apiKey) == "string" and settings.apiKey ~= "" then
    health.ok("API key: set in settings.apiKey")
    return
  end
  for _, var in ipairs({ "CODESTRAL_API_KEY", "MISTRAL_API_KEY" }) do
    local value = vim.env[var]
    if value and value ~= "" then
      health.ok(("API key: from $%s"):format(var))
      return
    end
  end
  health.error("No API key", {
    "export CODESTRAL_API_KEY=... (a Codestral key) or MISTRAL_API_KEY=... before starting Neovim",
    "or pass settings = { apiKey = ... } to require('fim_lsp').setup()",
  })
end

local function check_client(fim_lsp)
  local bufnr = user_buffer()
  local all = vim.lsp.get_clients({ name = fim_lsp.name })
  if not bufnr then
    health.info(("%d fim-lsp client(s) running; no file buffer to check"):format(#all))
    return
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  local label = name ~= "" and vim.fn.fnamemodify(name, ":~:.") or ("buffer " .. bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = fim_lsp.name })[1]
  if not client then
    local advice = {}
    local filetypes = fim_lsp.config.filetypes
    local ft = vim.bo[bufnr].filetype
    if filetypes and not vim.tbl_contains(filetypes, ft) then
      advice[#advice + 1] = ("filetype '%s' is not in `filetypes`"):format(ft)
    end
    advice[#advice + 1] =
      "Start-up errors are in the LSP log: :lua vim.cmd.edit(vim.lsp.get_log_path())"
    health.warn(
      ("No fim-lsp client attached to %s (%d running elsewhere)"):format(label, #all),
      advice
    )
    return
  end
  health.ok(("Client %d attached to %s"):format(client.id, label))
  local caps = client.server_capabilities or {}
  if caps.inlineCompletionProvider then
    health.ok("Server offers textDocument/inlineCompletion")
  else
    health.warn("Server did not announce textDocument/inlineCompletion: no ghost text", {
      "Update fim-lsp",
    })
  end
  if not fim_lsp.enabled then
    health.warn("Suggestions are turned off (:FimLsp enable)")
  end
  local state, message = fim_lsp.status(bufnr)
  if state == "error" then
    health.error("Last request failed: " .. (message or "unknown error"))
  elseif state == "off" then
    health.warn("The server is off for this buffer" .. (message and (": " .. message) or ""))
  else
    health.ok("Server status: " .. state)
  end
end

--- The server's own `fim-lsp check`: settings, key, model and one FIM call, as ✓/✗ lines.
local function check_setup(fim_lsp)
  health.start("fim-lsp check (the server's view: settings, key, model, one suggestion)")
  local result, err = fim_lsp.check_sync(CHECK_TIMEOUT_MS, user_buffer())
  if not result then
    health.warn("Could not run the check: " .. err, { "Run :FimLsp check once a file is open" })
    return
  end
  -- :checkhealth marks each line OK/ERROR itself: drop the report's own ✓/✗.
  for _, line in ipairs(result.lines) do
    if vim.startswith(line, "✗ ") then
      health.error(line:sub(#"✗ " + 1))
    else
      health.ok((line:gsub("^✓ ", "")))
    end
  end
  if not result.ok then
    health.error("No suggestion can be made with these settings")
  end
end

function M.check()
  health.start("fim-lsp")
  local fim_lsp = require("fim_lsp")
  check_neovim()
  if not fim_lsp.config then
    health.error("setup() was not called", { "Add require('fim_lsp').setup({}) to your config" })
    return
  end
  check_server(fim_lsp.config)
  check_api_key(fim_lsp.config)
  local endpoint = fim_lsp.config.settings.endpoint or vim.env.FIM_LSP_ENDPOINT
  if endpoint then
    health.info("Endpoint: " .. endpoint)
  end
  check_client(fim_lsp)
  if #vim.lsp.get_clients({ name = fim_lsp.name }) > 0 then
    check_setup(fim_lsp)
  end
end

return M
