"""The paper workbook ("Arbetsboken"): its rounds and return address from locality.toml, and the round a proposal answered.

A locality declares ``[workbook]`` (who to contact, where to return it) and ``[[workbook.rounds]]``
(a name, a title and the questions asked). A proposal that came back through the workbook keeps the
round's name in ``proposal_rounds`` (planner-only). The PDF itself is drawn by ``workbook_pdf``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Connection, insert, select

from ..errors import UserError
from . import schema
from .locality import Locality, LocalityConfigError

ROUND_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CHANNEL = "workbook"
RESIDENT_CHANNELS = ("web", CHANNEL)  # the public form may say it came from the paper workbook; staff enter the rest


class InvalidRound(UserError):
    code = "unknown_round"

    def __init__(self, sv: str, en: str, field: str = "round"):
        super().__init__(sv, en, field=field)
        self.field = field


@dataclass(frozen=True)
class Round:
    name: str
    title: dict  # {"sv": ..., "en": ...}
    questions: tuple[dict, ...]


@dataclass(frozen=True)
class WorkbookConfig:
    contact: dict
    return_address: dict
    rounds: tuple[Round, ...]

    def round(self, name: str | None) -> Round | None:
        """The round called ``name``; without a name the newest (last declared) one, or None."""
        if not name:
            return self.rounds[-1] if self.rounds else None
        return next((r for r in self.rounds if r.name == name), None)


def workbook_config(locality: Locality) -> WorkbookConfig:
    """Return the locality's ``[workbook]`` section (empty when it declares none)."""
    return _read(Path(locality.directory) / "locality.toml")


@lru_cache(maxsize=8)
def _read(path: Path) -> WorkbookConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("workbook", {})
        rounds = tuple(
            Round(str(item["name"]), dict(item["title"]), tuple(dict(q) for q in item.get("questions", ())))
            for item in raw.get("rounds", ())
        )
        config = WorkbookConfig(dict(raw.get("contact", {})), dict(raw.get("return_address", {})), rounds)
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise LocalityConfigError(f"{path}: malformed [workbook] section: {exc}") from None
    names = [r.name for r in rounds]
    bad = [n for n in names if not ROUND_NAME.match(n)]
    if bad or len(set(names)) != len(names):
        raise LocalityConfigError(f"{path}: workbook round names must be unique, lower-case letters, digits and hyphens: {bad}")
    return config


def clean_round(value, locality: Locality) -> str | None:
    """Return a declared round's name (None for none given), or raise ``InvalidRound``."""
    if value is None or value == "":
        return None
    known = [r.name for r in workbook_config(locality).rounds]
    if not isinstance(value, str) or value.strip() not in known:
        listed = ", ".join(known) or "–"
        raise InvalidRound(
            f"Okänd arbetsboksomgång. Kända omgångar: {listed}.", f"Unknown workbook round. Known rounds: {listed}."
        )
    return value.strip()


def check_resident_channel(channel) -> None:
    """Residents may send ``web`` or ``workbook``; meetings, focus groups and the rest are entered by staff."""
    if channel not in (None, "", *RESIDENT_CHANNELS):
        raise InvalidRound(
            f"Kanalen kan bara vara {' eller '.join(RESIDENT_CHANNELS)}.",
            f"The channel can only be {' or '.join(RESIDENT_CHANNELS)}.",
            field="channel",
        )


def save_round(conn: Connection, proposal_id: int, round_name: str | None) -> None:
    """Record the round a proposal answered (nothing for none)."""
    if round_name:
        conn.execute(insert(schema.proposal_rounds).values(proposal_id=proposal_id, round_name=round_name))


def rounds_of(conn: Connection, ids: list[int]) -> dict[int, str]:
    """Return ``{proposal id: round name}`` for those of ``ids`` that answered a round."""
    table = schema.proposal_rounds.c
    return dict(conn.execute(select(table.proposal_id, table.round_name).where(table.proposal_id.in_(ids))).all())  # type: ignore[arg-type]


def form_url(base_url: str, round_name: str | None, area_id: str | None = None, lang: str = "sv") -> str:
    """The resident form's address pre-set to an area (or the whole locality), the workbook channel and the round."""
    query: dict[str, str] = {}
    if area_id:
        query["area"] = area_id
    query["channel"] = CHANNEL
    if round_name:
        query["round"] = round_name
    if lang != "sv":
        query["lang"] = lang
    return base_url.rstrip("/") + "/?" + urlencode(query)


def area_anchor(registry, area_id) -> tuple[float, float, str] | None:
    """Return ``(lon, lat, name)`` of a point inside development area ``area_id`` (its centroid when that lies
    inside, else a point surely inside), or None for an id the layer does not hold."""
    if not isinstance(area_id, str) or not area_id or len(area_id) > 100:
        return None
    areas = registry.areas()
    found = areas[areas["id"].astype(str) == area_id]
    if found.empty:
        return None
    shape = found.geometry.iloc[0]
    point = shape.centroid if shape.contains(shape.centroid) else shape.representative_point()
    return round(point.x, 7), round(point.y, 7), str(found["name"].iloc[0])
