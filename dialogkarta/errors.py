"""The root of every error a resident or planner can act on, worded in Swedish and English.

Each error carries a machine-readable ``code`` and a message per language. ``str(error)`` gives
the Swedish text followed by the English, so a log line or a CLI message is readable to both.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with input, explained so that the person who sent it can fix it."""

    code = "invalid_input"

    def __init__(self, sv: str, en: str, **details):
        self.messages = {"sv": sv, "en": en}
        self.details = details
        super().__init__(f"{sv} / {en}")

    def message(self, lang: str = "sv") -> str:
        """The message in ``lang``; in English for a language it is not worded in (Arabic, say)."""
        return self.messages.get(lang, self.messages["en"])
