"""Make doc_templates/docx/reference.docx, the Word reference document techfile's DOCX are styled from.

It is pandoc's own default reference document with: A4 pages and the PDF's margins; a header and a footer on every
page carrying placeholders that techfile fills per document ({{docid}}, {{title}}, {{version}}, {{status}},
{{confidentiality}}, {{draft}}) plus page numbers as Word fields; tables with grid lines and a shaded header row.
Run it from the repository root after changing it: `python tools/make_reference_docx.py`.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from techfile.publish.ooxml import normalised_package  # noqa: E402

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
TEXT_WIDTH = 11906 - 2 * 1134  # A4 width minus 2 cm margins, in twips
SMALL = '<w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial" w:cs="Arial"/><w:color w:val="505050"/><w:sz w:val="15"/></w:rPr>'


def run(text: str, bold: bool = False, color: str | None = None) -> str:
    props = SMALL.replace("<w:rPr>", "<w:rPr>" + ("<w:b/>" if bold else ""))
    if color:
        props = props.replace('<w:color w:val="505050"/>', f'<w:color w:val="{color}"/>')
    return f'<w:r>{props}<w:t xml:space="preserve">{text}</w:t></w:r>'


def field(instruction: str) -> str:
    return (f'<w:r>{SMALL}<w:fldChar w:fldCharType="begin"/></w:r><w:r>{SMALL}<w:instrText xml:space="preserve"> {instruction} '
            f'</w:instrText></w:r><w:r>{SMALL}<w:fldChar w:fldCharType="separate"/></w:r>{run("1")}'
            f'<w:r>{SMALL}<w:fldChar w:fldCharType="end"/></w:r>')


TAB = f"<w:r>{SMALL}<w:tab/></w:r>"
TABS = (f'<w:tabs><w:tab w:val="center" w:pos="{TEXT_WIDTH // 2}"/><w:tab w:val="right" w:pos="{TEXT_WIDTH}"/></w:tabs>')


def paragraph(runs: str, border: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="Normal"/>{border}{TABS}<w:spacing w:after="0"/></w:pPr>{runs}</w:p>'


HEADER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr {W}>'
          + paragraph(run("{{docid}}") + TAB + run("{{title}}") + TAB + run("{{confidentiality}}", bold=True),
                      '<w:pBdr><w:bottom w:val="single" w:sz="4" w:space="1" w:color="A0A0A0"/></w:pBdr>')
          + "</w:hdr>")
FOOTER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr {W}>'
          + paragraph(run("{{draft}}", bold=True, color="C00000") + run("{{docid}} — version {{version}} — {{status}}") + TAB + TAB
                      + run("Page ") + field("PAGE") + run(" of ") + field("NUMPAGES"),
                      '<w:pBdr><w:top w:val="single" w:sz="4" w:space="1" w:color="A0A0A0"/></w:pBdr>')
          + "</w:ftr>")
SECTION = ('<w:sectPr><w:headerReference w:type="default" r:id="rIdTfHeader"/><w:footerReference w:type="default" '
           'r:id="rIdTfFooter"/><w:footnotePr><w:numRestart w:val="eachSect"/></w:footnotePr>'
           '<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1418" w:right="1134" w:bottom="1247" w:left="1134" '
           'w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>')
TABLE_STYLE = ('<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblBorders>'
               + "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="A0A0A0"/>'
                         for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
               + '</w:tblBorders><w:tblCellMar><w:top w:w="28" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
               '<w:bottom w:w="28" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr>'
               '<w:rPr><w:sz w:val="17"/><w:szCs w:val="17"/></w:rPr>'
               '<w:tblStylePr w:type="firstRow"><w:rPr><w:b/></w:rPr><w:tblPr/><w:trPr><w:tblHeader/></w:trPr>'
               '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="DDE3EA"/><w:vAlign w:val="bottom"/></w:tcPr></w:tblStylePr>')
NS = "application/vnd.openxmlformats-officedocument.wordprocessingml"


def edit(name: str, data: bytes) -> bytes:
    text = data.decode("utf-8")
    if name == "word/document.xml":
        text = re.sub(r"<w:sectPr>.*?</w:sectPr>", SECTION, text, flags=re.DOTALL)
    elif name == "word/_rels/document.xml.rels":
        base = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        text = text.replace("</Relationships>", f'<Relationship Type="{base}/header" Id="rIdTfHeader" Target="header1.xml" />'
                            f'<Relationship Type="{base}/footer" Id="rIdTfFooter" Target="footer1.xml" /></Relationships>')
    elif name == "[Content_Types].xml":
        text = text.replace("</Types>", f'<Override PartName="/word/header1.xml" ContentType="{NS}.header+xml" />'
                            f'<Override PartName="/word/footer1.xml" ContentType="{NS}.footer+xml" /></Types>')
    elif name == "word/styles.xml":
        start = text.index('w:styleId="Table"')
        table_start, table_end = text.index("<w:tblPr>", start), text.index("</w:style>", start)
        text = text[:table_start] + TABLE_STYLE + text[table_end:]
        text = text.replace('<w:sz w:val="24" />\n        <w:szCs w:val="24" />', '<w:sz w:val="21" />\n        <w:szCs w:val="21" />', 1)
    return text.encode("utf-8")


def main() -> None:
    import pypandoc

    default = subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"], check=True,
                             capture_output=True).stdout
    with zipfile.ZipFile(io.BytesIO(default)) as source:
        names = source.namelist()
    buffer = io.BytesIO(normalised_package(default, 0, edit))
    with zipfile.ZipFile(buffer, "a") as package:
        package.writestr("word/header1.xml", HEADER)
        package.writestr("word/footer1.xml", FOOTER)
    assert "word/header1.xml" not in names
    target = ROOT / "doc_templates" / "docx" / "reference.docx"
    target.write_bytes(normalised_package(buffer.getvalue(), 0))
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
