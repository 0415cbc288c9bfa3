"""The workflow's words, defined once: statuses, channels, roles and activity kinds in Swedish and English.

Every label a page, export, report or QGIS style shows for one of these values comes from here,
and every ``{sv = ..., en = ...}`` structure (these, and the locality's categories, service kinds
and area statuses) is resolved by :func:`translate`, so no caller writes a language fallback.
What residents see (statuses and channels) is in Arabic too; a language a mapping lacks falls back
to English, then Swedish. The Arabic awaits review by a native speaker (see the README).
"""

from __future__ import annotations

from collections.abc import Mapping

Labels = Mapping[str, str]
DEFAULT_LANGUAGE = "sv"
FALLBACK_LANGUAGE = "en"  # what a reader of a language we lack most likely reads

PROPOSAL_STATUSES: dict[str, Labels] = {
    "received": {"sv": "Mottaget", "en": "Received", "ar": "تم الاستلام"},
    "forwarded": {"sv": "Skickat vidare", "en": "Forwarded", "ar": "أُحيل"},
    "under_consideration": {"sv": "Under behandling", "en": "Under consideration", "ar": "قيد الدراسة"},
    "planned": {"sv": "Planerat", "en": "Planned", "ar": "مُخطَّط له"},
    "done": {"sv": "Genomfört", "en": "Done", "ar": "نُفِّذ"},
    "declined": {"sv": "Avslaget", "en": "Declined", "ar": "مرفوض"},
}
CHANNELS: dict[str, Labels] = {
    "web": {"sv": "Webb", "en": "Web", "ar": "الموقع الإلكتروني"},
    "open_meeting": {"sv": "Öppet möte", "en": "Open meeting", "ar": "اجتماع مفتوح"},
    "focus_group": {"sv": "Fokusgrupp", "en": "Focus group", "ar": "مجموعة نقاش"},
    "survey": {"sv": "Enkät", "en": "Survey", "ar": "استبيان"},
    "workbook": {"sv": "Arbetsbok", "en": "Workbook", "ar": "كرّاسة العمل"},
    "phone": {"sv": "Telefon", "en": "Phone", "ar": "الهاتف"},
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

# The account changes in the audit log (layers/account_audit.py), as the accounts page names them.
ACCOUNT_ACTIONS: dict[str, Labels] = {
    "account_create": {"sv": "konto skapat", "en": "account created"},
    "account_role": {"sv": "ny roll", "en": "new role"},
    "account_active": {"sv": "konto aktiverat", "en": "account activated"},
    "account_inactive": {"sv": "konto inaktiverat", "en": "account deactivated"},
    "account_password": {"sv": "nytt lösenord", "en": "new password"},
    "token_create": {"sv": "token skapad", "en": "token created"},
    "token_revoke": {"sv": "token återkallad", "en": "token revoked"},
}

# The vocabularies residents read (the map, the form, the permalink, the public API's labels):
# each entry must carry every resident language (tests/test_vocabulary.py).
RESIDENT_VOCABULARIES: dict[str, Mapping[str, Labels]] = {"statuses": PROPOSAL_STATUSES, "channels": CHANNELS}


def translate(value: Labels | str | None, lang: str, default: str = "") -> str:
    """Return ``value`` in ``lang``, or in English, then Swedish, if that language is missing.

    Swedish, the default, falls back to nothing but ``default``. A plain string is already in its
    one language and comes back unchanged; ``None``, or a mapping with none of these languages,
    gives ``default``.
    """
    if value is None:
        return default
    if isinstance(value, str):
        return value
    fallbacks = (lang, FALLBACK_LANGUAGE, DEFAULT_LANGUAGE) if lang != DEFAULT_LANGUAGE else (DEFAULT_LANGUAGE,)
    return next((value[code] for code in fallbacks if value.get(code)), default)


def label(vocabulary: Mapping[str, Labels], key: str, lang: str) -> str:
    """Return the label of ``key`` in ``vocabulary`` (e.g. ``PROPOSAL_STATUSES``), or the key itself if unknown."""
    return translate(vocabulary.get(key), lang, default=key)


def labels(vocabulary: Mapping[str, Labels], lang: str) -> dict[str, str]:
    """Every key of ``vocabulary`` with its label in ``lang``, in declaration order."""
    return {key: translate(value, lang, default=key) for key, value in vocabulary.items()}
