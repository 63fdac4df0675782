--- fim-lsp for Neovim: starts the fim-lsp language server for every buffer and shows its
--- inline completions as ghost text (built in on Neovim 0.12+, drawn by `fim_lsp.ghost` on 0.10/0.11).
local M = {}

local NAME = "fim_lsp"

---@class fim_lsp.Keymaps
---@field accept string|false       accept the whole suggestion (falls through to the key when none is shown)
---@field accept_word string|false  accept the next word (0.10/0.11 only)
---@field accept_line string|false  accept the rest of the line (0.10/0.11 only)
---@field dismiss string|false      hide the suggestion (0.10/0.11 only)
---@field suggest string|false      ask for a suggestion now (0.10/0.11 only)

---@class fim_lsp.Options
---@field cmd string[]                    how to start the server
---@field settings table<string, any>     fim-lsp settings, camelCase keys as in the server's docs
---@field filetypes string[]|nil          nil: every buffer that is a file
---@field ghost_text boolean              show inline suggestions
---@field keymaps fim_lsp.Keymaps

---@type fim_lsp.Options
local defaults = {
  cmd = { "fim-lsp" },
  settings = {},
  filetypes = nil,
  ghost_text = true,
  keymaps = {
    accept = "<Tab>",
    accept_word = "<M-Right>",
    accept_line = "<M-l>",
    dismiss = "<C-]>",
    suggest = "<M-\\>",
  },
}

M.name = NAME

---@type fim_lsp.Options|nil
M.config = nil

--- Last `fimLsp/status` per client id.
---@type table<integer, {state: string, message?: string, latencyMs?: number, source?: string}>
local statuses = {}

local group = vim.api.nvim_create_augroup("fim_lsp", { clear = true })

--- Neovim 0.12 draws inline completions itself.
local function builtin_inline()
  return vim.lsp.inline_completion ~= nil
end

local function on_status(_, result, ctx)
  if type(result) ~= "table" then
    return
  end
  -- Kept for statuslines and :checkhealth; the server itself shows the errors that need the
  -- user (window/showMessage), so nothing is echoed here.
  statuses[ctx.client_id] = result
  vim.api.nvim_exec_autocmds("User", { pattern = "FimLspStatus", modeline = false, data = result })
end

---@param opts fim_lsp.Options
local function client_config(opts)
  local settings = next(opts.settings) and opts.settings or vim.empty_dict()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  -- The server only offers completion-menu items when the client cannot show inline
  -- completions, so announce the capability exactly when ghost text is on.
  if opts.ghost_text then
    capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  else
    capabilities.textDocument.inlineCompletion = nil
  end
  return {
    name = NAME,
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    init_options = settings,
    -- Answers the server's `workspace/configuration` pull for section `fimLsp`.
    settings = { fimLsp = settings },
    capabilities = capabilities,
    handlers = {
      ["fimLsp/status"] = on_status,
      ["fimLsp/blockReady"] = function(_, result)
        require("fim_lsp.ghost").block_ready(result)
      end,
    },
  }
end

local function is_file_buffer(bufnr)
  return vim.api.nvim_buf_is_valid(bufnr) and vim.bo[bufnr].buftype == ""
end

local function filetype_allowed(bufnr)
  local filetypes = M.config.filetypes
  return filetypes == nil or vim.tbl_contains(filetypes, vim.bo[bufnr].filetype)
end

local function enabled_by_user()
  return not vim.lsp.is_enabled or vim.lsp.is_enabled(NAME)
end

--- Neovim 0.11+: vim.lsp.enable() attaches on FileType from now on.
local function register_enabled(config)
  vim.lsp.config(NAME, config)
  vim.lsp.enable(NAME)
  local function start(bufnr)
    if is_file_buffer(bufnr) and filetype_allowed(bufnr) and enabled_by_user() then
      vim.lsp.start(vim.lsp.config[NAME], { bufnr = bufnr, silent = true })
    end
  end
  if M.config.filetypes == nil then
    -- FileType never fires for a file without a filetype (a README without extension, a
    -- scratch file): cover those too.
    vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
      group = group,
      callback = function(args)
        -- After filetype detection, which may run later in the same event.
        vim.schedule(function()
          if vim.api.nvim_buf_is_valid(args.buf) and vim.bo[args.buf].filetype == "" then
            start(args.buf)
          end
        end)
      end,
    })
  end
  -- Buffers read before setup() (e.g. when a plugin manager loads this plugin on
  -- BufReadPost): vim.lsp.enable() only revisits them once Neovim has finished starting.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.api.nvim_buf_get_name(bufnr) ~= "" then
      start(bufnr)
    end
  end
end

--- Neovim 0.10: start (or reuse) the client for each buffer ourselves.
local function register_started(config)
  local function start(bufnr)
    if is_file_buffer(bufnr) and filetype_allowed(bufnr) then
      vim.lsp.start(config, { bufnr = bufnr, silent = true })
    end
  end
  vim.api.nvim_create_autocmd({ "FileType", "BufReadPost", "BufNewFile" }, {
    group = group,
    callback = function(args)
      start(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.api.nvim_buf_get_name(bufnr) ~= "" then
      start(bufnr)
    end
  end
end

local function map(lhs, rhs, desc)
  if lhs then
    vim.keymap.set("i", lhs, rhs, { expr = true, silent = true, desc = desc })
  end
end

--- Neovim 0.12+: the built-in inline completion does the drawing; we only enable it and
--- give <Tab> the documented accept-or-fall-through behaviour.
local function setup_builtin(opts)
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == NAME and M.enabled then
        vim.lsp.inline_completion.enable(true, { bufnr = args.buf })
      end
    end,
  })
  map(opts.keymaps.accept, function()
    if not vim.lsp.inline_completion.get() then
      return opts.keymaps.accept
    end
  end, "fim-lsp: accept suggestion")
end

local function setup_ghost(opts)
  local ghost = require("fim_lsp.ghost")
  ghost.attach_autocmds(group, NAME)
  local function accept_map(lhs, kind, desc)
    map(lhs, function()
      if ghost.visible() then
        return ("<Cmd>lua require('fim_lsp.ghost').accept(%q)<CR>"):format(kind)
      end
      return lhs
    end, desc)
  end
  accept_map(opts.keymaps.accept, "all", "fim-lsp: accept suggestion")
  accept_map(opts.keymaps.accept_word, "word", "fim-lsp: accept next word")
  accept_map(opts.keymaps.accept_line, "line", "fim-lsp: accept next line")
  local dismiss = opts.keymaps.dismiss
  map(dismiss, function()
    if ghost.visible() then
      return "<Cmd>lua require('fim_lsp.ghost').dismiss()<CR>"
    end
    return dismiss
  end, "fim-lsp: dismiss suggestion")
  local suggest = opts.keymaps.suggest
  if suggest then
    vim.keymap.set("i", suggest, function()
      ghost.suggest()
    end, { silent = true, desc = "fim-lsp: suggest now" })
  end
end

M.enabled = true

--- Turn suggestions on or off for the whole session (the server keeps running).
---@param enable boolean
function M.enable(enable)
  M.enabled = enable
  if builtin_inline() then
    for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
      for bufnr in pairs(client.attached_buffers) do
        vim.lsp.inline_completion.enable(enable, { bufnr = bufnr })
      end
    end
  else
    require("fim_lsp.ghost").set_enabled(enable)
  end
end

--- Last status the server reported for the buffer's client: "idle", "fetching", "error", "off",
--- or nil when no client is attached; a message ("" when none); and the last suggestion's
--- `{ latency_ms = number, source = "model"|"cache"|"typed" }`, or nil before the first one.
--- Handy in a statusline.
---@param bufnr? integer
---@return string|nil state, string|nil message, {latency_ms: number, source: string}|nil last
function M.status(bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr or 0, name = NAME })[1]
  if not client then
    return nil
  end
  local status = statuses[client.id] or { state = "idle" }
  local last = nil
  if type(status.source) == "string" and type(status.latencyMs) == "number" then
    last = { latency_ms = status.latencyMs, source = status.source }
  end
  return status.state, status.message or "", last
end

local SOURCE_WORDS = { model = "the model", cache = "the cache", typed = "typing through" }

--- The `:FimLsp status` line.
---@return string
function M.status_line(bufnr)
  local state, message, last = M.status(bufnr)
  local parts = {
    ("fim-lsp: %s"):format(state or "no client for this buffer"),
    ("suggestions %s"):format(M.enabled and "on" or "off"),
  }
  if message and message ~= "" then
    parts[1] = parts[1] .. " (" .. message .. ")"
  end
  if last then
    parts[#parts + 1] = ("last suggestion %d ms from %s"):format(
      math.floor(last.latency_ms + 0.5),
      SOURCE_WORDS[last.source] or last.source
    )
  end
  return table.concat(parts, ", ")
end

--- Whether the plugin's own ghost text is showing (always false on 0.12+, where Neovim draws it).
function M.visible()
  return not builtin_inline()
    and package.loaded["fim_lsp.ghost"] ~= nil
    and require("fim_lsp.ghost").visible()
end

--- Accept the suggestion: "all" (default), "word" or "line". Returns false when nothing was shown,
--- so other <Tab> handlers (nvim-cmp, blink.cmp, snippets) can fall back.
---@param kind? "all"|"word"|"line"
---@return boolean
function M.accept(kind)
  if builtin_inline() then
    return vim.lsp.inline_completion.get() == true
  end
  local ghost = require("fim_lsp.ghost")
  if not ghost.visible() then
    return false
  end
  -- Buffer edits are not allowed while an <expr> mapping is evaluated.
  vim.schedule(function()
    ghost.accept(kind or "all")
  end)
  return true
end

local CHECK = "fimLsp.check"
local has_011 = vim.fn.has("nvim-0.11") == 1

--- The fim-lsp client of the buffer, else any running one (the check does not depend on the file).
local function any_client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = NAME })[1]
    or vim.lsp.get_clients({ name = NAME })[1]
end

local function check_params()
  return { command = CHECK, arguments = {} }
end

--- Ask the server for `fim-lsp check` (the `fimLsp.check` command) and call `on_result(err,
--- result)` with its `{ ok = boolean, lines = string[], text = string }`; false when no fim-lsp
--- client is running.
---@param on_result fun(err: table|nil, result: {ok: boolean, lines: string[], text: string}|nil)
---@param bufnr? integer
---@return boolean
function M.check(on_result, bufnr)
  local client = any_client(bufnr)
  if not client then
    return false
  end
  local function handler(err, result)
    on_result(err, result)
  end
  local method, params = "workspace/executeCommand", check_params()
  if has_011 then
    client:request(method, params, handler, bufnr or 0)
  else
    client.request(method, params, handler, bufnr or 0)
  end
  return true
end

--- The check, waiting up to `timeout_ms` (for :checkhealth): result, or nil and an error message.
---@return {ok: boolean, lines: string[], text: string}|nil, string|nil
function M.check_sync(timeout_ms, bufnr)
  local client = any_client(bufnr)
  if not client then
    return nil, "no fim-lsp client is running"
  end
  local method, params = "workspace/executeCommand", check_params()
  local response, err
  if has_011 then
    response, err = client:request_sync(method, params, timeout_ms, bufnr or 0)
  else
    response, err = client.request_sync(method, params, timeout_ms, bufnr or 0)
  end
  if not response then
    return nil, tostring(err or "no answer")
  end
  if response.err then
    return nil, response.err.message or vim.inspect(response.err)
  end
  if type(response.result) ~= "table" or type(response.result.lines) ~= "table" then
    return nil, "unexpected answer: " .. vim.inspect(response.result)
  end
  return response.result
end

--- The message chunks that show a check: ✗ lines in ErrorMsg, the rest plain.
---@param result {ok: boolean, lines: string[]}
---@return [string, string?][]
function M.check_chunks(result)
  local chunks = {}
  for i, line in ipairs(result.lines) do
    local sep = i < #result.lines and "\n" or ""
    if vim.startswith(line, "✗") then
      chunks[#chunks + 1] = { line .. sep, "ErrorMsg" }
    else
      chunks[#chunks + 1] = { line .. sep }
    end
  end
  if #chunks == 0 then
    chunks[1] = { "fim-lsp check: no findings", result.ok and nil or "ErrorMsg" }
  end
  return chunks
end

local function run_check()
  local started = M.check(function(err, result)
    if err or type(result) ~= "table" or type(result.lines) ~= "table" then
      local why = err and (err.message or vim.inspect(err)) or vim.inspect(result)
      vim.notify("fim-lsp check failed: " .. why, vim.log.levels.ERROR)
      return
    end
    vim.api.nvim_echo(M.check_chunks(result), true, {})
  end)
  if not started then
    vim.notify("fim-lsp: no client running (open a file first)", vim.log.levels.ERROR)
  else
    vim.notify("fim-lsp: checking the setup...")
  end
end

local function command(args)
  local sub = args.fargs[1] or "status"
  if sub == "enable" then
    M.enable(true)
  elseif sub == "disable" then
    M.enable(false)
  elseif sub == "toggle" then
    M.enable(not M.enabled)
  elseif sub == "status" then
    vim.notify(M.status_line())
  elseif sub == "check" then
    run_check()
  else
    vim.notify("fim-lsp: unknown subcommand " .. sub, vim.log.levels.ERROR)
  end
end

---@param opts? fim_lsp.Options
function M.setup(opts)
  if vim.fn.has("nvim-0.10") == 0 then
    vim.notify("fim-lsp needs Neovim 0.10 or newer", vim.log.levels.ERROR)
    return
  end
  -- Lists (cmd, filetypes) are replaced, not merged, by tbl_deep_extend.
  opts = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  M.config = opts
  vim.api.nvim_clear_autocmds({ group = group })
  local function set_highlight()
    -- Comment's colours, with a grey for terminals without truecolor: Neovim 0.10/0.11's
    -- default Comment has only a GUI colour there, and ghost text without one looks like code.
    local comment = vim.api.nvim_get_hl(0, { name = "Comment", link = false })
    vim.api.nvim_set_hl(0, "FimLspGhostText", {
      fg = comment.fg or 0x808080,
      ctermfg = comment.ctermfg or 244,
      italic = comment.italic,
      default = true,
    })
  end
  set_highlight()
  -- `:colorscheme` clears every group, including ours.
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = set_highlight })

  if vim.lsp.config then
    register_enabled(client_config(opts))
  else
    register_started(client_config(opts))
  end
  if opts.ghost_text then
    if builtin_inline() then
      setup_builtin(opts)
    else
      setup_ghost(opts)
    end
  end

  vim.api.nvim_create_user_command("FimLsp", command, {
    nargs = "?",
    complete = function()
      return { "enable", "disable", "toggle", "status", "check" }
    end,
    desc = "fim-lsp: enable, disable, toggle, show status or check the setup",
  })
end

return M
