"""Hostile upload files, made small in the test instead of committed: YAML whose aliases expand
(billion laughs) inside the fields a matrix validates, YAML nested too deep, an .xlsx zip bomb of
repeated cells and a CSV flood. Used by tests/test_bombs.py and benchmarks/bench_bombs.py."""
from __future__ import annotations

import io
import re
import zipfile

RATINGS_HEADER = ["pcn_code", "year", "matrix_id", "matrix_version", "element_id", "current_stage", "target_stage",
                  "confidence", "evidence", "note", "pcn_name", "element_title"]

_HEAD = ("kind: maturity-matrix\nid: laughs\nversion: \"1\"\ntitle: Laughs\nsource: Written for the bomb tests.\n"
         "stages:\n  - {id: a, label: A, meaning: A}\n  - {id: b, label: B, meaning: B}\n")


def yaml_laughs(size: int) -> bytes:
    """A matrix of about `size` bytes whose domains, elements and evidence prompts are each n aliases
    of one node: n**3 prompts to validate, from a few KB."""
    n = max(2, (size - 200) // 12)  # "*p, " is four bytes, at three levels

    def aliases(anchor: str, first: str) -> str:
        return "[" + first + ", " + ", ".join([f"*{anchor}"] * (n - 1)) + "]"

    prompts = aliases("p", "&p Minutes of the board")
    element = aliases("e", "&e {id: e, title: E, descriptors: {a: x, b: y}, evidence_prompts: " + prompts + "}")
    domains = aliases("d", "&d {id: d, title: D, summary: S, elements: " + element + "}")
    return (_HEAD + "domains: " + domains + "\n").encode()


def yaml_deep(size: int) -> bytes:
    """A file of about `size` bytes, nearly all of it one list nested inside itself."""
    k = (size - 30) // 2
    return ("kind: maturity-matrix\nx: " + "[" * k + "]" * k + "\n").encode()


def yaml_alias_chain(levels: int) -> bytes:
    """Lists nested `levels` deep, though no line of the file is indented more than one level:
    each anchor holds an alias of the one before."""
    lines = ["kind: maturity-matrix", "a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, levels)]
    return ("\n".join(lines) + f"\ndomains: *a{levels - 1}\n").encode()


def xlsx_bomb(packed: int, level: int = 1) -> bytes:
    """A real workbook (openpyxl's parts) whose sheet is one row of ratings cells repeated until the
    sheet packs to about `packed` bytes: about 140 times that unpacked at `level` 1."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Ratings"
    wb.active.append(RATINGS_HEADER)
    src_buf = io.BytesIO()
    wb.save(src_buf)
    src = zipfile.ZipFile(src_buf)
    sheet = "xl/worksheets/sheet1.xml"
    xml = src.read(sheet)
    start, end = xml.split(b"</sheetData>")[0], b"</sheetData>" + xml.split(b"</sheetData>")[1]
    start = start.replace(b"<sheetData/>", b"<sheetData>")
    start = re.sub(rb"<dimension [^>]*>", b"", start)  # a bomb does not state its size
    row = b"<row>" + b'<c t="inlineStr"><is><t>U99001</t></is></c>' * len(RATINGS_HEADER) + b"</row>"
    chunk = row * ((1 << 20) // len(row))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for info in src.infolist():
            if info.filename != sheet:
                z.writestr(info.filename, src.read(info.filename))
        with z.open(sheet, "w", force_zip64=True) as f:
            f.write(start)
            while out.tell() < packed:
                f.write(chunk)
            f.write(end)
    return out.getvalue()


def xlsx_with_dimension(ref: str) -> bytes:
    """A small workbook that states a size (`<dimension ref=...>`) far larger than what it holds."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Ratings"
    wb.active.append(RATINGS_HEADER)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*>", f'<dimension ref="{ref}"/>'.encode(), data)
            z.writestr(info.filename, data)
    return out.getvalue()


def csv_flood(size: int, distinct: bool = False) -> bytes:
    """A ratings CSV of about `size` bytes of tiny cells: the same two letters, or (`distinct`)
    a different number in every cell."""
    head = ",".join(RATINGS_HEADER) + "\n"
    width = len(RATINGS_HEADER)
    if not distinct:
        line = ",".join(["ab"] * width) + "\n"
        return (head + line * (size // len(line))).encode()
    rows, n, total = [head], 0, len(head)
    while total < size:
        line = ",".join(str(100000 + n + j) for j in range(width)) + "\n"
        n += width
        total += len(line)
        rows.append(line)
    return "".join(rows).encode()
