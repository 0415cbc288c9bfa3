"""Run by Debian's Python with PyQGIS (never by our venv): ``/usr/bin/python3 probe.py TASK.json RESULT.json``.

TASK is ``{"steps": [{"do": ..., ...}, ...]}``; RESULT is ``{"qgis": version, "steps": [...], "log": [...]}``
with one plain JSON answer per step, so the tests decide and this script only observes. Steps:

- ``layers``: open GeoPackage layers (``path``, ``tables``) and describe each (validity, CRS, count,
  renderer, legend, symbol layers, SVG files found, metadata title and abstract);
- ``render``: draw GeoPackage layers (``path``, ``tables``, ``out``, ``size``) into a PNG and count pixels;
- ``oapif``: open OGC API collections (``url``, ``typenames``, optional ``username``/``password`` through a
  QGIS Basic auth configuration, optional ``page_size``) and describe them;
- ``edit``: change a GeoPackage layer through QGIS's editing buffer (``path``, ``table``, ``id``, ``wkt`` in the
  layer's CRS) and save it;
- ``postgres``: open PostGIS tables or views (``host``, ``port``, ``dbname``, ``user``, ``password``, ``schema``,
  ``tables`` as ``{name: key column}``, geometry column ``geom``) and describe each, with what the provider
  says it may change, and try to add a feature to each.

QGIS's message log (where the OGR provider reports GDAL warnings) is returned as ``log``. The process
ends with ``os._exit`` after writing: QGIS 3.22 can crash on exit after OAPIF layers.
"""

import json
import os
import sys

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsGeometry,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

LOG = []


def _on_message(message, tag, level):
    LOG.append({"tag": tag, "level": int(level), "message": message})


def _symbol_layers(symbol):
    out = []
    for layer in symbol.symbolLayers():
        props = layer.properties()
        entry = {"class": layer.layerType(), "size": props.get("size"), "shape": props.get("name"), "color": layer.color().name()}
        if layer.layerType() == "SvgMarker":
            path = layer.path()
            entry["svg"] = props.get("name")
            entry["svg_file"] = path if os.path.isabs(path) else None
            entry["svg_exists"] = bool(path) and os.path.isfile(path)
        out.append(entry)
    return out


def _renderer(layer):
    renderer = layer.renderer()
    info = {"type": renderer.type(), "attribute": None, "categories": [], "symbols": []}
    if renderer.type() == "categorizedSymbol":
        info["attribute"] = renderer.classAttribute()
        info["categories"] = [
            {"value": c.value(), "label": c.label(), "layers": _symbol_layers(c.symbol())} for c in renderer.categories()
        ]
    else:
        info["symbols"] = [_symbol_layers(s) for s in renderer.symbols(_context())]
    info["legend"] = [item.label() for item in renderer.legendSymbolItems()]
    return info


def _context():
    from qgis.core import QgsRenderContext

    return QgsRenderContext()


def _describe(layer):
    info = {
        "valid": layer.isValid(),
        "crs": layer.crs().authid(),
        "count": layer.featureCount(),
        "fields": [f.name() for f in layer.fields()],
        "geometry": int(layer.geometryType()),
    }
    if not layer.isValid():
        info["error"] = layer.error().summary()
        return info
    metadata = layer.metadata()
    info.update(title=metadata.title(), abstract=metadata.abstract(), renderer=_renderer(layer))
    extent = layer.extent()
    info["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
    return info


def _gpkg(path, table):
    return QgsVectorLayer(f"{path}|layername={table}", table, "ogr")


def step_layers(task):
    out = {}
    for table in task["tables"]:
        layer = _gpkg(task["path"], table)
        info = _describe(layer)
        if layer.isValid():
            # What QGIS itself finds in layer_styles (the default style it applied when opening).
            count, ids, names, descriptions, message = layer.listStylesInDatabase()
            info["styles_in_database"] = {"count": count, "names": names, "descriptions": descriptions}
            if task.get("ids_field"):
                info["ids"] = sorted(str(f[task["ids_field"]]) for f in layer.getFeatures())
        out[table] = info
    return out


def _render(layers, out, size, extent=None, crs=None):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(*size))
    settings.setOutputDpi(96)
    if crs:
        settings.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
    else:
        settings.setDestinationCrs(layers[-1].crs())
    if extent:
        settings.setExtent(QgsRectangle(*extent))
    else:
        box = QgsRectangle()
        box.setMinimal()
        for layer in layers:
            box.combineExtentWith(settings.layerExtentToOutputExtent(layer, layer.extent()))
        box.scale(1.1)
        settings.setExtent(box)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(out, "PNG")
    histogram = _histogram(image)
    total = sum(histogram.values())
    return {
        "path": out,
        "width": image.width(),
        "height": image.height(),
        "painted": 1 - histogram.get(0xFFFFFF, 0) / total,
        "colours": len(histogram),
        "errors": [e.message for e in job.errors()],
        "_histogram": histogram,
    }


def _histogram(image):
    """Pixel counts per 0xRRGGBB colour."""
    from collections import Counter
    from qgis.PyQt.QtGui import QImage

    image = image.convertToFormat(QImage.Format_RGB32)
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    # Format_RGB32 rows have no padding when the width is a whole number of 32-bit pixels (always).
    return Counter(value & 0xFFFFFF for value in memoryview(bytes(bits)).cast("I"))


def _near(histogram, rgb, tolerance=8):
    r, g, b = rgb
    return sum(
        count
        for value, count in histogram.items()
        if abs((value >> 16) - r) <= tolerance
        and abs(((value >> 8) & 255) - g) <= tolerance
        and abs((value & 255) - b) <= tolerance
    )


def step_render(task):
    # QgsMapSettings draws the first layer on top: the tables are given top first.
    layers = [_gpkg(task["path"], table) for table in task["tables"]]
    result = _render(layers, task["out"], task.get("size", (900, 900)), task.get("extent"))
    histogram = result.pop("_histogram")
    result["colour_pixels"] = {name: _near(histogram, rgb) for name, rgb in task.get("colours", {}).items()}
    return result


def _auth_config(username, password):
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        manager.setMasterPassword("dialogkarta-tests", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName(f"dialogkarta {username}")
    config.setConfig("username", username)
    config.setConfig("password", password)
    ok = manager.storeAuthenticationConfig(config)
    return config.id() if ok else None


def step_oapif(task):
    authcfg = ""
    if task.get("username"):
        authcfg = _auth_config(task["username"], task["password"])
        if not authcfg:
            return {"error": "could not store a QGIS auth configuration"}
    out = {}
    for name in task["typenames"]:
        uri = f"url='{task['url']}' typename='{name}'" + (f" authcfg='{authcfg}'" if authcfg else "")
        if task.get("page_size"):
            uri += f" pageSize='{task['page_size']}'"
        layer = QgsVectorLayer(uri, name, "OAPIF")
        info = _describe(layer)
        if layer.isValid():
            features = list(layer.getFeatures(QgsFeatureRequest()))
            info["count_read"] = len(features)
            field = task.get("ids_field", "id")
            info["ids"] = sorted(str(f[field]) for f in features if field in [x.name() for x in f.fields()])
            if task.get("render_out"):
                info["render"] = _render([layer], task["render_out"] + f"-{name}.png", (400, 400))
                info["render"].pop("_histogram")
        out[name] = info
    return out


def step_edit(task):
    layer = _gpkg(task["path"], task["table"])
    if not layer.isValid():
        return {"error": layer.error().summary()}
    request = QgsFeatureRequest().setFilterExpression(f"\"id\" = '{task['id']}'")
    feature = next(layer.getFeatures(request), None)
    if feature is None:
        return {"error": f"no feature with id {task['id']}"}
    layer.startEditing()
    changed = layer.changeGeometry(feature.id(), QgsGeometry.fromWkt(task["wkt"]))
    committed = layer.commitChanges()
    return {"changed": changed, "committed": committed, "errors": layer.commitErrors(), "count": layer.featureCount()}


def step_postgres(task):
    from qgis.core import QgsDataSourceUri, QgsFeature, QgsVectorDataProvider

    out = {}
    for table, key in task["tables"].items():
        uri = QgsDataSourceUri()
        uri.setConnection(task["host"], str(task["port"]), task["dbname"], task["user"], task["password"])
        uri.setDataSource(task.get("schema", "public"), table, "geom", "", key)
        layer = QgsVectorLayer(uri.uri(False), table, "postgres")
        info = _describe(layer)
        if layer.isValid():
            count, ids, names, descriptions, message = layer.listStylesInDatabase()
            info["styles_in_database"] = {"count": count, "names": names, "descriptions": descriptions}
            info["style_name"] = layer.styleManager().currentStyle()
            capabilities = layer.dataProvider().capabilities()
            info["can_add"] = bool(capabilities & QgsVectorDataProvider.AddFeatures)
            info["can_change"] = bool(capabilities & QgsVectorDataProvider.ChangeAttributeValues)
            info["can_delete"] = bool(capabilities & QgsVectorDataProvider.DeleteFeatures)
            feature = QgsFeature(layer.fields())
            feature.setGeometry(QgsGeometry.fromWkt("POINT (13.35 55.66)"))
            info["added"] = layer.dataProvider().addFeatures([feature])[0]
            info["add_error"] = layer.dataProvider().lastError()
            info["count_after_add"] = layer.dataProvider().featureCount()
        out[table] = info
    return out


STEPS = {"layers": step_layers, "render": step_render, "oapif": step_oapif, "edit": step_edit, "postgres": step_postgres}


def main(task_path, result_path):
    with open(task_path, encoding="utf-8") as handle:
        task = json.load(handle)
    app = QgsApplication([], False)
    app.initQgis()
    QgsApplication.messageLog().messageReceived.connect(_on_message)
    results = []
    for step in task["steps"]:
        try:
            results.append(STEPS[step["do"]](step))
        except Exception as exc:  # report, do not crash: the test shows what went wrong
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"qgis": Qgis.version(), "steps": results, "log": LOG}, handle, ensure_ascii=False)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
