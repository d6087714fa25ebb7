"""The layers import only downward and no module imports itself back through others.

Read from the source (the AST of every module, imports inside functions and under
TYPE_CHECKING included), so nothing is imported and the check takes well under a second.

  storage   dockdrift.db                       imports nothing else of the project
  analysis  dockdrift.analysis                 over storage: pure functions, typed results
  proxy     addon, capture, hijack, bridge,    over storage, beside analysis (the proxy
            upstream, probe, peers, tap        process never loads pandas)
  shared    errors, version, endpoint          leaves for the proxy side, renderers, commands
  render    dockdrift.render, allowlist output over analysis: a typed result in, text out
  commands  dockdrift.commands (one module per command), dockdrift.cli: on top
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Root folders and the package each is installed as (pyproject's package-dir).
FOLDERS = {"dockdrift": "dockdrift", "db": "dockdrift.db", "analysis": "dockdrift.analysis",
           "addons": "dockdrift.addons"}

# Layer of a module: the longest matching prefix wins.
LAYERS = {
    "dockdrift.db": "storage",
    "dockdrift.analysis": "analysis",
    "dockdrift.allowlist.core": "analysis",
    "dockdrift.addons": "proxy",
    "dockdrift.capture": "proxy",
    "dockdrift.capture_server": "proxy",
    "dockdrift.hijack": "proxy",
    "dockdrift.bridge": "proxy",
    "dockdrift.upstream": "proxy",
    "dockdrift.probe": "proxy",
    "dockdrift.peers": "proxy",
    "dockdrift.tap": "proxy",
    "dockdrift": "shared",  # the package itself only: each module below it is listed
    "dockdrift.errors": "shared",
    "dockdrift.version": "shared",
    "dockdrift.endpoint": "shared",
    "dockdrift.addon_path": "proxy",
    "dockdrift.render": "render",
    "dockdrift.allowlist": "render",  # the package: its generators (haproxy, render)
    "dockdrift.commands": "commands",
    "dockdrift.cli": "commands",
}
# What each layer may import (besides itself).
ALLOWED = {
    "storage": set(),
    "analysis": {"storage"},
    "proxy": {"storage", "shared"},
    "shared": {"storage"},
    "render": {"storage", "analysis", "shared"},
    "commands": {"storage", "analysis", "proxy", "shared", "render"},
}


def module_files() -> dict[str, Path]:
    """Every project module by its installed name (db/x.py -> dockdrift.db.x)."""
    mods = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if folder == "dockdrift" and parts and parts[0] in ("db", "analysis", "addons"):
                continue  # not a real folder there; never expected, but never double-counted
            mods[".".join([package, *parts])] = path
    return mods


def imports(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported project module, line) for every import in the file, wherever it stands."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package
                pkg = name.split(".") if is_package else name.split(".")[:-1]
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import dockdrift.db.engine as e` etc.
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


def layer(module: str) -> str:
    parts = module.split(".")
    for n in range(len(parts), 1, -1):  # the package `dockdrift` itself covers nothing below
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    if module in LAYERS:
        return LAYERS[module]
    raise AssertionError(f"{module}: no layer; add it to tests/test_layers.py LAYERS")


def graph() -> dict[str, dict[str, int]]:
    files = module_files()
    known = set(files)
    return {m: dict(imports(m, p, known)) for m, p in files.items()}


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def cycle_path(component: list[str], edges: dict[str, dict[str, int]]) -> str:
    """The shortest loop from the component's first module back to it, each import's line."""
    members, start = set(component), component[0]
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges[node]):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                path = [start, *reversed(path[:-1]), start] if node != start else [start, start]
                hops = [f"{a} (line {edges[a][b]})" for a, b in zip(path, path[1:], strict=False)]
                return " -> ".join(hops + [start])
            if child in members and child not in came_from:
                came_from[child] = node
                queue.append(child)
    return " <-> ".join(component)


def test_every_module_has_a_layer() -> None:
    for module in module_files():
        layer(module)


def test_layers_import_only_downward() -> None:
    edges = graph()
    files = module_files()
    wrong = [f"{files[m].relative_to(ROOT)}:{line}: {m} ({layer(m)}) imports {t} ({layer(t)})"
             for m, targets in sorted(edges.items()) for t, line in sorted(targets.items())
             if layer(t) != layer(m) and layer(t) not in ALLOWED[layer(m)]]
    assert not wrong, "upward or sideways imports:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    edges = graph()
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(cycle_path(c, edges) for c in found)


def test_the_checker_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    """The check itself: an import inside a function and a relative one are both edges,
    and a two-module loop is reported."""
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from p import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    known = {"p", "p.a", "p.b"}
    edges = {m: dict(imports(m, pkg / (m.split(".")[-1] + ".py") if m != "p"
                             else pkg / "__init__.py", known)) for m in known}
    assert edges["p.a"] == {"p.b": 2} and edges["p.b"] == {"p.a": 1}
    assert cycles(edges) == [["p.a", "p.b"]]
    assert "p.a (line 2) -> p.b (line 1) -> p.a" in cycle_path(["p.a", "p.b"], edges)


def test_renderers_never_touch_a_store() -> None:
    """A renderer takes a typed result: no SQLAlchemy, no engine, no models (not even for
    type hints); whatever needs a store is read by analysis before rendering."""
    wrong = []
    for module, path in module_files().items():
        if layer(module) != "render":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{path.relative_to(ROOT)}:{node.lineno}: {name}" for name in names
                      if name.split(".")[0] == "sqlalchemy"
                      or name in ("dockdrift.db.engine", "dockdrift.db.models")]
    assert not wrong, "renderers reading a store:\n" + "\n".join(wrong)
