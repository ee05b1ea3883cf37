"""The module graph of core, ui and app_pages, with every edge: no cycle, at most 8 core levels.

import-linter (``lint-imports``) checks the layers, but it cannot see an import done through a
string. Here every edge counts: imports at the top of a file, inside functions, under
``TYPE_CHECKING``, and any string that names a project module (``importlib.import_module``,
``runpy.run_module``, a ``python -m`` command line). A strongly connected component of more
than one module is a cycle, hidden or not. Function-level imports of project modules are kept
for the few modules that load Keras at import (the training run), so the web process never
loads TensorFlow.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ui", "app_pages")
MODULE_STRING = re.compile(r"(core|ui|app_pages)(\.\w+)+")
# Heavy third-party libraries: importing one takes seconds (or pulls TensorFlow in).
HEAVY_LIBRARIES = {"keras", "tensorflow", "ray", "mlflow", "onnx", "tf2onnx", "cleanlab", "sklearn"}
BASE_MODULES = {"errors", "atomic", "text"}  # core's base: one level with core.config
MAX_CORE_LEVELS = 8


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module ``name`` refers to (``core.x.Thing`` -> ``core.x``), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node below ``node``, with whether it is inside a function."""
    for child in ast.iter_child_nodes(node):
        inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield child, inside
        yield from _walk(child, inside)


def _targets(node: ast.AST) -> list[str]:
    """The module names a node refers to: an import, or a string naming a project module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if MODULE_STRING.fullmatch(node.value) else []
    return []


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the project modules it refers to, every kind of edge counted."""
    edges: dict[str, frozenset[str]] = {}
    for module in MODULES:
        found = set()
        for node, _ in _walk(_tree(module)):
            for target in _targets(node):
                resolved = _resolve(target)
                if resolved is not None and resolved != module:
                    found.add(resolved)
        edges[module] = frozenset(found)
    return edges


def _runtime_imports(module: str) -> tuple[set[str], set[str]]:
    """What ``module`` imports when it is imported: (project modules, third-party top names)."""
    project: set[str] = set()
    libraries: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if _is_type_checking(node) or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue  # runs later (or never), not at import
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                names = []
            for name in names:
                if _resolve(name) is None:
                    libraries.add(name.split(".")[0])
            project.update(r for r in map(_resolve, _targets(node) if names else []) if r)
            for block in ("body", "orelse", "finalbody"):
                visit(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                visit(handler.body)

    visit(_tree(module).body)
    project.discard(module)
    return project, libraries


@cache
def heavy_modules() -> frozenset[str]:
    """Project modules that load a heavy library when imported (directly or through others)."""
    imports = {module: _runtime_imports(module) for module in MODULES}
    heavy = {module for module, (_, libraries) in imports.items() if libraries & HEAVY_LIBRARIES}
    grew = True
    while grew:
        grew = False
        for module, (project, _) in imports.items():
            if module not in heavy and project & heavy:
                heavy.add(module)
                grew = True
    return frozenset(heavy)


def strongly_connected(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
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
                components.append(sorted(component))
    return components


def _core_level(module: str) -> str | None:
    """The level node of a core module: its package, or "base" for the base modules."""
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 2 or parts[1] == "__main__":
        return None
    return "base" if parts[1] in BASE_MODULES else parts[1]


def core_levels() -> dict[str, int]:
    """Each core package's level: 1 + the deepest level below it (every edge counted)."""
    below: dict[str, set[str]] = {}
    for module, targets in graph().items():
        source = _core_level(module)
        if source is None:
            continue
        below.setdefault(source, set())
        below[source] |= {t for t in map(_core_level, targets) if t not in (None, source)}

    @cache
    def level(package: str) -> int:
        return 1 + max((level(other) for other in below.get(package, ())), default=0)

    return {package: level(package) for package in below}


def test_no_cycle_counting_every_edge() -> None:
    cycles = [c for c in strongly_connected(graph()) if len(c) > 1]
    assert cycles == [], f"import cycles (hidden ones included): {cycles}"


def test_a_planted_cycle_is_found() -> None:
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert [c for c in strongly_connected(edges) if len(c) > 1] == [["a", "b", "c"]]


def test_core_has_at_most_eight_levels() -> None:
    levels = core_levels()
    assert max(levels.values()) <= MAX_CORE_LEVELS, sorted(levels.items(), key=lambda i: -i[1])
    assert levels["config"] == levels["base"] == 1  # the configs sit beside the base


def test_project_modules_are_imported_at_the_top() -> None:
    """A function-level import of a project module is only for one that loads Keras."""
    late = []
    for module in MODULES:
        for node, in_function in _walk(_tree(module)):
            if not in_function or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node):
                resolved = _resolve(target)
                if resolved is not None and resolved not in heavy_modules():
                    late.append(f"{module}:{node.lineno} imports {resolved} in a function")
    assert late == []


def test_project_modules_are_never_imported_by_name() -> None:
    """``import_module``/``__import__`` only for a third-party module named as a literal."""
    calls = []
    for module in MODULES:
        for node, _ in _walk(_tree(module)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in (
                "import_module", "__import__",
            ):  # fmt: skip
                first = node.args[0] if node.args else None
                named = first.value if isinstance(first, ast.Constant) else None
                if not isinstance(named, str) or _resolve(named) is not None:
                    calls.append(f"{module}:{node.lineno}")
    assert calls == []


def test_the_web_process_modules_are_light() -> None:
    heavy_ui = sorted(m for m in heavy_modules() if m.startswith(("ui", "app_pages")))
    assert heavy_ui == []
    assert "core.jobs.runner" not in heavy_modules()
