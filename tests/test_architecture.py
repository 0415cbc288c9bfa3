"""Imports run one way: webmap -> layers -> geo. geo/ and layers/ know nothing of Flask or folium; webmap/ writes no SQL."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AREAS = ("geo", "layers", "webmap", "dialogkarta")
FORBIDDEN = {
    "geo": {"flask", "folium", "webmap", "layers", "sqlalchemy", "flask_babel", "flask_wtf", "dialogkarta.cli"},
    "layers": {"flask", "folium", "webmap", "flask_babel", "flask_wtf", "dialogkarta.cli"},
    "webmap": {"sqlalchemy", "layers.schema"},  # no SQL in the web layer: layers/ holds every query
}


def module_name(path: Path) -> str:
    """The installed dotted name of a source file: geo/crs.py -> dialogkarta.geo.crs."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts if parts[0] == "dialogkarta" else ["dialogkarta", *parts])


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved, ``dialogkarta.`` dropped for our areas."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names |= {module, *(f"{module}.{alias.name}" for alias in node.names)}
    return {name.removeprefix("dialogkarta.") if name.split(".")[1:2] and name.split(".")[1] in AREAS else name for name in names}


def source_files(area: str):
    return sorted((ROOT / area).rglob("*.py"))


@pytest.mark.parametrize("area", sorted(FORBIDDEN))
def test_lower_areas_do_not_import_upper_ones(area):
    offenders = {}
    for path in source_files(area):
        bad = sorted(name for name in imported_names(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[area]))
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_every_package_imports_relatively_or_by_its_installed_name():
    bare = {}
    for area in ("geo", "layers", "webmap", "dialogkarta"):
        for path in source_files(area):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = [
                node.module
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)
                and node.level == 0
                and node.module
                and node.module.split(".")[0] in {"geo", "layers", "webmap"}
            ]
            names += [
                a.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import)
                for a in node.names
                if a.name.split(".")[0] in {"geo", "layers", "webmap"}
            ]
            if names:
                bare[str(path.relative_to(ROOT))] = names
    assert bare == {}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (at any depth in the file), packages' own __init__ aside."""
    modules = {module_name(path): path for area in AREAS for path in source_files(area)}
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path):
            parts = (name if name.startswith("dialogkarta") else f"dialogkarta.{name}").split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            target = ".".join(parts)
            if parts and target != module and not module.startswith(target + "."):
                targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each one import cycle or more."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_in_a_circle_even_inside_a_function():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import():
    graph = import_graph()
    graph["dialogkarta.geo.crs"] = graph["dialogkarta.geo.crs"] | {"dialogkarta.geo.joins"}
    assert ["dialogkarta.geo.crs", "dialogkarta.geo.joins"] in [c for c in cycles(graph) if len(c) == 2]


def test_benchmarks_stand_on_their_own_and_never_import_the_tests():
    offenders = {
        path.name: sorted(n for n in imported_names(path) if n == "tests" or n.startswith("tests."))
        for path in (ROOT / "bench").glob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_blueprint_borrows_from_another_blueprint():
    """Shared helpers live in their own modules (wording, client, params, errors), not in a blueprint.

    ``auth`` is the exception by design: besides login and logout it is where every protected view
    gets ``login_required`` and ``current_user``.
    """
    blueprints = {
        module_name(path).removeprefix("dialogkarta.")
        for path in source_files("webmap")
        if "Blueprint(" in path.read_text(encoding="utf-8")
    } - {"webmap.auth"}
    borrowing = {}
    for path in source_files("webmap"):
        own = module_name(path).removeprefix("dialogkarta.")
        if own in blueprints:
            found = sorted(name for name in imported_names(path) & blueprints if name != own)
            if found:
                borrowing[own] = found
    assert len(blueprints) >= 6 and borrowing == {}
