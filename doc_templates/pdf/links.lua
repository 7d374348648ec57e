-- Links between generated documents point at <document-id>.md on the site; in the PDFs they point at
-- the sibling PDF <document-id>.pdf instead. Any other link survives only as an http(s) or mailto address or
-- an anchor; anything else (another scheme, a path) becomes its text. Images survive only as the files the
-- build wrote itself (charts/, images/); anything else becomes its description.
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
    link.target = target .. '.pdf' .. fragment
    return link
  end
  if link.target:match('^#') or web(link.target) then
    return link
  end
  return link.content
end

-- Charts fill the text width in the PDF (the site lets CSS size them).
function Image(image)
  if not (image.src:match('^charts/[%w%._-]+$') or image.src:match('^images/[%w%._-]+$')) then
    return image.caption
  end
  if not image.attributes.width then
    image.attributes.width = "100%"
  end
  return image
end

-- Raw pass-through is off in the reader; should raw content ever appear, it is printed as text.
function RawInline(raw)
  return pandoc.Str(raw.text)
end

function RawBlock(raw)
  return pandoc.CodeBlock(raw.text)
end
