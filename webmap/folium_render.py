"""Stop folium/branca from evaluating rendered map output as a Jinja template a second time.

branca renders each map element's ``script``/``html``/``header`` macro, then wraps the *output*
in ``Element(output)``, whose constructor compiles that text as a new Jinja template, rendered
again when the page is assembled (``MacroElement.render``; folium's ``Layer.render`` and
``Popup.render`` do the same). Any data in the output is therefore evaluated: a tooltip, an
activity title or an imported layer's feature name containing ``{{ 7*7 }}`` shows ``49``, and
``{{ cycler.__init__.__globals__.os.popen(...).read() }}`` runs a command on the server
(server-side template injection); ``{{ x(`` gives a 500.

:func:`install` swaps the ``Element`` those call sites construct for ``RenderedElement``, which
outputs text it is given exactly as it is. ``Element()`` without text (a figure's header, html and
script containers) still renders its children. Every function that builds a map calls it first
(``map.build_map``, ``planner_map.overlay_map`` and ``activity_map``), so folium is imported only
when the first map is drawn, not at start; it is idempotent and :func:`installed` says whether it is in force.
"""

from __future__ import annotations

import branca.element
import folium.features
import folium.map
from branca.element import Element


class RenderedElement(Element):
    """An element whose text is final output, never compiled as a template."""

    def __init__(self, template: str | None = None, template_name: str | None = None):
        super().__init__(template=None, template_name=template_name)
        self._rendered = template

    def render(self, **kwargs) -> str:
        if self._rendered is None:
            return super().render(**kwargs)
        return self._rendered


_PATCHED_MODULES = (branca.element, folium.map, folium.features)


def install() -> None:
    """Make every folium/branca call site build ``RenderedElement`` instead of ``Element``."""
    for module in _PATCHED_MODULES:
        if getattr(module, "Element", None) is Element:
            module.Element = RenderedElement


def installed() -> bool:
    return all(module.Element is RenderedElement for module in _PATCHED_MODULES)
