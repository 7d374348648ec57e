-- Tables that fit the page. Column widths come from the cells' text, measured with the widths of the shipped font
-- (a minimum from the longest unbreakable piece, a maximum from the whole text); long tokens (hashes, ids,
-- key=value) get break opportunities (zero-width spaces, which copy and search ignore); columns of numbers are
-- right-aligned; a table too wide for portrait gets a landscape page, and one too wide
-- even for that is set smaller; a short table is never split across pages. Headers repeat on every page (Typst's
-- default for table.header). Only fixed markup is added here, never source text.

local PORTRAIT, LANDSCAPE = 481.9, 728.5 -- text width in pt: A4 less 2 × 2 cm, portrait and landscape
local INSET = 8.8                         -- a cell's left and right inset (4 pt each) and the rule
local SIZE = 8                            -- the table text size in pt (the template's `show table`)
local SMALL = 7                           -- the size of a table too wide for a landscape page
local SHORT_TABLE, SHORT_HEIGHT = 8, 220  -- body rows and height (pt) up to which a table is kept on one page
local LEADING = 1.4                       -- line height in em
local TABLE_TOKEN, PROSE_TOKEN = 12, 40   -- tokens longer than this (characters) get break opportunities
local CHUNK = 8                           -- characters between forced break opportunities inside a long token
local ZWSP = '\u{200B}'

-- Advance widths of DejaVu Serif, regular and bold, in thousandths of an em, for the printable ASCII characters
-- (space to tilde), read from the shipped fonts; any other character counts as OTHER.
local REGULAR = { 318,402,460,838,636,950,890,275,390,390,500,838,318,338,318,337,636,636,636,636,636,636,636,636,636,636,337,337,838,838,838,536,1000,722,735,765,802,730,694,799,872,395,401,747,664,1024,875,820,673,820,753,685,667,843,722,1028,712,660,695,390,337,390,838,500,500,596,640,560,640,592,370,640,644,320,310,606,320,948,644,602,640,640,478,513,402,644,565,856,564,565,527,636,337,636,838 }
local BOLD = { 348,439,521,838,696,950,903,306,473,473,523,838,348,415,348,365,696,696,696,696,696,696,696,696,696,696,369,369,838,838,838,586,1000,776,845,796,867,762,710,854,945,468,473,869,703,1107,914,871,752,871,831,722,744,872,776,1123,776,714,730,473,365,473,838,500,500,648,699,609,699,636,430,699,727,380,362,693,380,1058,727,667,699,699,527,563,462,727,581,861,596,581,568,643,364,643,838 }
local OTHER = 800

local function text_width(text, em, widths)
  local width = 0
  for _, code in utf8.codes(text) do
    if code == 0x200B then
      width = width + 0
    elseif code >= 32 and code <= 126 then
      width = width + widths[code - 31]
    else
      width = width + OTHER
    end
  end
  return width * em / 1000
end

-- Break opportunities inside a long token: after separators (not a decimal point or comma before a digit, nor
-- inside a run of one separator such as a signature line), and every CHUNK characters inside a run of letters
-- and digits that holds a digit (hashes, ids, dates run together) or is longer than two chunks.
local SEPARATORS = { ['='] = true, ['/'] = true, ['_'] = true, ['.'] = true, [':'] = true, [','] = true,
                     [';'] = true, ['&'] = true, ['?'] = true, ['+'] = true, ['@'] = true, ['|'] = true }

local function breakable(text, limit)
  if utf8.len(text) == nil or utf8.len(text) <= limit then return text end
  local out, run = {}, {}
  local function flush()
    local word = table.concat(run)
    local forced = word:match('%d') or #run > 2 * CHUNK
    for index, piece in ipairs(run) do
      out[#out + 1] = piece
      if forced and index % CHUNK == 0 and index < #run then out[#out + 1] = ZWSP end
    end
    run = {}
  end
  local characters = {}
  for _, code in utf8.codes(text) do characters[#characters + 1] = utf8.char(code) end
  for index, c in ipairs(characters) do
    if c:match('^%w$') then
      run[#run + 1] = c
    else
      flush()
      out[#out + 1] = c
      local following = characters[index + 1]
      local decimal = (c == '.' or c == ',') and following and following:match('^%d$')
      if SEPARATORS[c] and following and following ~= c and not decimal then out[#out + 1] = ZWSP end
    end
  end
  flush()
  return table.concat(out)
end

local function break_tokens(element, limit)
  return element:walk({
    Str = function(s) s.text = breakable(s.text, limit); return s end,
    Code = function(c) c.text = breakable(c.text, limit); return c end,
  })
end

-- Numbers: an optional sign, digits (thousands may be grouped), an optional fraction and an optional percent sign.
local function number_parts(text)
  return text:match('^[%-+]?%d[%d,]*%.?%d*%%?$') ~= nil
end

local function cell_text(cell)
  return pandoc.utils.stringify(cell.contents)
end

local function is_blank(text)
  return text == '' or text == '—' or text == '-' or text == 'n/a'
end

-- Columns whose body cells are all numbers (or blank) are right-aligned. (Their precision is the document's:
-- a version "1.10" must not become "1.100", so digits are never added here.)
local function align_numbers(tbl, columns)
  for column = 1, columns do
    local numbers, others = 0, 0
    for _, body in ipairs(tbl.bodies) do
      for _, row in ipairs(body.body) do
        local cell = row.cells[column]
        if cell then
          local text = cell_text(cell)
          if number_parts(text) then
            numbers = numbers + 1
          elseif not is_blank(text) then
            others = others + 1
          end
        end
      end
    end
    if numbers > 0 and others == 0 then
      tbl.colspecs[column][1] = pandoc.AlignRight
    end
  end
end

-- The narrowest and the natural width (pt at `em`) of every column.
local function measure(tbl, columns, em)
  local low, high = {}, {}
  for column = 1, columns do low[column], high[column] = 0, 0 end
  local function visit(rows, widths)
    for _, row in ipairs(rows) do
      local column = 1
      for _, cell in ipairs(row.cells) do
        local text = cell_text(cell)
        if cell.col_span == 1 and column <= columns then
          local longest = 0
          -- lines break at spaces, at break opportunities and after a hyphen followed by a letter
          local spaced = text:gsub(ZWSP, ' '):gsub('%-(%a)', '- %1')
          for piece in spaced:gmatch('[^%s]+') do
            longest = math.max(longest, text_width(piece, em, widths))
          end
          low[column] = math.max(low[column], longest)
          high[column] = math.max(high[column], text_width(text, em, widths))
        end
        column = column + cell.col_span
      end
    end
  end
  visit(tbl.head.rows, BOLD)
  for _, body in ipairs(tbl.bodies) do
    visit(body.head, BOLD)
    visit(body.body, REGULAR)
  end
  visit(tbl.foot.rows, REGULAR)
  for column = 1, columns do
    low[column] = math.max(low[column], 3 * em) + INSET + 1
    high[column] = math.max(high[column], low[column] - INSET) + INSET + 1
  end
  return low, high
end

local function sum(values)
  local total = 0
  for _, v in ipairs(values) do total = total + v end
  return total
end

-- Widths as fractions of `available`: the natural widths when they fit, else every column its minimum and the
-- rest shared in proportion to how much more each column would take. nil when even the minimums do not fit.
local function widths(low, high, available)
  local least, most = sum(low), sum(high)
  if least > available then return nil end
  local result = {}
  for column = 1, #low do
    local width = high[column]
    if most > available then
      width = low[column] + (high[column] - low[column]) * (available - least) / (most - least)
    end
    result[column] = math.floor(width / available * 10000) / 10000
  end
  return result
end

-- Whether a table is short enough to keep on one page: few rows, and its estimated height (lines per cell from
-- its text and its column's width) well under a page's.
local function short(tbl, fractions, available, em)
  local rows, height = 0, 0
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      rows = rows + 1
      local lines, column = 1, 1
      for _, cell in ipairs(row.cells) do
        local width = fractions[column] * available - INSET
        if width > 0 then
          lines = math.max(lines, math.ceil(text_width(cell_text(cell), em, REGULAR) / width))
        end
        column = column + cell.col_span
      end
      height = height + lines * em * LEADING + INSET
    end
  end
  return rows <= SHORT_TABLE and height <= SHORT_HEIGHT
end

local function lay_out(tbl, previous)
  local columns = #tbl.colspecs
  tbl = break_tokens(tbl, TABLE_TOKEN)
  align_numbers(tbl, columns)
  local page, size = nil, SIZE
  local low, high = measure(tbl, columns, SIZE)
  local fractions = widths(low, high, PORTRAIT)
  if not fractions then
    page = 'landscape'
    fractions = widths(low, high, LANDSCAPE)
    if not fractions then
      size = SMALL
      low, high = measure(tbl, columns, SMALL)
      fractions = widths(low, high, LANDSCAPE)
    end
  end
  for column = 1, columns do
    tbl.colspecs[column][2] = fractions and fractions[column] or (1 / columns)
  end
  if size ~= SIZE then tbl.attributes['typst:text:size'] = size .. 'pt' end
  local blocks = { tbl }
  if page then
    -- the heading (and the sentence under it) that introduce the table go onto its page
    local lead = {}
    while #previous > 0 and (previous[#previous].t == 'Header'
        or (#previous > 1 and previous[#previous - 1].t == 'Header' and #lead == 0)) do
      table.insert(lead, 1, table.remove(previous))
    end
    for index = #lead, 1, -1 do table.insert(blocks, 1, lead[index]) end
    table.insert(blocks, 1, pandoc.RawBlock('typst', '#page(flipped: true)['))
    blocks[#blocks + 1] = pandoc.RawBlock('typst', ']')
  elseif fractions and short(tbl, fractions, PORTRAIT, size) then
    table.insert(blocks, 1, pandoc.RawBlock('typst', '#block(breakable: false)['))
    blocks[#blocks + 1] = pandoc.RawBlock('typst', ']')
  end
  return blocks
end

function Pandoc(doc)
  local blocks = {}
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Table' then
      for _, b in ipairs(lay_out(block, blocks)) do blocks[#blocks + 1] = b end
    elseif block.t == 'Header' then
      blocks[#blocks + 1] = block -- headings stay searchable as they are written
    else
      blocks[#blocks + 1] = break_tokens(block, PROSE_TOKEN)
    end
  end
  doc.blocks = blocks
  return doc
end
