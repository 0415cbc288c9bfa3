"""The resident form pre-set by a workbook's QR code: ``/?area=ID&channel=workbook&round=NAME``.

The parameters are checked here and anything unknown is left out (an unknown area is said so on
the page, never an error): the pin starts inside the named area, and the form sends the channel
``workbook`` and the round, which ``layers.proposals.submit`` checks again.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..layers import workbook
from ..layers.vocabulary import translate


def preset(registry, args, lang: str) -> dict | None:
    """What the page and ``static/js/workbook.js`` need from the query, or None when it asks for nothing."""
    area_id, channel, round_name = args.get("area"), args.get("channel"), args.get("round")
    if not (area_id or channel == workbook.CHANNEL):
        return None
    found: dict = {}
    if area_id:
        anchor = workbook.area_anchor(registry, area_id)
        if anchor is None:
            found["notice"] = _("Området i länken finns inte på kartan. Välj platsen själv.")
        else:
            found["area"] = {"id": area_id, "lon": anchor[0], "lat": anchor[1], "name": anchor[2]}
    if channel == workbook.CHANNEL:
        found["channel"] = workbook.CHANNEL
        round_ = workbook.workbook_config(registry.locality).round(round_name) if round_name else None
        if round_ is not None:
            found["round"] = round_.name
            found["roundTitle"] = translate(round_.title, lang)
    return found
