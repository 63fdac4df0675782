--- Ghost text for Neovim 0.10/0.11, which have no built-in inline completion: requests
--- `textDocument/inlineCompletion` while typing and draws the first item with extmarks.
local M = {}

local api = vim.api

local METHOD = "textDocument/inlineCompletion"
local HL = "FimLspGhostText"
local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2
local UTF8_CHAR = "[%z\1-\127\194-\244][\128-\191]*"

M.ns = api.nvim_create_namespace("fim_lsp.ghost")

local client_name = "fim_lsp"
local enabled = true

---@class fim_lsp.GhostItem
---@field client_id integer
---@field row integer        0-based line the item applies to
---@field start integer      byte column where the replaced range begins
---@field tail integer       bytes between the range's end and the end of the line
---@field text string        what replaces the range
---@field command? table     run after the item is accepted in full
---@field raw table          the item as the server sent it (for didShow / didPartiallyAccept)
---@field accepted integer   UTF-16 units of raw.insertText accepted so far (word / line accepts)

---@class fim_lsp.GhostState
---@field item? fim_lsp.GhostItem
---@field request? {client_id: integer, id: integer}
---@field scheduled? boolean

---@type table<integer, fim_lsp.GhostState>
local states = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

local function state(bufnr)
  local st = states[bufnr]
  if not st then
    st = {}
    states[bufnr] = st
  end
  return st
end

local function in_insert_mode()
  return api.nvim_get_mode().mode:sub(1, 1) == "i"
end

--- Byte column of an LSP `character` in `line` under the client's position encoding.
local function byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  if has_011 then
    return vim.str_byteindex(line, encoding, character, false)
  end
  local ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  return ok and col or #line
end

local function client_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function client_cancel(client, id)
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

local function get_client(bufnr)
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr, name = client_name })) do
    if client.server_capabilities and client.server_capabilities.inlineCompletionProvider then
      return client
    end
  end
end

local function cancel(bufnr)
  local st = states[bufnr]
  local request = st and st.request
  if request then
    st.request = nil
    local client = vim.lsp.get_client_by_id(request.client_id)
    if client then
      client_cancel(client, request.id)
    end
  end
end

local function clear(bufnr)
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
  local st = states[bufnr]
  if st then
    st.item = nil
  end
end

--- Expand tabs the way they would be displayed from display column `vcol`.
local function expand_tabs(text, vcol)
  if not text:find("\t", 1, true) then
    return text
  end
  local ts = vim.bo.tabstop
  local out = {}
  for ch in text:gmatch(UTF8_CHAR) do
    if ch == "\t" then
      local width = ts - vcol % ts
      out[#out + 1] = string.rep(" ", width)
      vcol = vcol + width
    else
      out[#out + 1] = ch
      vcol = vcol + vim.fn.strdisplaywidth(ch)
    end
  end
  return table.concat(out)
end

--- Where the item stands relative to the cursor. Nil when it no longer fits the buffer,
--- e.g. the user typed something other than the suggestion or moved away.
---@return {row: integer, col: integer, range_end: integer, rest: string, existing: string, line: string}|nil
local function locate(bufnr, item)
  if api.nvim_get_current_buf() ~= bufnr then
    return nil
  end
  local cursor = api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  if row ~= item.row or col < item.start then
    return nil
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
  local range_end = #line - item.tail
  if range_end < col then
    return nil
  end
  -- What was typed since the item was made must be the start of the item's text.
  local typed = line:sub(item.start + 1, col)
  if item.text:sub(1, #typed) ~= typed then
    return nil
  end
  local rest = item.text:sub(#typed + 1)
  if rest == "" then
    return nil
  end
  return {
    row = row,
    col = col,
    range_end = range_end,
    rest = rest,
    existing = line:sub(col + 1, range_end),
    line = line,
  }
end

--- Split `rest` around the characters of `existing` (text the item replaces that is still in the
--- buffer after the cursor, typically an auto-closed bracket) so each piece can be drawn inline
--- in front of the character it precedes. Nil when `existing` is not a subsequence of `rest`.
---@return {offset: integer, text: string, stop: integer}[]|nil
local function interleave(rest, existing)
  local pieces = {}
  local pos, offset = 1, 0
  for ch in existing:gmatch(UTF8_CHAR) do
    local found = rest:find(ch, pos, true)
    if not found then
      return nil
    end
    pieces[#pieces + 1] =
      { offset = offset, text = rest:sub(pos, found - 1), stop = found + #ch - 1 }
    pos = found + #ch
    offset = offset + #ch
  end
  pieces[#pieces + 1] = { offset = offset, text = rest:sub(pos), stop = #rest }
  return pieces
end

---@return boolean shown
local function render(bufnr)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  -- Drawn over the built-in completion menu, a suggestion would hide its entries.
  if vim.fn.pumvisible() == 1 then
    return false
  end
  local st = states[bufnr]
  local where = st and st.item and locate(bufnr, st.item)
  if not where then
    return false
  end
  local lines = vim.split(where.rest, "\n", { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { expand_tabs(lines[i], 0), HL } }
  end
  local pieces = #lines == 1 and where.existing ~= "" and interleave(lines[1], where.existing)
    or { { offset = 0, text = lines[1] } }
  local vcol = vim.fn.strdisplaywidth(where.line:sub(1, where.col))
  local placed_lines = false
  for _, piece in ipairs(pieces) do
    if piece.text ~= "" or (not placed_lines and #virt_lines > 0) then
      local opts = { hl_mode = "combine" }
      if piece.text ~= "" then
        opts.virt_text = { { expand_tabs(piece.text, vcol), HL } }
        opts.virt_text_pos = "inline"
      end
      if not placed_lines and #virt_lines > 0 then
        opts.virt_lines = virt_lines
        placed_lines = true
      end
      api.nvim_buf_set_extmark(bufnr, M.ns, where.row, where.col + piece.offset, opts)
    end
  end
  return true
end

--- How many bytes of the replaced text still after the cursor accepting `chunk` overwrites.
local function consumed_bytes(where, chunk)
  if where.existing == "" or chunk:find("\n", 1, true) then
    return 0
  end
  local pieces = interleave(where.rest, where.existing)
  if not pieces then
    return 0
  end
  -- Existing characters whose place in the suggestion lies inside the accepted chunk are
  -- overwritten by it, so a partly accepted `foo(a|)` never becomes `foo(a, b|))`.
  local consumed = 0
  for i = 1, #pieces - 1 do
    if pieces[i].stop <= #chunk then
      consumed = pieces[i + 1].offset
    end
  end
  return consumed
end

--- Copilot's show / partial-accept notifications, which fim-lsp counts in its local stats.
local function notify(item, method, params)
  local client = vim.lsp.get_client_by_id(item.client_id)
  if not client then
    return
  end
  if has_011 then
    client:notify(method, params)
  else
    client.notify(method, params)
  end
end

--- UTF-16 code units of a UTF-8 string (what LSP lengths count).
local function utf16_len(text)
  if has_011 then
    return vim.str_utfindex(text, "utf-16")
  end
  local _, utf16 = vim.str_utfindex(text)
  return utf16
end

local function run_command(bufnr, item)
  local client = item.command and vim.lsp.get_client_by_id(item.client_id)
  if not client then
    return
  end
  if has_011 then
    client:exec_cmd(item.command, { bufnr = bufnr }, function() end)
  else
    client_request(client, "workspace/executeCommand", {
      command = item.command.command,
      arguments = item.command.arguments,
    }, function() end, bufnr)
  end
end

local function next_chunk(rest, kind)
  if kind == "word" then
    return rest:match("^%s*[%w_\128-\255]+") or rest:match("^%s*[^%w%s_\128-\255]+") or rest
  end
  -- "line": the rest of the current line, or the next line when the current one is done.
  return rest:match("^[^\n]+") or rest:match("^\n[^\n]*") or rest
end

---@param item table raw InlineCompletionItem
---@return fim_lsp.GhostItem|nil
local function convert(bufnr, client, raw, row, col)
  -- Snippet items (StringValue) are not produced by fim-lsp; only plain text is drawn.
  if type(raw) ~= "table" or type(raw.insertText) ~= "string" or raw.insertText == "" then
    return nil
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
  local start, stop = col, col
  local range = raw.range
  if type(range) == "table" then
    if range.start.line ~= row or range["end"].line ~= row then
      return nil
    end
    start = byte_col(line, range.start.character, client.offset_encoding)
    stop = byte_col(line, range["end"].character, client.offset_encoding)
    if start > col or stop < col then
      return nil
    end
  end
  return {
    client_id = client.id,
    row = row,
    start = start,
    tail = #line - stop,
    text = raw.insertText,
    command = raw.command,
    raw = raw,
    accepted = 0,
  }
end

---@param trigger_kind integer
local function request(bufnr, trigger_kind)
  if not enabled or not api.nvim_buf_is_valid(bufnr) or not in_insert_mode() then
    return
  end
  if api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local client = get_client(bufnr)
  if not client then
    return
  end
  cancel(bufnr)
  local st = state(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = trigger_kind }
  local cursor = api.nvim_win_get_cursor(0)
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local id
  local ok, request_id = client_request(client, METHOD, params, function(err, result)
    if not st.request or st.request.id ~= id then
      return -- superseded
    end
    st.request = nil
    if err or not result then
      return
    end
    if
      not in_insert_mode()
      or api.nvim_get_current_buf() ~= bufnr
      or api.nvim_buf_get_changedtick(bufnr) ~= tick
      or not vim.deep_equal(api.nvim_win_get_cursor(0), cursor)
    then
      return -- the buffer moved on; a newer request is on its way
    end
    local items = result.items or result
    local item
    for _, raw in ipairs(items) do
      item = convert(bufnr, client, raw, cursor[1] - 1, cursor[2])
      if item then
        break
      end
    end
    st.item = item
    if not render(bufnr) then
      st.item = nil
    elseif item then
      notify(item, "textDocument/didShowCompletion", { item = item.raw })
    end
  end, bufnr)
  if ok and request_id then
    id = request_id
    st.request = { client_id = client.id, id = request_id }
  end
end

local function schedule_request(bufnr)
  local st = state(bufnr)
  -- TextChangedI and CursorMovedI both fire for one keystroke: send one request.
  if st.scheduled then
    return
  end
  st.scheduled = true
  vim.schedule(function()
    st.scheduled = false
    request(bufnr, TRIGGER_AUTOMATIC)
  end)
end

local function on_edit(bufnr)
  if not enabled or not get_client(bufnr) then
    return
  end
  local st = states[bufnr]
  -- Typing the suggestion's own characters keeps the rest on screen until the new answer comes.
  if st and st.item and not render(bufnr) then
    st.item = nil
  end
  schedule_request(bufnr)
end

local function reset(bufnr)
  cancel(bufnr)
  clear(bufnr)
end

---@param group integer
---@param name string LSP client name to ask
function M.attach_autocmds(group, name)
  client_name = name
  api.nvim_create_autocmd({ "InsertEnter", "TextChangedI", "CursorMovedI", "CompleteDone" }, {
    group = group,
    callback = function(args)
      on_edit(args.buf)
    end,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    callback = function(args)
      reset(args.buf)
    end,
  })
  api.nvim_create_autocmd("BufUnload", {
    group = group,
    callback = function(args)
      reset(args.buf)
      states[args.buf] = nil
    end,
  })
  api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == client_name then
        reset(args.buf)
      end
    end,
  })
end

--- The server's `fimLsp/blockReady`: a suggestion shown by its first line, or that line's first
--- words (the model was slow), now has its whole line or block. Ask again if the buffer is still
--- as it was; the server answers from memory, with no model call.
---@param result {uri: string, version: integer}|any
function M.block_ready(result)
  if type(result) ~= "table" or type(result.uri) ~= "string" then
    return
  end
  local bufnr = api.nvim_get_current_buf()
  if not states[bufnr] or vim.uri_from_bufnr(bufnr) ~= result.uri then
    return
  end
  local versions = vim.lsp.util.buf_versions or {}
  local version = versions[bufnr] or api.nvim_buf_get_changedtick(bufnr)
  if version == result.version then
    request(bufnr, TRIGGER_AUTOMATIC)
  end
end

--- Whether a suggestion is shown in the current buffer.
function M.visible()
  local bufnr = api.nvim_get_current_buf()
  local st = states[bufnr]
  return st ~= nil and st.item ~= nil and locate(bufnr, st.item) ~= nil
end

--- The suggestion text still to be accepted in the current buffer, or nil.
function M.current()
  local bufnr = api.nvim_get_current_buf()
  local st = states[bufnr]
  local where = st and st.item and locate(bufnr, st.item)
  return where and where.rest or nil
end

--- Accept the shown suggestion in full ("all"), or its next "word" or "line".
---@param kind? "all"|"word"|"line"
---@return boolean accepted
function M.accept(kind)
  kind = kind or "all"
  local bufnr = api.nvim_get_current_buf()
  local st = states[bufnr]
  local item = st and st.item
  local where = item and locate(bufnr, item)
  if not where then
    return false
  end
  cancel(bufnr)
  local chunk = kind == "all" and where.rest or next_chunk(where.rest, kind)
  local full = chunk == where.rest
  local row, col = where.row, where.col
  local lines = vim.split(chunk, "\n", { plain = true })
  if full then
    -- The item's whole range is replaced, which removes e.g. an auto-closed `)`.
    clear(bufnr)
    api.nvim_buf_set_text(bufnr, row, col, row, where.range_end, lines)
  else
    local consumed = consumed_bytes(where, chunk)
    api.nvim_buf_set_text(bufnr, row, col, row, col + consumed, lines)
  end
  local end_row = row + #lines - 1
  local end_col = (#lines == 1 and col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { end_row + 1, end_col })
  if full then
    run_command(bufnr, item)
  else
    -- The total accepted so far of the item's text, as Copilot's protocol counts it.
    local accepted = utf16_len(item.raw.insertText) - utf16_len(where.rest) + utf16_len(chunk)
    notify(item, "textDocument/didPartiallyAcceptCompletion", {
      item = item.raw,
      acceptedLength = accepted,
    })
    -- Re-anchor the rest at the cursor; the range's end keeps its distance from the line end.
    st.item = {
      client_id = item.client_id,
      row = end_row,
      start = end_col,
      tail = item.tail,
      text = where.rest:sub(#chunk + 1),
      command = item.command,
      raw = item.raw,
      accepted = accepted,
    }
    render(bufnr)
  end
  return true
end

function M.dismiss()
  reset(api.nvim_get_current_buf())
end

--- Ask for a suggestion now, without waiting for the next keystroke.
function M.suggest()
  request(api.nvim_get_current_buf(), TRIGGER_INVOKED)
end

---@param enable boolean
function M.set_enabled(enable)
  enabled = enable
  if not enable then
    for bufnr in pairs(states) do
      reset(bufnr)
    end
  end
end

return M
