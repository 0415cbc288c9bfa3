"""Returned workbooks typed in by staff: rows of proposals checked together and stored all or nothing.

A CSV file (``dialogkarta import-proposals``, the upload on ``/planner/workbook``) and the bulk
entry form give the same rows: ``category``, ``title``, ``description``, ``channel`` (``workbook``
when empty), ``meeting``, ``round``, and the position as ``lon``/``lat`` (WGS84; a decimal comma
is accepted) or as ``area``, a development area's id (the pin then stands inside that area).
Every row is checked before anything is written; any bad row refuses the whole file, and each is
named by its line and reason. The good rows then go through ``proposals.submit`` one by one in the
caller's one transaction, so each gets its joins, routing and ``note_changes`` as on submission.

A hostile file is bounded: at most ``MAX_BYTES`` bytes and ``MAX_ROWS`` rows, UTF-8 only (a BOM is
dropped), no NUL, at most ``CELL_MAX`` characters a cell and only the known columns. Formulas
(``=...``) mean nothing on input: cells are stored as text, and every CSV we write guards them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import Connection

from ..errors import UserError
from . import proposals, workbook
from .registry import LayerRegistry

MAX_BYTES = 2_000_000
MAX_ROWS = 2_000
CELL_MAX = 4_000
COLUMNS = ("category", "title", "description", "channel", "meeting", "round", "lon", "lat", "area")
REQUIRED = ("category", "title", "description")


@dataclass(frozen=True)
class RowProblem:
    line: int
    sv: str
    en: str

    def message(self, lang: str = "sv") -> str:
        text = self.sv if lang == "sv" else self.en
        if not self.line:  # the file as a whole
            return text[:1].upper() + text[1:]
        return f"Rad {self.line}: {text}" if lang == "sv" else f"Line {self.line}: {text}"


class ImportRefused(UserError):
    """The file or some of its rows are wrong: nothing was stored."""

    code = "import_refused"

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = problems[:50]
        more_sv = f" … och {len(problems) - 50} till." if len(problems) > 50 else ""
        more_en = f" … and {len(problems) - 50} more." if len(problems) > 50 else ""
        super().__init__(
            "Inget sparades. " + " ".join(p.message("sv") for p in shown) + more_sv,
            "Nothing was stored. " + " ".join(p.message("en") for p in shown) + more_en,
        )


def read_csv(data: bytes) -> list[tuple[int, dict]]:
    """Return ``(line, row)`` for each non-empty row of a CSV file, or raise ``ImportRefused`` for the file."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            [RowProblem(0, f"filen är större än {MAX_BYTES} byte.", f"the file is larger than {MAX_BYTES} bytes.")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused([RowProblem(line, "filen är inte UTF-8-text.", "the file is not UTF-8 text.")]) from None
    if "\x00" in text:
        raise ImportRefused([RowProblem(text[: text.index("\x00")].count("\n") + 1, "NUL-tecken.", "a NUL character.")])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Swedish spreadsheets save with semicolons
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportRefused([RowProblem(1, "rubrikraden saknas.", "the header row is missing.")]) from None
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise ImportRefused(
            [
                RowProblem(
                    1,
                    f"rubrikraden ska bara ha kolumnerna {', '.join(COLUMNS)}, var och en en gång, och minst {', '.join(REQUIRED)}"
                    f" (okända: {', '.join(unknown) or '–'}; saknas: {', '.join(missing) or '–'}).",
                    f"the header must name only the columns {', '.join(COLUMNS)}, each once, and at least {', '.join(REQUIRED)}"
                    f" (unknown: {', '.join(unknown) or '–'}; missing: {', '.join(missing) or '–'}).",
                )
            ]
        )
    rows: list[tuple[int, dict]] = []
    problems: list[RowProblem] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportRefused(problems + [RowProblem(line, f"trasig CSV ({error}).", f"broken CSV ({error}).")]) from None
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            raise ImportRefused([RowProblem(line, f"högst {MAX_ROWS} rader per fil.", f"at most {MAX_ROWS} rows per file.")])
        if len(cells) != len(header):
            problems.append(
                RowProblem(
                    line,
                    f"{len(cells)} fält, rubrikraden har {len(header)}.",
                    f"{len(cells)} fields, the header has {len(header)}.",
                )
            )
            continue
        rows.append((line, dict(zip(header, cells))))
    if problems:
        raise ImportRefused(problems)
    return rows


def check_rows(registry: LayerRegistry, rows: list[tuple[int, dict]]) -> list[dict]:
    """Return each row as a submission, or raise ``ImportRefused`` naming every bad row with its line."""
    if not rows:
        raise ImportRefused([RowProblem(0, "inga förslag att spara.", "no proposals to store.")])
    submissions, problems = [], []
    for line, row in rows:
        try:
            submission = _submission(registry, row)
            proposals.clean_submission(submission, registry)
            workbook.clean_round(submission.get("round"), registry.locality)
        except UserError as error:
            problems.append(RowProblem(line, error.message("sv"), error.message("en")))
            continue
        submissions.append(submission)
    if problems:
        raise ImportRefused(problems)
    return submissions


def _submission(registry: LayerRegistry, row: dict) -> dict:
    long_cells = [name for name, value in row.items() if len(value) > CELL_MAX]
    if long_cells:
        raise UserError(
            f"för lång cell i {', '.join(long_cells)} (högst {CELL_MAX} tecken).",
            f"cell too long in {', '.join(long_cells)} (at most {CELL_MAX} characters).",
        )
    data = {key: (row.get(key) or "").strip() for key in ("category", "title", "description", "meeting", "round")}
    data["channel"] = (row.get("channel") or "").strip() or workbook.CHANNEL
    lon, lat, area = (row.get(key, "").strip() for key in ("lon", "lat", "area"))
    if lon or lat:
        data["lon"], data["lat"] = _number(lon, "lon"), _number(lat, "lat")
    elif area:
        anchor = workbook.area_anchor(registry, area)
        if anchor is None:
            raise UserError(f"okänt område {area[:100]!r}.", f"unknown area {area[:100]!r}.")
        data["lon"], data["lat"] = anchor[0], anchor[1]
    else:
        raise UserError(
            "ange platsen som lon och lat eller som ett område (area).", "give the place as lon and lat or as an area."
        )
    return data


def _number(text: str, name: str) -> float:
    try:
        value = float(text.replace(",", ".").replace("\u2212", "-"))
    except ValueError:
        raise UserError(f"{name} ska vara ett tal, inte {text[:40]!r}.", f"{name} must be a number, not {text[:40]!r}.") from None
    return value


def store_rows(conn: Connection, registry: LayerRegistry, submissions: list[dict]) -> list[str]:
    """Submit every checked row in the caller's transaction as staff; return the new proposals' public ids."""
    return [proposals.submit(conn, registry, data, role="planner")["public_id"] for data in submissions]
