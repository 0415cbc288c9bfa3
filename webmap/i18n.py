"""Language choice (Swedish first, English too) and Flask-Babel wiring.

The language comes from ``?lang=`` (remembered in a cookie), then the cookie, then the
browser's Accept-Language, then Swedish.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, get_locale

LANG_COOKIE = "lang"


def select_locale(languages: list[str]) -> str:
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    return str(get_locale() or "sv")


def init_app(app: Flask) -> None:
    languages = list(app.config["LANGUAGES"])

    Babel(app, locale_selector=lambda: select_locale(languages))

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen in languages and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def language_context():
        return {"lang": current_language(), "languages": languages}
