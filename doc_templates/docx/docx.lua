-- techfile's pandoc filter for the Word edition (DOCX).
-- Links between generated documents point at <document-id>.md on the site; in the DOCX they point at the sibling
-- DOCX <document-id>.docx instead. Any other link survives only as an http(s) or mailto address or an anchor;
-- anything else (another scheme, a path) becomes its text.
local function web(target)
  local scheme = target:match('^(%a[%w+.-]*):')
  if not scheme then return false end
  scheme = scheme:lower()
  if scheme == 'mailto' then return #target > 7 end
  return (scheme == 'http' or scheme == 'https') and target:match('^%a+://[^/?#]') ~= nil
end

function Link(link)
  local target, fragment = link.target:match('^([%w%._%-]+)%.md(#?.*)$')
  if target and not target:match('^%.') then
    link.target = target .. '.docx' .. fragment
    return link
  end
  if link.target:match('^#') or web(link.target) then
    return link
  end
  return link.content
end

-- Raw pass-through is off in the reader; should raw content ever appear, it is printed as text.
function RawInline(raw)
  return pandoc.Str(raw.text)
end

function RawBlock(raw)
  return pandoc.CodeBlock(raw.text)
end

-- pandoc runs sandboxed and reads no file itself. techfile's own charts (charts/<name>.svg) are embedded from the PNG
-- renders techfile made of them (in the folder TECHFILE_DOCX_CHARTS), so every Word version shows them. Any other
-- image (from source prose) is not read: its alt text stands in its place, marked as such.
local charts = os.getenv('TECHFILE_DOCX_CHARTS')

function Image(image)
  local name = image.src:match('^charts/([%w%._%-]+)%.svg$')
  if name and charts then
    local file = io.open(charts .. '/' .. name .. '.png', 'rb')
    if file then
      local data = file:read('a')
      file:close()
      pandoc.mediabag.insert('charts/' .. name .. '.png', 'image/png', data)
      image.src = 'charts/' .. name .. '.png'
      image.attributes.width = '100%'
      return image
    end
  end
  local alt = pandoc.utils.stringify(image.caption)
  return pandoc.Emph({pandoc.Str('[image not included in this edition' .. (alt ~= '' and (': ' .. alt) or '') .. ']')})
end
