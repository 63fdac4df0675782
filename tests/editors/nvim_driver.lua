-- Drives a real headless Neovim through a scenario for tests/editors/test_nvim.py.
--
--   FIM_NVIM_SCENARIO=scenario.json nvim --headless --clean -u tests/editors/nvim_driver.lua FILE
--
-- scenario.json: { rtp, setup, steps, out, timeout_ms }. Steps run in a coroutine that yields to
-- the main loop between polls, so keys given to nvim_input() are handled exactly as typed keys
-- (insert mode, mappings, TextChangedI). The results are written to `out` as JSON, then Neovim quits.
local api = vim.api
local uv = vim.uv or vim.loop
local started_at = uv.now()

local scenario = vim.json.decode(table.concat(vim.fn.readfile(vim.env.FIM_NVIM_SCENARIO), "\n"))

vim.opt.rtp:prepend(scenario.rtp)
vim.opt.swapfile = false
vim.opt.shada = ""

local result = {
  snapshots = {},
  errors = {},
  calls = { exec_cmd = {}, cancel = 0, inline = 0, execute = 0, notify = {} },
  lua = vim.empty_dict(),
  screens = vim.empty_dict(),
}
local finished = false

local function finish(err)
  if finished then
    return
  end
  finished = true
  if err then
    table.insert(result.errors, err)
  end
  result.messages = api.nvim_exec2("messages", { output = true }).output
  vim.fn.writefile({ vim.json.encode(result) }, scenario.out)
  vim.cmd("qall!")
end

-- Count what the plugin sends, without changing it.
api.nvim_create_autocmd("LspAttach", {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if not client or client._fim_test_wrapped then
      return
    end
    client._fim_test_wrapped = true
    local request, cancel, exec_cmd = client.request, client.cancel_request, client.exec_cmd
    local notify = client.notify
    client.notify = function(self, method, params)
      if method:match("Completion$") then
        table.insert(result.calls.notify, { method = method, params = params })
      end
      return notify(self, method, params)
    end
    client.request = function(self, method, ...)
      if method == "textDocument/inlineCompletion" then
        result.calls.inline = result.calls.inline + 1
      elseif method == "workspace/executeCommand" then
        result.calls.execute = result.calls.execute + 1
      end
      return request(self, method, ...)
    end
    client.cancel_request = function(self, id)
      result.calls.cancel = result.calls.cancel + 1
      return cancel(self, id)
    end
    if exec_cmd then
      client.exec_cmd = function(self, command, ...)
        table.insert(result.calls.exec_cmd, command)
        return exec_cmd(self, command, ...)
      end
    end
  end,
})

local started, start_err = pcall(function()
  -- Lets a test stand in for another Neovim version (e.g. hide vim.lsp.config as on 0.10).
  if type(scenario.pre_lua) == "string" then
    assert(loadstring(scenario.pre_lua))()
  end
  if type(scenario.setup_event) == "string" then
    -- As a plugin manager that loads the plugin lazily on this event would.
    api.nvim_create_autocmd(scenario.setup_event, {
      once = true,
      callback = function()
        require("fim_lsp").setup(scenario.setup)
      end,
    })
  else
    require("fim_lsp").setup(scenario.setup)
  end
end)
if not started then
  finish("setup failed: " .. tostring(start_err))
  return
end

local co

local function resume()
  if finished then
    return
  end
  local ok, err = coroutine.resume(co)
  if not ok then
    finish(debug.traceback(co, tostring(err)))
  end
end

local function sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

local function wait_until(what, cond, timeout)
  local deadline = uv.now() + (timeout or 10000)
  while not cond() do
    if uv.now() > deadline then
      error("timed out waiting for " .. what, 0)
    end
    sleep(10)
  end
end

local function client()
  return vim.lsp.get_clients({ bufnr = 0, name = "fim_lsp" })[1]
end

local function ghost_extmarks()
  local ns = require("fim_lsp.ghost").ns
  local marks = {}
  for _, mark in ipairs(api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
    local details = mark[4]
    local text = {}
    for _, chunk in ipairs(details.virt_text or {}) do
      text[#text + 1] = chunk[1]
    end
    local lines = {}
    for _, line in ipairs(details.virt_lines or {}) do
      local parts = {}
      for _, chunk in ipairs(line) do
        parts[#parts + 1] = chunk[1]
      end
      lines[#lines + 1] = table.concat(parts)
    end
    marks[#marks + 1] = {
      row = mark[2],
      col = mark[3],
      text = table.concat(text),
      pos = details.virt_text_pos,
      lines = lines,
    }
  end
  return marks
end

local function snapshot(name)
  local cursor = api.nvim_win_get_cursor(0)
  result.snapshots[name] = {
    lines = api.nvim_buf_get_lines(0, 0, -1, false),
    cursor = { cursor[1], cursor[2] },
    mode = api.nvim_get_mode().mode,
    ms = uv.now() - started_at,
    ghost = ghost_extmarks(),
    rest = require("fim_lsp.ghost").current() or vim.NIL,
    calls = vim.deepcopy(result.calls),
  }
end

local ops = {
  wait_client = function(step)
    wait_until("the fim_lsp client", function()
      local c = client()
      return c ~= nil and c.initialized and c.server_capabilities ~= nil
    end, step.timeout)
  end,
  input = function(step)
    api.nvim_input(step.keys)
  end,
  wait_ghost = function(step)
    wait_until("ghost text", function()
      return #ghost_extmarks() > 0 and require("fim_lsp.ghost").visible()
    end, step.timeout)
  end,
  wait_no_ghost = function(step)
    wait_until("the ghost text to go", function()
      return #ghost_extmarks() == 0
    end, step.timeout)
  end,
  wait_mode = function(step)
    wait_until("mode " .. step.mode, function()
      return api.nvim_get_mode().mode == step.mode
    end, step.timeout)
  end,
  wait_line = function(step)
    wait_until("line " .. step.line .. " to be " .. vim.inspect(step.text), function()
      return api.nvim_buf_get_lines(0, step.line - 1, step.line, false)[1] == step.text
    end, step.timeout)
  end,
  sleep = function(step)
    sleep(step.ms)
  end,
  snapshot = function(step)
    snapshot(step.name)
  end,
  wait_lua = function(step)
    local check = assert(loadstring(step.code))
    wait_until(step.what or step.code, function()
      return check()
    end, step.timeout)
  end,
  -- What the user sees: the screen grid is kept up to date even with no UI attached.
  screen = function(step)
    vim.cmd.redraw()
    local rows = {}
    for row = 1, step.rows or 5 do
      local cells = {}
      for col = 1, vim.o.columns do
        cells[#cells + 1] = vim.fn.screenstring(row, col)
      end
      rows[#rows + 1] = (table.concat(cells):gsub("%s+$", ""))
    end
    result.screens[step.name] = { rows = rows, cursor = { vim.fn.screenrow(), vim.fn.screencol() } }
  end,
  lua = function(step)
    result.lua[step.name] = assert(loadstring(step.code))()
  end,
  health = function(step)
    local buf = api.nvim_get_current_buf()
    vim.cmd("checkhealth fim_lsp")
    result.health = api.nvim_buf_get_lines(0, 0, -1, false)
    vim.cmd("tabclose")
    api.nvim_set_current_buf(buf)
  end,
}

co = coroutine.create(function()
  for i, step in ipairs(scenario.steps) do
    local op = ops[step.op]
    if not op then
      error("unknown op " .. tostring(step.op), 0)
    end
    local ok, err = pcall(op, step)
    if not ok then
      snapshot("failed")
      error(("step %d (%s): %s"):format(i, step.op, err), 0)
    end
  end
  finish()
end)

vim.defer_fn(function()
  snapshot("timeout")
  finish("scenario timed out")
end, scenario.timeout_ms or 30000)

vim.schedule(resume)
