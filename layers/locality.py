"""A locality's configuration, read from ``locality.toml`` in its data folder.

Everything specific to a place (Dalby or any other) lives in that folder: name, map view,
layers, proposal categories, departments, the routing table and the languages residents are
offered (``languages = ["sv", "en", "ar"]``). Nothing here knows Dalby.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .vocabulary import translate

# The bundled locality is package data (``dialogkarta.data``), so a wheel install finds it too.
DEFAULT_LOCALITY_DIR = Path(str(files("dialogkarta.data") / "dalby"))


DEFAULT_RADIUS_M = 500.0  # a locality.toml without [service_radius_m]
DEFAULT_LANGUAGES = ("sv", "en")  # a locality.toml without `languages`


class LocalityConfigError(ValueError):
    """The locality folder or its locality.toml is missing or malformed."""


@dataclass(frozen=True)
class Layer:
    """One map layer declared by a locality (folium's words: name, title, fields)."""

    name: str
    title: dict
    path: str
    geometry_type: str
    role: str = "reference"  # boundary | areas | services | reference
    fields: tuple = ()
    public: bool = True

    def label(self, lang: str = "sv") -> str:
        return translate(self.title, lang, default=self.name)


@dataclass(frozen=True)
class Category:
    id: str
    labels: dict

    def label(self, lang: str = "sv") -> str:
        return translate(self.labels, lang)


@dataclass(frozen=True)
class RoutingRule:
    """One row of the routing table; conditions left as None always hold."""

    department: str
    category: str | None = None
    near_kind: str | None = None
    within_m: float | None = None
    in_area: bool | str | None = None
    also: bool = False


@dataclass(frozen=True)
class Locality:
    name: str
    directory: Path
    municipality: str
    boundary_layer: str
    center: tuple[float, float]
    zoom: int
    min_zoom: int
    max_zoom: int
    margin_m: float
    attribution: tuple[dict, ...]  # each line as {"sv": ..., "en": ...}
    layers: tuple[Layer, ...]
    categories: tuple[Category, ...]
    departments: dict
    default_department: str
    routing: tuple[RoutingRule, ...]
    area_status: dict = field(default_factory=dict)
    service_kinds: dict = field(default_factory=dict)
    service_radius_m: dict = field(default_factory=dict)  # kind -> metres; "default" for the rest
    timezone: str = "UTC"  # an IANA name, e.g. Europe/Stockholm
    languages: tuple[str, ...] = DEFAULT_LANGUAGES  # offered to residents; the first is the default

    def local(self, value: datetime) -> datetime:
        """Return an instant in the locality's time zone (a naive one is UTC, as the store keeps it)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(ZoneInfo(self.timezone))

    def today(self, now: datetime | None = None) -> date:
        """The date on the locality's calendar at ``now`` (this instant by default): surveys open and close by it."""
        return self.local(now or datetime.now(UTC)).date()

    def radius_m(self, kind: str) -> float:
        """Return the radius of the "within N m" count for services of ``kind``."""
        return float(self.service_radius_m.get(kind, self.service_radius_m.get("default", DEFAULT_RADIUS_M)))

    def kind_label(self, kind: str, lang: str = "sv", count: int = 1) -> str:
        """Return a service kind's name, lower-case, for ``count`` of them ("1 skola", "2 skolor")."""
        labels = self.service_kinds.get(kind) or {}
        plural = labels.get("plural") if count != 1 else None
        text = translate(plural or labels, lang, default=kind)
        return text if plural else text[:1].lower() + text[1:]

    def attribution_lines(self, lang: str = "sv") -> list[str]:
        return [translate(line, lang) for line in self.attribution]

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def department_label(self, department_id: str | None, lang: str = "sv") -> str:
        labels = self.departments.get(department_id or "", {})
        return translate(labels, lang, default=department_id or "")


def load_locality(directory=None) -> Locality:
    """Read ``locality.toml`` from ``directory`` (the bundled Dalby folder by default)."""
    directory = Path(directory or DEFAULT_LOCALITY_DIR).resolve()
    config_path = directory / "locality.toml"
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LocalityConfigError(f"no locality.toml in {directory}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LocalityConfigError(f"{config_path}: {exc}") from None
    try:
        view = raw["map"]
        layers = tuple(
            Layer(
                name=item["name"],
                title=dict(item["title"]),
                path=item["path"],
                geometry_type=item["geometry_type"],
                role=item.get("role", "reference"),
                fields=tuple(item.get("fields", ())),
                public=item.get("public", True),
            )
            for item in raw["layers"]
        )
        departments = {key: dict(value) for key, value in raw["departments"].items()}
        rules = tuple(RoutingRule(**rule) for rule in raw.get("routing", ()))
        locality = Locality(
            name=raw["name"],
            directory=directory,
            municipality=raw.get("municipality", ""),
            boundary_layer=raw["boundary_layer"],
            center=tuple(view["center"]),
            zoom=int(view["zoom"]),
            min_zoom=int(view.get("min_zoom", 12)),
            max_zoom=int(view.get("max_zoom", 19)),
            margin_m=float(view.get("margin_m", 1000)),
            attribution=tuple(
                {"sv": line, "en": line} if isinstance(line, str) else dict(line) for line in view.get("attribution", ())
            ),
            layers=layers,
            categories=tuple(
                Category(c["id"], {"sv": c["sv"], **{k: v for k, v in c.items() if k != "id"}}) for c in raw["categories"]
            ),
            departments=departments,
            default_department=raw.get("default_department", next(iter(departments))),
            routing=rules,
            area_status=dict(raw.get("area_status", {})),
            service_kinds=dict(raw.get("service_kinds", {})),
            service_radius_m=_radii(raw.get("service_radius_m", {})),
            timezone=str(raw.get("timezone", "UTC")),
            languages=_languages(raw.get("languages", DEFAULT_LANGUAGES)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalityConfigError(f"{config_path}: missing or malformed entry {exc}") from None
    _check_references(locality)
    return locality


def _radii(raw: dict) -> dict:
    radii = {}
    for kind, metres in raw.items():
        if isinstance(metres, bool) or not isinstance(metres, (int, float)) or not 0 < metres <= 100_000:
            raise LocalityConfigError(
                f"service_radius_m.{kind} must be a number of metres above 0 and at most 100000, got {metres!r}"
            )
        radii[kind] = float(metres)
    return radii


def _languages(raw) -> tuple[str, ...]:
    if isinstance(raw, str) or not raw or not all(isinstance(code, str) and code.strip() for code in raw):
        raise LocalityConfigError(f'languages must be a list of language codes, e.g. ["sv", "en"], got {raw!r}')
    return tuple(code.strip() for code in raw)


def _check_references(locality: Locality) -> None:
    try:
        ZoneInfo(locality.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise LocalityConfigError(
            f"unknown timezone {locality.timezone!r}; expected an IANA name such as Europe/Stockholm"
        ) from None
    names = [layer.name for layer in locality.layers]
    if len(set(names)) != len(names):
        raise LocalityConfigError("layer names must be unique")
    if locality.boundary_layer not in names:
        raise LocalityConfigError(f"boundary_layer {locality.boundary_layer!r} is not a declared layer")
    for rule in locality.routing:
        if rule.department not in locality.departments:
            raise LocalityConfigError(f"routing rule names unknown department {rule.department!r}")
        if rule.category is not None and locality.category(rule.category) is None:
            raise LocalityConfigError(f"routing rule names unknown category {rule.category!r}")
    if locality.default_department not in locality.departments:
        raise LocalityConfigError(f"unknown default_department {locality.default_department!r}")
