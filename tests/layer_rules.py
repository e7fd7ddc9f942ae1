"""The import rules of the code's layers, checked from the source with `ast` (nothing is imported).

Every import is collected: at module level, inside functions and `if TYPE_CHECKING:` blocks, and
`importlib.import_module(...)` / `__import__(...)` calls whose argument is a string literal, a
module-level string constant or the variable of a `for` loop over a tuple/list of literals.
Relative imports are resolved to absolute module names. The rules:

1. only modules under `assessments/records/` import `sqlalchemy` or `alembic` (any submodule);
2. no private name (`_name`, not a dunder) crosses a module boundary: `from x import _name`,
   `import x` then `x._name`, `from pkg import mod` then `mod._name`, `import x._mod` (a private
   submodule may be imported from inside its own package), for x one of our own modules;
3. `matrix/` imports nothing of ours outside `matrix/`;
4. `figures/`, `reports/`, `assessments/`, `matrix/` import neither `streamlit` nor
   `components`, `views`, `app`;
5. `reports/` never imports `components/` or `views/`;
6. the one-way flow app -> views -> components -> reports -> figures -> assessments -> matrix:
   a layer imports only itself and layers to its right; `cli.py` imports only assessments,
   reports and matrix.

`check(root)` gives one "path:line: rule N: message" line per violation (an import that breaks
several rules is reported once per rule); `violations(root)` gives them as `Violation` records.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

FLOW = ("app", "views", "components", "reports", "figures", "assessments", "matrix")
OWN = frozenset(FLOW) | {"cli"}
MAY_IMPORT = {layer: frozenset(FLOW[i:]) for i, layer in enumerate(FLOW)}
MAY_IMPORT["cli"] = frozenset({"cli", "assessments", "reports", "matrix"})
DATABASE = frozenset({"sqlalchemy", "alembic"})
DATABASE_HOME = ("assessments", "records")
NO_UI = frozenset({"figures", "reports", "assessments", "matrix"})
UI = frozenset({"streamlit", "components", "views", "app"})
SKIP_DIRS = frozenset({"tests", "benchmarks", "node_modules", "__pycache__"})  # and every .hidden folder

PARSE, DATABASE_RULE, PRIVATE, MATRIX_ALONE, NO_UI_RULE, REPORTS_NO_UI, FLOW_RULE = range(7)


@dataclass(frozen=True, order=True)
class Violation:
    path: str   # relative to the root, with "/"
    line: int
    rule: int   # 1..6 as in the module docstring; 0: the file does not parse
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: rule {self.rule}: {self.message}"


@dataclass(frozen=True)
class Import:
    line: int
    module: str                   # absolute dotted name
    names: tuple[str, ...] = ()   # `from module import names`


def check(root: Path) -> list[str]:
    """Every violation of the rules in the .py files under root, as "path:line: message"."""
    return [str(v) for v in violations(root)]


def violations(root: Path) -> list[Violation]:
    root = Path(root).resolve()
    _is_own_module.cache_clear()  # the tree may have changed since the last call
    found: list[Violation] = []
    for path in source_files(root):
        found.extend(check_file(root, path))
    return sorted(found)


def source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if not any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
            yield path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(root: Path, path: Path) -> str | None:
    parts = path.relative_to(root).parts
    top = parts[0] if len(parts) > 1 else path.stem
    return top if top in OWN else None


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def check_file(root: Path, path: Path) -> list[Violation]:
    rel = path.relative_to(root).as_posix()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    except SyntaxError as exc:
        return [Violation(rel, exc.lineno or 1, PARSE, f"cannot check imports: {exc.msg}")]
    except (UnicodeDecodeError, ValueError) as exc:
        return [Violation(rel, 1, PARSE, f"cannot check imports: {exc}")]
    me = module_name(root, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    layer = layer_of(root, path)
    in_records = path.relative_to(root).parts[:len(DATABASE_HOME)] == DATABASE_HOME
    own_module = _module_finder(root)
    imports = collect_imports(tree, package)
    out: list[Violation] = []

    def flag(line: int, rule: int, message: str) -> None:
        out.append(Violation(rel, line, rule, message))

    for imp in imports:
        top = imp.module.partition(".")[0]
        what = imp.module + (f" ({', '.join(imp.names)})" if imp.names else "")
        if top in DATABASE and not in_records:
            flag(imp.line, DATABASE_RULE, f"imports {imp.module}: only assessments/records/ may use {top}")
        if top in OWN:
            parts = imp.module.split(".")
            for i, part in enumerate(parts[1:], start=1):
                parent = ".".join(parts[:i])
                if is_private(part) and not inside(me, parent):
                    flag(imp.line, PRIVATE, f"imports private module {'.'.join(parts[:i + 1])} from outside {parent}")
            for name in imp.names:
                if is_private(name) and not (own_module(f"{imp.module}.{name}") and inside(me, imp.module)):
                    flag(imp.line, PRIVATE, f"imports private name {name} from {imp.module}")
        if layer == "matrix" and top in OWN and top != "matrix":
            flag(imp.line, MATRIX_ALONE, f"matrix/ imports {what}: matrix/ depends on nothing else of ours")
        if layer in NO_UI and top in UI:
            flag(imp.line, NO_UI_RULE, f"{layer}/ imports {what}: no Streamlit or app code below components/")
        if layer == "reports" and top in ("components", "views"):
            flag(imp.line, REPORTS_NO_UI, f"reports/ imports {what}: reports never use components/ or views/")
        if layer in MAY_IMPORT and top in OWN and top not in MAY_IMPORT[layer]:
            allowed = ", ".join(sorted(MAY_IMPORT[layer] - {layer}))
            rule = f"{layer} may import only {allowed}" if allowed else f"{layer} imports nothing else of ours"
            flag(imp.line, FLOW_RULE, f"{layer} imports {what}: one-way flow {' -> '.join(FLOW)}; {rule}")

    for line, module, attr in private_attributes(tree, package, own_module):
        if me != module and not (inside(me, module) and own_module(f"{module}.{attr}")):
            flag(line, PRIVATE, f"uses private name {attr} of module {module}")
    return out


def _module_finder(root: Path):
    return partial(_is_own_module, root)


@cache
def _is_own_module(root: Path, dotted: str) -> bool:
    """True when dotted is a module or package of ours under root (namespace packages too)."""
    if dotted.partition(".")[0] not in OWN:
        return False
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base.is_dir() and any(base.glob("*.py")))


def resolve(module: str | None, level: int, package: str) -> str | None:
    """The absolute name of `from <level dots><module> import ...` inside package, None if impossible."""
    if level == 0:
        return module
    base = package.split(".") if package else []
    if level > len(base):  # beyond the top-level package, as Python refuses too
        return None
    return ".".join(base[:len(base) - (level - 1)] + ([module] if module else []))


def collect_imports(tree: ast.Module, package: str) -> list[Import]:
    constants: dict[str, list[str]] = {}
    for node in tree.body:  # NAME = "literal" / NAME = ("literal", ...) at module level
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            values = _strings(node.value, {})
            for target in targets:
                if isinstance(target, ast.Name) and values is not None:
                    constants[target.id] = values
    loops: dict[str, list[str]] = {}
    for node in ast.walk(tree):  # for NAME in (literals or a constant tuple)
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name):
            values = _strings(node.iter, constants, sequence_only=True)
            if values is not None:
                loops.setdefault(node.target.id, []).extend(values)
    known = dict(constants)
    for name, values in loops.items():
        known[name] = known.get(name, []) + values

    importlib_names: set[str] = set()
    import_module_names: set[str] = {"__import__"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            importlib_names.update(a.asname or "importlib" for a in node.names
                                   if a.name == "importlib" or (a.name.startswith("importlib.") and not a.asname))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "importlib":
            import_module_names.update(a.asname or a.name for a in node.names if a.name == "import_module")

    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = resolve(node.module, node.level, package)
            if module:
                found.append(Import(node.lineno, module, tuple(a.name for a in node.names if a.name != "*")))
        elif isinstance(node, ast.Call) and node.args and _is_import_call(node.func, importlib_names,
                                                                          import_module_names):
            dunder = isinstance(node.func, ast.Name) and node.func.id == "__import__"  # 2nd argument: globals
            anchor = next((k.value for k in node.keywords if k.arg == "package"),
                          node.args[1] if len(node.args) > 1 and not dunder else None)
            anchors = _strings(anchor, constants) if anchor is not None else [package]
            for name in _strings(node.args[0], known) or []:
                level = len(name) - len(name.lstrip("."))
                for base in anchors or []:
                    module = resolve(name[level:] or None, level, base) if level else name
                    if module:
                        found.append(Import(node.lineno, module))
    return sorted(found, key=lambda i: (i.line, i.module))


def _is_import_call(func: ast.expr, importlib_names: set[str], import_module_names: set[str]) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module" and isinstance(func.value, ast.Name) and func.value.id in importlib_names
    return isinstance(func, ast.Name) and func.id in import_module_names


def _strings(node: ast.expr | None, names: dict[str, list[str]], sequence_only: bool = False) -> list[str] | None:
    """The string(s) node stands for: a literal, a tuple/list of literals, a known name; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and not sequence_only:
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List)):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return values if len(values) == len(node.elts) else None
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    return None


def private_attributes(tree: ast.Module, package: str, own_module) -> Iterator[tuple[int, str, str]]:
    """(line, module, name) for every `alias._name` where alias is bound to one of our modules by an
    import of the file (bindings are per file, not per scope: a pragmatic approximation)."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):  # import a.b -> a; import a.b as x -> x
            for a in node.names:
                target = a.name if a.asname else a.name.partition(".")[0]
                if own_module(target):
                    bound[a.asname or target] = target
        elif isinstance(node, ast.ImportFrom):  # from pkg import mod [as x]
            base = resolve(node.module, node.level, package)
            for a in node.names if base else ():
                if own_module(f"{base}.{a.name}"):
                    bound[a.asname or a.name] = f"{base}.{a.name}"
    if not bound:
        return

    def visit(node: ast.AST) -> Iterator[tuple[int, str, str]]:
        if isinstance(node, ast.Attribute):
            attrs: list[str] = []
            base: ast.expr = node
            while isinstance(base, ast.Attribute):
                attrs.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                module = bound[base.id]
                for attr in reversed(attrs):
                    if is_private(attr):
                        yield node.lineno, module, attr
                    if not own_module(f"{module}.{attr}"):
                        break
                    module = f"{module}.{attr}"
            else:
                yield from visit(base)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child)

    yield from visit(tree)
