-- Links between generated documents point at <document-id>.md on the site; in the PDFs they point at
-- the sibling PDF <document-id>.pdf instead.
function Link(link)
  local target, fragment = link.target:match('^([%w%._%-]+)%.md(#?.*)$')
  if target then
    link.target = target .. '.pdf' .. fragment
  end
  return link
end

-- Charts fill the text width in the PDF (the site lets CSS size them).
function Image(image)
  if not image.attributes.width then
    image.attributes.width = "100%"
  end
  return image
end
