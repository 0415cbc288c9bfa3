"""Routing a proposal to the responsible municipal department, from the locality's table."""

from __future__ import annotations

from dataclasses import dataclass

from .locality import RoutingRule


@dataclass(frozen=True)
class Routing:
    department: str
    also: tuple[str, ...] = ()


def _matches(rule: RoutingRule, category: str, area_ids, distances: dict) -> bool:
    if rule.category is not None and rule.category != category:
        return False
    if rule.in_area is True and not area_ids:
        return False
    if isinstance(rule.in_area, str) and rule.in_area not in area_ids:
        return False
    if rule.near_kind is not None:
        distance = distances.get(rule.near_kind)
        if distance is None or rule.within_m is None or distance > rule.within_m:
            return False
    return True


def route(rules, default_department: str, category: str, area_ids=(), distances=None) -> Routing:
    """Return the responsible department and the departments to inform as well.

    ``distances`` maps a service kind to the metres to its nearest service. The first matching
    rule without ``also`` decides; every matching ``also`` rule adds a department to inform.
    """
    distances = distances or {}
    matching = [rule for rule in rules if _matches(rule, category, tuple(area_ids), distances)]
    department = next((rule.department for rule in matching if not rule.also), default_department)
    also = tuple(dict.fromkeys(r.department for r in matching if r.also and r.department != department))
    return Routing(department, also)
