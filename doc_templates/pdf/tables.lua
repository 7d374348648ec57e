-- Tables that fit the page. Column widths come from the cells' text, measured with the widths of the shipped font
-- (a minimum from the longest unbreakable piece, a maximum from the whole text); long tokens (hashes, ids,
-- key=value) get break opportunities (zero-width spaces, which copy and search ignore); columns of numbers are
-- right-aligned; a table too wide for portrait gets a landscape page, one too wide even for that is set smaller,
-- and one too wide in the smaller size is split into groups of columns, each repeating the key (leading) columns;
-- a short table is never split across pages. Headers repeat on every page (Typst's
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

-- The widths set, the size marked when it is not the template's, and a short table wrapped so it stays on one page.
local function placed(tbl, fractions, available, size)
  for column = 1, #tbl.colspecs do tbl.colspecs[column][2] = fractions[column] end
  if size ~= SIZE then tbl.attributes['typst:text:size'] = size .. 'pt' end
  if not short(tbl, fractions, available, size) then return { tbl } end
  return { pandoc.RawBlock('typst', '#block(breakable: false)['), tbl, pandoc.RawBlock('typst', ']') }
end

local function spans(tbl)
  local found = false
  tbl:walk({ Cell = function(cell) found = found or cell.col_span ~= 1 or cell.row_span ~= 1 end })
  return found
end

-- The table with only the given columns (their numbers in the table), sharing its cells.
local function subtable(tbl, chosen)
  local function pick(rows)
    local picked = {}
    for _, row in ipairs(rows) do
      local cells = {}
      for _, column in ipairs(chosen) do cells[#cells + 1] = row.cells[column] end
      picked[#picked + 1] = pandoc.Row(cells, row.attr)
    end
    return picked
  end
  local colspecs, bodies = {}, {}
  for _, column in ipairs(chosen) do colspecs[#colspecs + 1] = { tbl.colspecs[column][1], tbl.colspecs[column][2] } end
  for _, body in ipairs(tbl.bodies) do
    bodies[#bodies + 1] = { attr = body.attr, row_head_columns = 0, head = pick(body.head), body = pick(body.body) }
  end
  return pandoc.Table(tbl.caption, colspecs, pandoc.TableHead(pick(tbl.head.rows), tbl.head.attr), bodies,
                      pandoc.TableFoot(pick(tbl.foot.rows), tbl.foot.attr), tbl.attr)
end

-- The key of a table: the fewest leading columns (at most three) whose text tells its body rows apart, as Dataset
-- and Slice do in a results matrix; the first column when none does, or when the key would fill half the page.
local function key_columns(tbl, low, available)
  local rows = {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do rows[#rows + 1] = row end
  end
  local width = 0
  for keys = 1, math.min(3, #low - 1) do
    width = width + low[keys]
    if width > available / 2 then break end
    local seen, unique = {}, true
    for _, row in ipairs(rows) do
      local parts = {}
      for column = 1, keys do parts[column] = cell_text(row.cells[column]) end
      local key = table.concat(parts, '\0')
      unique = unique and not seen[key]
      seen[key] = true
    end
    if unique then return keys end
  end
  return 1
end

-- Column groups for a table too wide for a landscape page even in the small size: the key columns in every group,
-- the others in their order, in as few groups as fit at the columns' minimum widths (found by packing them
-- greedily), with about as many columns in each.
local function column_groups(low, keys, available)
  local key_width = 0
  for column = 1, keys do key_width = key_width + low[column] end
  local rest = #low - keys
  local count, used = 1, key_width
  for column = keys + 1, #low do
    if used + low[column] > available and used > key_width then count, used = count + 1, key_width end
    used = used + low[column]
  end
  while true do
    local groups, fits = {}, true
    for part = 1, count do
      local group, width = {}, key_width
      for column = 1, keys do group[column] = column end
      for column = keys + 1 + math.floor(rest * (part - 1) / count), keys + math.floor(rest * part / count) do
        group[#group + 1] = column
        width = width + low[column]
      end
      fits = fits and (width <= available or #group == keys + 1)
      groups[#groups + 1] = group
    end
    if fits or count >= rest then return groups end
    count = count + 1
  end
end

local function span_text(first, last)
  return first == last and tostring(first) or (first .. '–' .. last)
end

-- "Columns 1, 8–13 of 20 (part 2 of 3)": the line above each group of a split table.
local function group_caption(group, keys, columns, part, parts)
  local first, last = group[keys + 1], group[#group]
  local shown = first == keys + 1 and span_text(1, last) or (span_text(1, keys) .. ', ' .. span_text(first, last))
  local text = 'Columns ' .. shown .. ' of ' .. columns .. ' (part ' .. part .. ' of ' .. parts .. ')'
  return { pandoc.RawBlock('typst', '#block(sticky: true)['), pandoc.Para({ pandoc.Emph({ pandoc.Str(text) }) }),
           pandoc.RawBlock('typst', ']') }
end

-- A table too wide for a landscape page: one table per column group, one after the other, each with its caption
-- line; no cell is left out.
local function split(tbl, low, high)
  local columns = #tbl.colspecs
  local keys = key_columns(tbl, low, LANDSCAPE)
  local groups = column_groups(low, keys, LANDSCAPE)
  local blocks = {}
  for part, group in ipairs(groups) do
    local group_low, group_high = {}, {}
    for index, column in ipairs(group) do group_low[index], group_high[index] = low[column], high[column] end
    local fractions = widths(group_low, group_high, LANDSCAPE)
    if not fractions then
      fractions = {}
      for index = 1, #group do fractions[index] = 1 / #group end
    end
    for _, b in ipairs(group_caption(group, keys, columns, part, #groups)) do blocks[#blocks + 1] = b end
    for _, b in ipairs(placed(subtable(tbl, group), fractions, LANDSCAPE, SIZE)) do blocks[#blocks + 1] = b end
  end
  return blocks
end

-- A portrait table as it is; a wider one on a landscape page of its own, with the heading (and the sentence under
-- it) that introduce it: whole, else whole in the small size, else split into column groups.
local function lay_out(tbl, previous)
  local columns = #tbl.colspecs
  tbl = break_tokens(tbl, TABLE_TOKEN)
  align_numbers(tbl, columns)
  local low, high = measure(tbl, columns, SIZE)
  local fractions = widths(low, high, PORTRAIT)
  if fractions then return placed(tbl, fractions, PORTRAIT, SIZE) end
  local blocks
  fractions = widths(low, high, LANDSCAPE)
  if fractions then
    blocks = placed(tbl, fractions, LANDSCAPE, SIZE)
  else
    local small_low, small_high = measure(tbl, columns, SMALL)
    fractions = widths(small_low, small_high, LANDSCAPE)
    if fractions then
      blocks = placed(tbl, fractions, LANDSCAPE, SMALL)
    elseif spans(tbl) then -- a cell spanning columns cannot be split: equal columns in the small size
      fractions = {}
      for column = 1, columns do fractions[column] = 1 / columns end
      blocks = placed(tbl, fractions, LANDSCAPE, SMALL)
    else
      blocks = split(tbl, low, high)
    end
  end
  local lead = {}
  while #previous > 0 and (previous[#previous].t == 'Header'
      or (#previous > 1 and previous[#previous - 1].t == 'Header' and #lead == 0)) do
    table.insert(lead, 1, table.remove(previous))
  end
  for index = #lead, 1, -1 do table.insert(blocks, 1, lead[index]) end
  table.insert(blocks, 1, pandoc.RawBlock('typst', '#page(flipped: true)['))
  blocks[#blocks + 1] = pandoc.RawBlock('typst', ']')
  return blocks
end

-- A table that opens the document (nothing before it but the title, the level-1 heading) is its document control for
-- the site and the DOCX; the compact layout's head (the template's `compact`) shows the same facts, so there the
-- table is left out.
local function unless_compact(laid)
  table.insert(laid, 1, pandoc.RawBlock('typst', '#if not compact ['))
  laid[#laid + 1] = pandoc.RawBlock('typst', ']')
  return laid
end

function Pandoc(doc)
  local blocks, opening = {}, true
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Table' then
      local laid = lay_out(block, blocks)
      if opening then laid = unless_compact(laid) end
      for _, b in ipairs(laid) do blocks[#blocks + 1] = b end
    elseif block.t == 'Header' then
      blocks[#blocks + 1] = block -- headings stay searchable as they are written
    else
      blocks[#blocks + 1] = break_tokens(block, PROSE_TOKEN)
    end
    opening = opening and block.t == 'Header' and block.level == 1
  end
  doc.blocks = blocks
  return doc
end
