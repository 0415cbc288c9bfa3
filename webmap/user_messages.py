"""Resident-facing refusals in languages the code does not word itself (Arabic), by error code and field.

``UserError`` carries Swedish and English; a locality may offer more. For the refusals a resident
meets in the proposal form, this table gives the sentence in such a language (without the figures
the Swedish and English ones quote); any other refusal is answered in English. The Arabic awaits
review by a native speaker, as the catalogue does.
"""

from __future__ import annotations

from ..errors import UserError

_ANY = None  # a refusal worded the same whatever field it names

MESSAGES: dict[str, dict[tuple[str, str | None], str]] = {
    "ar": {
        ("missing_category", "category"): "اختر فئة لاقتراحك.",
        ("unknown_category", "category"): "فئة غير معروفة. اختر فئة من القائمة.",
        ("empty", "title"): "لا يجوز أن يكون العنوان فارغًا.",
        ("empty", "description"): "لا يجوز أن يكون الوصف فارغًا.",
        ("too_long", "title"): "العنوان طويل جدًا: 120 حرفًا على الأكثر.",
        ("too_long", "description"): "الوصف طويل جدًا: 2000 حرف على الأكثر.",
        ("too_long", "name"): "الاسم طويل جدًا.",
        ("too_long", "email"): "عنوان البريد الإلكتروني طويل جدًا.",
        ("invalid_text", _ANY): "يحتوي النص على رموز تحكم غير مسموح بها.",
        ("invalid_email", "email"): "لا يبدو عنوان البريد الإلكتروني صحيحًا.",
        (
            "consent_required",
            "consent",
        ): "ضع علامة على الموافقة إذا أردت ترك اسمك أو بريدك الإلكتروني، وإلا فاترك الحقلين فارغين.",
        ("outside_locality", _ANY): "يقع المكان خارج منطقة الحوار. اختر مكانًا داخل الحدود المحددة.",
        ("coordinates_swapped", _ANY): "يبدو أن خط الطول وخط العرض تبادلا مكانيهما. أرسل خط الطول أولًا.",
        ("invalid_geometry", "geometry"): "الشكل المرسوم غير صالح. ارسم الخط أو المنطقة من جديد داخل الحدود المحددة.",
    }
}


def user_message(error: UserError, lang: str) -> str:
    """Return ``error``'s message in ``lang``: its own wording, this table's, or English."""
    if lang in error.messages:
        return error.message(lang)
    table = MESSAGES.get(lang, {})
    field = error.details.get("field")
    return table.get((error.code, field)) or table.get((error.code, _ANY)) or error.message(lang)
