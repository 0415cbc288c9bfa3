"""Proposals that say the same thing: same category, within 500 m, and similar words (trigram similarity).

Before a resident sends a proposal, the form offers public proposals like it as "support this
instead". Candidates come from the store set-based: the nearest public, visible proposals of the
category within a box around the point (at most ``CANDIDATES_MAX``, measured exactly in SWEREF 99
TM), each compared on at most ``TEXT_MAX`` characters. The similarity is the Dice coefficient of
the two texts' word trigrams (each word padded as PostgreSQL's pg_trgm does, case and Unicode
width folded, a few filler words left out), computed here in pure Python: a few hundred candidates
cost milliseconds, and nothing needs a database extension or a new dependency. No Flask here.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Connection, func, select

from ..geo.generalise import snap_to_grid
from ..geo.joins import distances_m
from . import store
from .schema import proposals

RADIUS_M = 500.0
THRESHOLD = 0.3  # Dice of word trigrams: rewordings of one idea score 0.3-0.9 here, unrelated proposals under 0.1
CANDIDATES_MAX = 300  # nearest same-category proposals scored: the work is bounded however many lie around
TEXT_MAX = 500  # characters of each text compared (the draft's and each candidate's)
LIMIT = 5
# Words that say nothing about the subject; their trigrams would make any two texts alike.
_FILLER_WORDS = {
    "sv": "och att det är en ett som på för med till i av om vid den de vi jag inte har kan ska så man mer fler bättre "
    "behövs borde vill också",
    "en": "the a an and of to in at on for is are be we it this that more should need needs",
    "ar": "في من على إلى عن مع هذا هذه أن ال و",
}
FILLER = frozenset(word for words in _FILLER_WORDS.values() for word in words.split())
_WORD = re.compile(r"\w+")


def trigrams(text: str) -> frozenset[str]:
    """Return the word trigrams of ``text`` (at most ``TEXT_MAX`` characters of it)."""
    folded = unicodedata.normalize("NFKC", text[:TEXT_MAX]).casefold()
    grams: set[str] = set()
    for word in _WORD.findall(folded):
        if len(word) < 2 or word in FILLER:
            continue
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice's coefficient of two trigram sets, 0 (nothing shared) to 1 (the same)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def similar(
    conn: Connection,
    lon: float,
    lat: float,
    category: str,
    text: str,
    grid_m: float = 0,
    radius_m: float = RADIUS_M,
    threshold: float = THRESHOLD,
    limit: int = LIMIT,
) -> list[tuple[float, float, dict]]:
    """Return ``(similarity, metres, public view)`` of proposals like ``text``, most similar first.

    Only public, visible proposals of ``category`` within ``radius_m`` of lon/lat, scoring at least
    ``threshold`` against the draft or against their title alone (a short draft may repeat a title).
    """
    draft = trigrams(text)
    if not draft:
        return []
    reach = (radius_m + grid_m) / 111_000 * 1.05  # degrees; the margin covers the rough ranking and a grid cell
    ids = store.nearest_ids(conn, lon, lat, reach, category, limit=CANDIDATES_MAX)
    if not ids:
        return []
    # Only what scoring needs is read for the candidates; the full public view only for the answer.
    text_columns = (proposals.c.title, func.substr(proposals.c.description, 1, TEXT_MAX))
    query = select(proposals.c.id, proposals.c.lon, proposals.c.lat, *text_columns)
    rows = conn.execute(query.where(proposals.c.id.in_(ids), proposals.c.category == category)).all()
    if not rows:
        return []
    positions = [snap_to_grid(row.lon, row.lat, grid_m) if grid_m else (row.lon, row.lat) for row in rows]
    metres = distances_m(lon, lat, [p[0] for p in positions], [p[1] for p in positions])
    scored = {}
    for (proposal_id, _lon, _lat, title, description), distance in zip(rows, metres):
        if distance > radius_m:
            continue
        score = max(similarity(draft, trigrams(f"{title} {description}")), similarity(draft, trigrams(title)))
        if score >= threshold:
            scored[proposal_id] = (round(score, 3), float(distance))
    best = sorted(scored, key=lambda proposal_id: (-scored[proposal_id][0], scored[proposal_id][1]))[:limit]
    views = {record["id"]: store.public_view(record, grid_m=grid_m) for record in store.proposals_by_ids(conn, best)}
    return [(*scored[proposal_id], views[proposal_id]) for proposal_id in best if proposal_id in views]
