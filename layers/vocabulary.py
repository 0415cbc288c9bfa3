"""The workflow's words, defined once: statuses, channels, roles and activity kinds in Swedish and English.

Every label a page, export, report or QGIS style shows for one of these values comes from here,
and every ``{sv = ..., en = ...}`` structure (these, and the locality's categories, service kinds
and area statuses) is resolved by :func:`translate`, so no caller writes a language fallback.
"""

from __future__ import annotations

from collections.abc import Mapping

Labels = Mapping[str, str]
DEFAULT_LANGUAGE = "sv"

PROPOSAL_STATUSES: dict[str, Labels] = {
    "received": {"sv": "Mottaget", "en": "Received"},
    "forwarded": {"sv": "Skickat vidare", "en": "Forwarded"},
    "under_consideration": {"sv": "Under behandling", "en": "Under consideration"},
    "planned": {"sv": "Planerat", "en": "Planned"},
    "done": {"sv": "Genomfört", "en": "Done"},
    "declined": {"sv": "Avslaget", "en": "Declined"},
}
CHANNELS: dict[str, Labels] = {
    "web": {"sv": "Webb", "en": "Web"},
    "open_meeting": {"sv": "Öppet möte", "en": "Open meeting"},
    "focus_group": {"sv": "Fokusgrupp", "en": "Focus group"},
    "survey": {"sv": "Enkät", "en": "Survey"},
    "workbook": {"sv": "Arbetsbok", "en": "Workbook"},
    "phone": {"sv": "Telefon", "en": "Phone"},
}
ROLES: dict[str, Labels] = {
    "resident": {"sv": "invånare", "en": "resident"},
    "planner": {"sv": "handläggare", "en": "planner"},
    "moderator": {"sv": "moderator", "en": "moderator"},
    "admin": {"sv": "administratör", "en": "administrator"},
    "system": {"sv": "systemet", "en": "the system"},
}
ACTIVITY_KINDS: dict[str, Labels] = {
    "open_meeting": {"sv": "Öppet möte", "en": "Open meeting"},
    "focus_group": {"sv": "Fokusgrupp", "en": "Focus group"},
    "walk": {"sv": "Vandring", "en": "Walk"},
    "survey": {"sv": "Enkät", "en": "Survey"},
    "workbook_round": {"sv": "Arbetsboksomgång", "en": "Workbook round"},
    "initiative": {"sv": "Initiativ", "en": "Initiative"},
}
ACTIVITY_STATUSES: dict[str, Labels] = {
    "planned": {"sv": "Planerad", "en": "Planned"},
    "ongoing": {"sv": "Pågår", "en": "Ongoing"},
    "done": {"sv": "Genomförd", "en": "Done"},
    "cancelled": {"sv": "Inställd", "en": "Cancelled"},
}

TOKEN_SCOPES: dict[str, Labels] = {
    "full": {"sv": "samma rättigheter som kontot", "en": "the account's own rights"},
    "read": {"sv": "endast läsa lager och OGC", "en": "read layers and OGC only"},
}
TOKEN_STATUSES: dict[str, Labels] = {
    "active": {"sv": "giltig", "en": "valid"},
    "expired": {"sv": "utgången", "en": "expired"},
    "revoked": {"sv": "återkallad", "en": "revoked"},
}


def translate(value: Labels | str | None, lang: str, default: str = "") -> str:
    """Return ``value`` in ``lang``, or in Swedish if that language is missing.

    A plain string is already in its one language and comes back unchanged; ``None``, or a mapping
    with neither language, gives ``default``.
    """
    if value is None:
        return default
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get(DEFAULT_LANGUAGE) or default


def label(vocabulary: Mapping[str, Labels], key: str, lang: str) -> str:
    """Return the label of ``key`` in ``vocabulary`` (e.g. ``PROPOSAL_STATUSES``), or the key itself if unknown."""
    return translate(vocabulary.get(key), lang, default=key)


def labels(vocabulary: Mapping[str, Labels], lang: str) -> dict[str, str]:
    """Every key of ``vocabulary`` with its label in ``lang``, in declaration order."""
    return {key: translate(value, lang, default=key) for key, value in vocabulary.items()}
