"""Imports run one way: webmap -> layers -> geo. geo/ and layers/ know nothing of Flask or folium."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AREAS = ("geo", "layers", "webmap", "dialogkarta")
FORBIDDEN = {
    "geo": {"flask", "folium", "webmap", "layers", "sqlalchemy", "flask_babel", "flask_wtf", "dialogkarta.cli"},
    "layers": {"flask", "folium", "webmap", "flask_babel", "flask_wtf", "dialogkarta.cli"},
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
    return {name.removeprefix("dialogkarta.") if name.split(".")[1:2] and name.split(".")[1] in AREAS else name
            for name in names}


def source_files(area: str):
    return sorted((ROOT / area).rglob("*.py"))


@pytest.mark.parametrize("area", sorted(FORBIDDEN))
def test_lower_areas_do_not_import_upper_ones(area):
    offenders = {}
    for path in source_files(area):
        bad = sorted(name for name in imported_names(path)
                     if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[area]))
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_every_package_imports_relatively_or_by_its_installed_name():
    bare = {}
    for area in ("geo", "layers", "webmap", "dialogkarta"):
        for path in source_files(area):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0
                     and node.module and node.module.split(".")[0] in {"geo", "layers", "webmap"}]
            names += [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
                      if a.name.split(".")[0] in {"geo", "layers", "webmap"}]
            if names:
                bare[str(path.relative_to(ROOT))] = names
    assert bare == {}
