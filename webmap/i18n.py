"""Language choice (Swedish first, then the locality's other languages) and Flask-Babel wiring.

The language comes from ``?lang=`` (remembered in a cookie), then the cookie, then the
browser's Accept-Language, then the first offered language. Residents are offered the
``LANGUAGES`` setting when it is set, otherwise ``languages`` in ``locality.toml``, otherwise
Swedish and English; each language but Swedish (the msgids) needs a ``messages`` catalogue.
The planner workspace has catalogues in Swedish and English only, so its pages choose among those.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import Flask, request
from flask_babel import Babel, get_locale

from .. import settings

LANG_COOKIE = "lang"
SOURCE_LANGUAGE = "sv"  # the msgids are Swedish
PLANNER_LANGUAGES = ("sv", "en")
# Blueprints whose pages use the planner catalogue; the activity plan is edited there too.
PLANNER_BLUEPRINTS = frozenset({"planner", "auth", "moderation", "activity"})
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale(languages: list[str]) -> str:
    offered = request_languages(languages)
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in offered:
        return chosen
    # In the browser's order of preference, by primary subtag: "ar-SE, en;q=0.5" is Arabic.
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].lower()
        if primary in offered:
            return primary
    return offered[0]


def request_languages(languages: list[str]) -> list[str]:
    """The languages this request's page can be shown in: all offered ones, or sv/en in the planner workspace."""
    if request.blueprint in PLANNER_BLUEPRINTS or request.path.startswith("/planner"):
        return [code for code in languages if code in PLANNER_LANGUAGES] or [SOURCE_LANGUAGE]
    return languages


def current_language() -> str:
    return str(get_locale() or "sv")


def text_direction(lang: str) -> str:
    """Return "rtl" for a right-to-left language (Arabic, Hebrew, Persian, …) by Babel's locale data, else "ltr"."""
    try:
        return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"
    except (ValueError, UnknownLocaleError):
        return "ltr"


def offered_languages(app: Flask, locality_languages: tuple[str, ...]) -> list[str]:
    """The setting's languages if set, else the locality's; refuse one without a resident catalogue."""
    languages = list(app.config["LANGUAGES"] or locality_languages)
    missing = [
        code
        for code in languages
        if code != SOURCE_LANGUAGE and not (TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo").is_file()
    ]
    if missing:
        raise settings.SettingsError(
            f"Invalid settings:\n  languages {', '.join(missing)} have no catalogue "
            f"(webmap/translations/<code>/LC_MESSAGES/messages.po, compiled with pybabel compile)"
        )
    return languages


def init_app(app: Flask) -> None:
    languages = offered_languages(app, app.extensions["dialogkarta.registry"].locality.languages)
    app.config["LANGUAGES"] = languages

    Babel(app, locale_selector=lambda: select_locale(languages))

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen in languages and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def language_context():
        lang = current_language()
        return {"lang": lang, "languages": request_languages(languages), "text_direction": text_direction(lang)}
