"""The planner's workbook page, /planner/workbook: print the A4 workbook and type returned ones in.

Staff only. The PDF is the one ``dialogkarta workbook`` writes (``layers.workbook_pdf``); the bulk
entry form and the CSV upload go through ``layers.proposal_import``: every row checked first, then
all stored in one transaction, or none, with each bad row named.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..layers import proposal_import, workbook, workbook_pdf
from ..layers.vocabulary import CHANNELS, labels
from . import db
from .auth import login_required
from .i18n import current_language

bp = Blueprint("workbook", __name__)
ENTRY_ROWS, ENTRY_ROWS_MAX = 10, 50
ENTRY_FIELDS = ("area", "lon", "lat", "category", "title", "description")
COMMON_FIELDS = ("channel", "meeting", "round")


@bp.get("/planner/workbook")
@login_required
def index():
    return _page({"channel": workbook.CHANNEL}, _row_count())


@bp.get("/planner/workbook.pdf")
@login_required
def pdf():
    lang = request.args.get("language", current_language())  # not "lang": that switches the page's own language
    chosen = tuple(a for a in request.args.getlist("area") if a)
    try:
        data = workbook_pdf.build_pdf(
            db.registry(),
            workbook_pdf.WorkbookRequest(
                base_url=url_for("resident.index", _external=True),
                areas=chosen or None,
                round_name=request.args.get("round") or None,
                lang=lang if lang in ("sv", "en") else "sv",
            ),
        )
    except workbook_pdf.UnknownArea as error:
        flash(_("Okänt område: %(areas)s.", areas=str(error)[:200]), "error")
        return _page({"channel": workbook.CHANNEL}, _row_count()), 400
    except workbook_pdf.TooManyAreas:
        flash(_("Välj högst %(count)s områden åt gången.", count=workbook_pdf.MAX_AREA_PAGES), "error")
        return _page({"channel": workbook.CHANNEL}, _row_count()), 400
    except LookupError:
        flash(_("Okänd omgång."), "error")
        return _page({"channel": workbook.CHANNEL}, _row_count()), 400
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="arbetsbok.pdf"'
    return response


@bp.post("/planner/workbook/entries")
@login_required
def entries():
    """Store the typed rows of the bulk entry form (empty rows skipped), all or none."""
    form = request.form
    common = {key: form.get(key, "") for key in COMMON_FIELDS}
    count = min(int(form.get("rows", ENTRY_ROWS)) if form.get("rows", "").isdigit() else ENTRY_ROWS, ENTRY_ROWS_MAX)
    rows = []
    for number in range(1, count + 1):
        row = {key: form.get(f"{key}-{number}", "") for key in ENTRY_FIELDS}
        if any(value.strip() for value in row.values()):
            rows.append((number, {**common, **row}))
    return _store(rows, form.to_dict(), count)


@bp.post("/planner/workbook/import")
@login_required
def import_csv():
    """Store the proposals of an uploaded CSV file, all or none."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Välj en CSV-fil."), "error")
        return _page({"channel": workbook.CHANNEL}, _row_count()), 400
    data = upload.stream.read(proposal_import.MAX_BYTES + 1)
    try:
        rows = proposal_import.read_csv(data)
    except proposal_import.ImportRefused as error:
        return _refused(error, {"channel": workbook.CHANNEL}, _row_count())
    return _store(rows, {"channel": workbook.CHANNEL}, _row_count())


def _store(rows, form: dict, count: int):
    registry = db.registry()
    try:
        submissions = proposal_import.check_rows(registry, rows)
        with db.transaction() as conn:
            ids = proposal_import.store_rows(conn, registry, submissions)
    except proposal_import.ImportRefused as error:
        return _refused(error, form, count)
    flash(_("%(count)s förslag är sparade.", count=len(ids)), "info")
    return redirect(url_for("workbook.index"))


def _refused(error: proposal_import.ImportRefused, form: dict, count: int):
    lang = current_language()
    flash(_("Inget sparades. Rätta raderna nedan och skicka igen."), "error")
    return _page(form, count, [problem.message(lang) for problem in error.problems]), 422


def _row_count() -> int:
    text = request.args.get("rows", "")
    return min(max(int(text), 1), ENTRY_ROWS_MAX) if text.isdigit() else ENTRY_ROWS


def _page(form: dict, count: int, problems: list[str] | None = None) -> str:
    registry = db.registry()
    lang = current_language()
    locality = registry.locality
    areas = registry.areas()
    return render_template(
        "planner/workbook.html",
        form=form,
        rows=count,
        problems=problems or [],
        areas=list(zip(areas["id"].astype(str), areas["name"].astype(str))),
        rounds=[(r.name, r.title.get(lang) or r.title.get("sv", r.name)) for r in workbook.workbook_config(locality).rounds],
        categories=[(c.id, c.label(lang)) for c in locality.categories],
        channels=labels(CHANNELS, lang),
        columns=proposal_import.COLUMNS,
    )
