"""YAML -> typed models. Every problem names the file, the line and the field path.

The YAML is composed into nodes first so that each field path can be traced back to the line
it was written on; pydantic then checks structure and types, and `schema.cross_check` the
relations between fields. Whatever goes wrong, the caller gets a `MatrixFileError` holding a
list of `Problem`s, never a bare traceback.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from .schema import (ID_MAX, MODELS, DevelopmentFunding, Document, Matrix, Pathway, ServiceSpecifications, cross_check,
                     path_str)

# Limits that make a hostile file cheap to refuse. The shipped matrix is 24 KB, about 530 values
# and six levels deep; each limit leaves plenty of room for a richer matrix.
MAX_BYTES = 200_000
MAX_DEPTH = 40  # levels of nesting
MAX_VALUES = 50_000  # YAML values (keys, scalars, lists, mappings), each alias counted as a full copy

def _yaml12_booleans(base: type) -> type:
    """`base` reading booleans by YAML 1.2's rules: only true/false (True, TRUE, False, FALSE),
    so an unquoted No, Yes, On or Off (YAML 1.1 booleans, and PyYAML's) stays text."""
    bool_tag = "tag:yaml.org,2002:bool"
    loader = type(f"{base.__name__}12", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != bool_tag]
        for first, resolvers in base.yaml_implicit_resolvers.items()}
    loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    return loader


# libyaml parses about six times faster than PyYAML's own parser; PyYAML alone still works.
_Parser = _yaml12_booleans(getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)
_LIBYAML = _Parser.__mro__[1] is not yaml.SafeLoader
PACKAGE_DIR = FsPath(__file__).resolve().parent
ENV_DIR = "PCN_MATRIX_DIR"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}"


class MatrixFileError(Exception):
    """A YAML file that cannot be used, with every problem found in it."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _walk(node: yaml.Node, path: tuple, lines: dict, dupes: list, seen: set) -> None:
    """Record the line of every field path and find duplicate keys (PyYAML keeps the last)."""
    if id(node) in seen:  # aliases: each node is walked once, so `&a [*a, *a]` bombs stay cheap
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is None:
                continue
            if key in keys:
                dupes.append((path + (key,), line, f"duplicate key '{key}' (first written on line {keys[key]})"))
            else:
                keys[key] = line
            lines.setdefault(path + (key,), line)
            _walk(value_node, path + (key,), lines, dupes, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault(path + (i,), item.start_mark.line + 1)
            _walk(item, path + (i,), lines, dupes, seen)


def _line_for(path: tuple, lines: dict) -> int | None:
    """The line of the field, or of its nearest parent that was written down."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)


def _found(value: Any) -> str:
    """What a value is, in the words of someone writing YAML."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "empty text" if not value.strip() else f"the text {_clip(value)!r}"
    return type(value).__name__


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _items(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def _message(err: dict, model_fields: set[str] | None) -> tuple[tuple, str]:
    """A pydantic error as (field path, message in plain words)."""
    loc = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return loc[:-1], f"missing required field '{loc[-1]}'"
    if kind == "extra_forbidden":
        hint = ""
        if model_fields:
            close = difflib.get_close_matches(str(loc[-1]), sorted(model_fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(sorted(model_fields))})"
        return loc, f"unknown field '{loc[-1]}'{hint}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if "A-Za-z0-9" in pattern:
            return loc, (f"'{_clip(str(value))}' is not a valid id: use letters, digits, '-', '_' and '.', starting "
                         f"with a letter or digit (e.g. 'step-1' or 'G-SM')")
        if r"\d{4}" in pattern:
            return loc, f"'{value}' is not a financial year: write it like \"2024/25\""
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        what = "an id" if limit == ID_MAX else "this field"
        return loc, f"'{_clip(str(value), 40)}' is {len(value):,} characters long; {what} may have at most {limit}"
    if kind == "string_too_short":
        return loc, "is empty: write some text here, or leave the field out if it is optional"
    if kind == "too_short":
        least, found = ctx.get("min_length", 1), ctx.get("actual_length", 0)
        return loc, f"needs at least {_items(least)}, found {found}"
    if kind == "too_long":
        return loc, f"may have at most {_items(ctx.get('max_length', 0))}, found {ctx.get('actual_length')}"
    if kind == "literal_error" and loc == ("kind",):
        return loc, f"unknown kind '{value}': expected one of {', '.join(MODELS)}"
    if kind == "literal_error":
        return loc, f"expected {ctx.get('expected')}, found {_found(value)}"
    if kind == "string_type":
        if isinstance(value, bool):
            return loc, f"expected text, found {_found(value)} (put it in quotes if it is meant as text)"
        if isinstance(value, (int, float)):
            return loc, f"expected text, found {_found(value)} (put it in quotes)"
        return loc, f"expected text, found {_found(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return loc, f"expected true or false, found {_found(value)}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float", "finite_number"):
        whole = kind.startswith("int")
        what = "a whole number" if whole else "a number"
        if kind == "finite_number":
            return loc, f"expected a finite number, found {value!r}"
        hint = " (without quotes)" if isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9][0-9_.,]*\s*", value) else ""
        return loc, f"expected {what}{hint}, found {_found(value)}"
    if kind in ("dict_type", "model_type"):
        return loc, f"expected a mapping of fields (key: value lines), found {_found(value)}"
    if kind in ("list_type", "tuple_type"):
        if loc[:2] == ("supersedes", "elements"):
            return loc, f"expected an element id or a list of them, found {_found(value)}"
        return loc, f"expected a list (lines starting with '- '), found {_found(value)}"
    return loc, f"{err['msg'].rstrip('.')} (found {_found(value)})"


def _fields_at(model: type, loc: tuple) -> set[str] | None:
    """The field names a model allows at a path, for 'did you mean' hints."""
    from pydantic import BaseModel
    import typing

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        ann = current.model_fields[part].annotation
        for arg in (ann, *typing.get_args(ann)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
                break
            inner = [a for a in typing.get_args(arg) if isinstance(a, type) and issubclass(a, BaseModel)]
            if inner:
                current = inner[0]
                break
        else:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return None


def load_text(text: str | bytes, file: str = "<text>") -> Document:
    """Parse and validate one YAML document. Raises MatrixFileError with every problem found."""
    def fail(message: str, line: int | None = None, path: str = "(file)") -> MatrixFileError:
        return MatrixFileError(file, [Problem(file, line, path, message)])

    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise fail(f"file is too large ({len(text):,} bytes; the limit is {MAX_BYTES:,})")
        if text.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise fail("file is UTF-16 text: save it as UTF-8 (in Excel or Notepad: Save as, Encoding UTF-8)", 1)
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            bad = text[exc.start:exc.start + 1]
            guess = bad.decode("cp1252", errors="replace")
            raise fail(f"file is not UTF-8 text: byte 0x{bad.hex().upper()} on this line cannot be read (in "
                       f"Windows-1252 or Latin-1 it would be {guess!r}); save the file as UTF-8", line) from None
    if len(text) > MAX_BYTES:
        raise fail(f"file is too large ({len(text):,} characters; the limit is {MAX_BYTES:,})")

    too_deep = f"the YAML nests more than {MAX_DEPTH} levels deep; a matrix needs fewer than ten"
    loader = None
    try:
        if _LIBYAML:
            # libyaml composes nodes recursively in C: a file nested thousands deep would crash the
            # process, so the depth is checked on its flat stream of events first.
            deep_line = _deep_event_line(text)
            if deep_line is not None:
                raise fail(too_deep, deep_line)
        loader = _Parser(text)
        node = loader.get_single_node()
        if node is not None:
            _check_shape(node, fail, too_deep)
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        # libyaml counts the position in UTF-8 bytes, PyYAML in characters.
        before = text.encode("utf-8", "surrogatepass")[:exc.position].decode("utf-8", "ignore") \
            if _LIBYAML else text[:exc.position]
        raise fail(f"character {exc.character!r} is not allowed in YAML ({exc.reason})",
                   before.count("\n") + 1) from None
    except yaml.MarkedYAMLError as exc:
        if "duplicate anchor" in (exc.context or ""):
            raise fail(_duplicate_anchor(text, exc), exc.problem_mark.line + 1 if exc.problem_mark else None) from None
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(x for x in (exc.context, exc.problem) if x)
        raise fail(f"YAML syntax error: {detail}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise fail(f"YAML error: {exc}") from None
    except RecursionError:
        raise fail(f"the YAML nests too deeply to be read (a matrix needs fewer than {MAX_DEPTH} levels)") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML's constructors raise these for some out-of-range scalars (e.g. dates).
        raise fail(f"YAML value cannot be read: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()

    if data is None:
        raise fail("file is empty: expected a mapping starting with 'kind:'", 1, "(top level)")
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise fail(f"the top level must be a mapping of fields (kind:, id:, ...), found {found}", 1, "(top level)")

    lines: dict = {(): 1}
    dupes: list = []
    _walk(node, (), lines, dupes, set())
    problems = [Problem(file, line, path_str(p), msg) for p, line, msg in dupes]

    kind = data.get("kind")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        message = f"missing required field 'kind' (one of: {', '.join(MODELS)})" if "kind" not in data else (
            f"unknown kind {kind!r}: expected one of {', '.join(MODELS)}"
        )
        raise MatrixFileError(file, problems + [Problem(file, _line_for(("kind",), lines), "kind", message)])

    try:
        doc = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc, message = _message(err, _fields_at(model, tuple(err["loc"])))
            problems.append(Problem(file, _line_for(loc, lines), path_str(loc), message))
        raise MatrixFileError(file, problems) from None
    except RecursionError:
        raise fail("the YAML nests too deeply (or refers to itself) to be read") from None

    for loc, message in cross_check(doc):
        problems.append(Problem(file, _line_for(loc, lines), path_str(loc), message))
    if problems:
        raise MatrixFileError(file, problems)
    return doc


def _duplicate_anchor(text: str, exc: yaml.MarkedYAMLError) -> str:
    """A plain message for an anchor (&name) defined twice. libyaml's own message leaves out
    the name, so it is read from the line itself."""
    first, second = exc.context_mark, exc.problem_mark
    name = None
    if second is not None:
        lines = text.splitlines()
        if second.line < len(lines):
            found = re.match(r"&([^\s,\[\]{}]+)", lines[second.line][second.column:])
            name = found.group(1) if found else None
    what = f"the anchor &{name}" if name else "an anchor"
    where = f" (first on line {first.line + 1})" if first is not None else ""
    return f"{what} is defined twice{where}: give each anchor (&name) its own name"


def _deep_event_line(text: str) -> int | None:
    """The line where nesting first goes beyond MAX_DEPTH, read from parser events (no recursion)."""
    parser = _Parser(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        parser.dispose()
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_shape(root: yaml.Node, fail, too_deep: str) -> None:
    """Refuse a document whose aliases loop, or expand it beyond MAX_VALUES values or MAX_DEPTH levels.

    The loader builds each aliased node once, but validation walks every copy, so a few KB of
    nested aliases ("billion laughs") would take minutes and gigabytes. The expanded size and
    depth of each node are computed once per node, without recursion, so the check stays cheap.
    """
    shape: dict[int, tuple[int, int]] = {}  # id(node) -> (values in its expansion, levels below it)
    open_nodes: set[int] = set()  # the node being expanded and its parents
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        kids = _children(node)
        if finished:
            shape[key] = (1 + sum(shape[id(k)][0] for k in kids), 1 + max((shape[id(k)][1] for k in kids), default=0))
            open_nodes.discard(key)
            continue
        if key in shape:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for kid in kids:
            if id(kid) in open_nodes:
                raise fail("an alias (*name) refers to the list or mapping it is inside, so it never ends",
                           kid.start_mark.line + 1)
            if id(kid) not in shape:
                stack.append((kid, False))

    # Name the line: follow the deepest (or largest) child down to where the limit is crossed.
    node, depth = root, 1
    if shape[id(root)][1] > MAX_DEPTH:
        while depth <= MAX_DEPTH:
            node = max(_children(node), key=lambda k: shape[id(k)][1])
            depth += 1
        raise fail(too_deep, node.start_mark.line + 1)
    if shape[id(root)][0] > MAX_VALUES:
        while True:
            big = [k for k in _children(node) if shape[id(k)][0] > MAX_VALUES]
            if not big:
                break
            node = big[0]
        raise fail(f"this expands to more than {MAX_VALUES:,} values, counting each alias (*name) as a full copy "
                   f"of what it refers to (a matrix has about 600): write the values out or use fewer aliases",
                   node.start_mark.line + 1)


def _line_map(text: str) -> dict:
    """Field path -> line for a file already known to parse."""
    loader = _Parser(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    lines: dict = {(): 1}
    if node is not None:
        _walk(node, (), lines, [], set())
    return lines


def load_file(path: str | os.PathLike) -> Document:
    name = str(path)
    try:
        raw = FsPath(path).read_bytes()
    except FileNotFoundError:
        raise MatrixFileError(name, [Problem(name, None, "(file)", "file not found")]) from None
    except OSError as exc:
        raise MatrixFileError(name, [Problem(name, None, "(file)", f"cannot read file: {exc.strerror}")]) from None
    return load_text(raw, name)


def load_matrix(path: str | os.PathLike) -> Matrix:
    doc = load_file(path)
    if not isinstance(doc, Matrix):
        raise MatrixFileError(str(path), [Problem(str(path), 1, "kind", f"expected a maturity-matrix, found '{doc.kind}'")])
    return doc


_VERSION_PART = re.compile(r"[0-9]+|[^\W\d_]+")


def version_key(version: str) -> tuple:
    """Sort key for versions: part by part, whole numbers as numbers (4.3.1 before 10.0.0,
    2019/20 before 2024/25); at one position a number comes before letters, letters compare
    ignoring case, and a version with more parts comes after one it extends (2.1 before 2.1.1).
    Separators (. / - _ space) only divide parts; the text itself breaks any remaining tie."""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in _VERSION_PART.findall(str(version)))
    return parts, str(version)


@dataclass
class Catalog:
    """Everything found in the matrix folders: valid documents by (id, version), and the files that failed."""

    matrices: dict[tuple[str, str], Matrix] = field(default_factory=dict)
    pathways: dict[tuple[str, str], Pathway] = field(default_factory=dict)
    specifications: dict[tuple[str, str], ServiceSpecifications] = field(default_factory=dict)
    funding: dict[tuple[str, str], DevelopmentFunding] = field(default_factory=dict)
    files: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (kind, id, version) -> file
    invalid: dict[str, list[Problem]] = field(default_factory=dict)

    def matrix(self, matrix_id: str, version: str) -> Matrix:
        return self.matrices[(matrix_id, version)]

    def latest_matrix(self, matrix_id: str | None = None) -> Matrix | None:
        found = [m for m in self.matrices.values() if matrix_id is None or m.id == matrix_id]
        return max(found, key=lambda m: (m.id == "nhse-pcn-maturity", version_key(m.version)), default=None)

    def default_pathway(self) -> Pathway | None:
        return max(self.pathways.values(), key=lambda p: version_key(p.version), default=None)

    def default_specifications(self) -> ServiceSpecifications | None:
        return max(self.specifications.values(), key=lambda s: version_key(s.version), default=None)

    def default_funding(self) -> DevelopmentFunding | None:
        return max(self.funding.values(), key=lambda f: version_key(f.version), default=None)

    def add(self, doc: Document, file: str) -> None:
        key = (doc.kind, doc.id, doc.version)
        if key in self.files:
            problem = Problem(file, 1, "id", f"{doc.kind} '{doc.id}' version '{doc.version}' is already defined in {self.files[key]}")
            self.invalid[file] = [problem]
            return
        self.files[key] = file
        target = {Matrix: self.matrices, Pathway: self.pathways, ServiceSpecifications: self.specifications,
                  DevelopmentFunding: self.funding}[type(doc)]
        target[(doc.id, doc.version)] = doc


def matrix_dirs() -> list[FsPath]:
    """The shipped folder, then every folder named in PCN_MATRIX_DIR (separated like PATH)."""
    dirs = [PACKAGE_DIR]
    for part in os.environ.get(ENV_DIR, "").split(os.pathsep):
        if part.strip():
            dirs.append(FsPath(part.strip()).expanduser())
    return dirs


def discover(dirs: list[FsPath] | None = None) -> Catalog:
    """Load every *.yaml / *.yml file; invalid ones are listed with their problems, never fatal."""
    catalog = Catalog()
    for folder in dirs if dirs is not None else matrix_dirs():
        if not folder.is_dir():
            name = str(folder)
            catalog.invalid[name] = [Problem(name, None, "(folder)", f"{ENV_DIR} folder not found")]
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                catalog.add(load_file(path), str(path))
            except MatrixFileError as exc:
                catalog.invalid[str(path)] = exc.problems
    _check_supersedes(catalog)
    return catalog


def _check_supersedes(catalog: Catalog) -> None:
    """Where the older matrix is present too, every mapped old id must exist in it."""
    for key, m in list(catalog.matrices.items()):
        if m.supersedes is None:
            continue
        old = catalog.matrices.get((m.supersedes.matrix, m.supersedes.version))
        if old is None:
            continue
        missing = [o for o in m.supersedes.elements if o not in old.element_ids()]
        if missing:
            file = catalog.files[("maturity-matrix", m.id, m.version)]
            lines = _line_map(FsPath(file).read_text(encoding="utf-8-sig"))
            catalog.invalid[file] = [
                Problem(file, _line_for(("supersedes", "elements", o), lines), path_str(("supersedes", "elements", o)),
                        f"'{o}' is not an element of {old.id} {old.version}, the matrix it supersedes")
                for o in missing
            ]
            del catalog.matrices[key]
