"""Modules that load on first use: the heavy scientific libraries stay out of the server's start.

``gpd = lazy_module("geopandas")`` binds a stand-in at once; the first attribute read imports the
real module (through the import system, whose per-module lock makes it thread-safe) and every
read is forwarded to it, so a test's ``monkeypatch`` of the real module is seen too. Thereby
``dialogkarta serve`` answers before geopandas, pandas, scipy, shapely and pyogrio (about a second
of imports) are loaded, and the first request that needs them pays for them once. Type checkers
see the ordinary import (an ``if TYPE_CHECKING:`` branch beside each use).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in for a module that is imported when an attribute is first read."""

    def __getattr__(self, attribute: str) -> Any:
        # Once imported, the module is looked up in sys.modules: import_module costs ten times more.
        module = sys.modules.get(self.__name__) or importlib.import_module(self.__name__)
        return getattr(module, attribute)


def lazy_module(name: str) -> Any:
    """Return a stand-in for module ``name`` that imports it on first use."""
    return LazyModule(name)
