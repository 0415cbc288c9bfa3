"""Downloads of layers and proposals (/api/export, /planner/export) and the admin's layer upload page.

Views only choose the audience and adapt ``layers.export`` / ``layers.layer_import`` to HTTP.
Public downloads are built once per change of the data and sent from ``download_cache``, rate
limited per client. Planner downloads are made per request: GeoJSON and CSV stream (a generator
per response, one keyset page of the store at a time); GeoPackage and FlatGeobuf are written to a
temporary file that is sent and then removed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.utils import secure_filename

from ..geo.errors import UserError
from ..layers import export, layer_import, layer_store
from ..layers.export import Audience
from ..layers.registry import UnknownLayer
from . import conditional, db, download_cache
from .auth import current_user, login_required
from .i18n import current_language
from .params import ParameterError
from .ratelimit import limited
from .security import csrf

bp = Blueprint("downloads", __name__)

FORMAT = "<any(geojson, csv, gpkg, fgb):fmt>"
PUBLIC_CRS = ("3006", "3008", "4326")  # what public downloads offer (GeoPackage, FlatGeobuf)


def _public_audience() -> Audience:
    return Audience(grid_m=current_app.config["PUBLIC_GRID_M"])


def _download(name: str, fmt: str, audience: Audience, prefix: str = ""):
    registry, engine = db.registry(), db.engine()
    if name == "all" and fmt != "gpkg":
        raise UnknownLayer(name)
    if name != "all":
        export.check_layer(registry, name, audience)
    filename = secure_filename(f"{registry.locality.name.lower()}-{prefix}{name}.{fmt}")  # ASCII for the header
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store" if audience.planner else "no-cache",
    }
    if fmt == "geojson":
        return Response(export.iter_geojson(engine, registry, name, audience), mimetype=export.MEDIA_TYPES[fmt], headers=headers)
    if fmt == "csv":
        bom = request.args.get("bom") in ("1", "true", "yes")
        return Response(
            export.iter_csv(engine, registry, name, audience, bom=bom), content_type=export.MEDIA_TYPES[fmt], headers=headers
        )
    crs = request.args.get("crs") or None
    if crs and crs.isdigit():
        crs = f"EPSG:{crs}"
    handle, temp = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)
    try:
        if fmt == "gpkg":
            export.write_gpkg_export(
                engine, registry, temp, crs or export.SWEREF99TM, audience, None if name == "all" else [name]
            )
        else:
            export.write_fgb_export(engine, registry, name, temp, crs or export.WGS84, audience)
        response = send_file(temp, mimetype=export.MEDIA_TYPES[fmt], as_attachment=True, download_name=filename)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    response.headers["Cache-Control"] = headers["Cache-Control"]
    response.call_on_close(lambda: Path(temp).unlink(missing_ok=True))
    return response


@bp.get("/api/export")
def index():
    """List what can be downloaded (for the map page's download links)."""
    registry = db.registry()
    lang = current_language()
    layers = []
    for name in export.exportable_layers(registry, export.PUBLIC):
        if name in export.SHAPE_LAYER_TITLES:  # the line and area proposals (issue 15, item 7)
            title = export.SHAPE_LAYER_TITLES[name]["sv" if lang == "sv" else "en"]
        else:
            title = registry.get(name).label(lang) if name != export.PROPOSALS else ("Förslag" if lang == "sv" else "Proposals")
        layers.append(
            {
                "name": name,
                "title": title,
                "links": {fmt: url_for("downloads.public_export", name=name, fmt=fmt) for fmt in export.FORMATS},
            }
        )
    return {"layers": layers, "all": url_for("downloads.public_export", name="all", fmt="gpkg"), "ogc": url_for("ogc.landing")}


@bp.get(f"/api/export/<name>.{FORMAT}")
@limited("downloads")
def public_export(name: str, fmt: str):
    """A public download, built once per change of the data (``download_cache``) and rate limited per client."""
    audience, registry = _public_audience(), db.registry()
    if name == "all" and fmt != "gpkg":
        raise UnknownLayer(name)
    if name != "all":
        export.check_layer(registry, name, audience)
    crs = _public_crs() if fmt in ("gpkg", "fgb") else None  # GeoJSON and CSV are always WGS84
    bom = fmt == "csv" and request.args.get("bom") in ("1", "true", "yes")
    unchanged = conditional.not_modified(download_cache.data_key(audience), weak=False)
    if unchanged is not None:  # the client holds the current file: nothing is opened or built
        return unchanged
    handle, etag = download_cache.cached_export(name, fmt, crs, bom, audience)
    filename = secure_filename(f"{registry.locality.name.lower()}-{name}.{fmt}")
    response = send_file(
        handle, mimetype=export.MEDIA_TYPES[fmt], as_attachment=True, download_name=filename, etag=etag, conditional=True
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def _public_crs() -> str | None:
    """Return the CRS asked for as ``EPSG:n`` (None: the format's default), or refuse one not offered (400).

    Only the offered systems, spelt one way, so no one can make the server build a file per spelling.
    """
    raw = (request.args.get("crs") or "").strip().upper().removeprefix("EPSG:")
    if not raw:
        return None
    if raw not in PUBLIC_CRS:
        raise ParameterError(
            "crs", "crs ska vara EPSG:3006, EPSG:3008 eller EPSG:4326.", "crs must be EPSG:3006, EPSG:3008 or EPSG:4326."
        )
    return f"EPSG:{raw}"


@bp.errorhandler(ParameterError)
def bad_parameter(error: ParameterError):
    from .errors import error_response

    return error_response(400, "bad_request", error.message(current_language()), field=error.field)


@bp.get(f"/planner/export/<name>.{FORMAT}")
@login_required(role="planner", read_only=True)  # ?contacts=1 needs admin: never a read-only token
def planner_export(name: str, fmt: str):
    """The planner layer; ``?contacts=1`` adds consented contact details, for admins only."""
    wants_contacts = request.args.get("contacts") in ("1", "true", "yes")
    if wants_contacts and not current_user().has_role("admin"):
        return _forbidden()
    audience = export.ADMIN if wants_contacts else export.PLANNER
    return _download(name, fmt, audience, prefix="planner-")


def _forbidden():
    from .errors import error_response, http_message

    return error_response(403, "forbidden", http_message(403))


# ------------------------------------------------------------- admin upload page
@bp.route("/planner/layers", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the upload limit is raised (the global check would read the body first)
@login_required(role="admin")
def upload():
    registry = db.registry()
    if request.method == "POST":
        limit = current_app.config["LAYER_UPLOAD_MAX_BYTES"]
        request.max_content_length = limit + 1024 * 1024  # the file plus the form's few fields
        csrf.protect()
        file = request.files.get("file")
        name = request.form.get("layer", "")
        try:
            if file is None or not file.filename:
                raise layer_import.UnsupportedFile("Välj en fil att ladda upp.", "Choose a file to upload.")
            mapping = layer_import.parse_mapping(line for line in request.form.get("mapping", "").split() if line)
            report = layer_import.upload(
                file.stream,
                file.filename,
                registry,
                name,
                db.engine(),
                crs=request.form.get("crs") or None,
                mapping=mapping,
                source_layer=request.form.get("source_layer") or None,
                limits=db.import_limits(limit),
                workdir=current_app.config["LAYER_OVERRIDE_DIR"],
            )
        except UserError as error:
            flash(error.message(current_language()), "error")
            # A file with several layers: offer them as a choice for the next upload.
            choices = error.details.get("layers") if isinstance(error, layer_import.AmbiguousLayer) else None
            return render_template(
                "layers/upload.html", layers=_layer_rows(registry), report=None, choices=choices, chosen_target=name
            ), 422
        flash(f"{report.layer}: {report.features} objekt importerade / features imported.", "info")
        return render_template("layers/upload.html", layers=_layer_rows(registry), report=report)
    return render_template("layers/upload.html", layers=_layer_rows(registry), report=None)


def _layer_rows(registry) -> list[dict]:
    lang = current_language()
    with db.reading() as conn:
        versions = layer_store.history(conn)
    rows = []
    for layer in registry:
        stored = [v for v in versions if v["layer"] == layer.name]
        rows.append(
            {
                "name": layer.name,
                "title": layer.label(lang),
                "geometry_type": layer.geometry_type,
                "current": stored[0] if stored else None,
                "versions": len(stored),
            }
        )  # earlier imports, and the bundled file behind the first
    return rows
