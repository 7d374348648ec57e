-- techfile's pandoc filter for the Word edition (DOCX).
-- Links between generated documents point at <document-id>.md on the site; in the DOCX they point at the sibling
-- DOCX <document-id>.docx instead.
function Link(link)
  local target, fragment = link.target:match('^([%w%._%-]+)%.md(#?.*)$')
  if target then
    link.target = target .. '.docx' .. fragment
  end
  return link
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
