"""Error handlers: JSON ``{"error": {"code", "message"}}`` for the API, a kind page elsewhere.

Messages follow the request's language (Swedish by default). Unexpected errors are logged
and answered with a plain 500, never a traceback.
"""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, SecurityError

from ..geo.errors import UserError
from ..layers.registry import UnknownLayer
from .i18n import current_language
from .user_messages import user_message

HTTP_MESSAGES = {
    400: ("Felaktig begäran.", "Bad request."),
    401: ("Du behöver logga in.", "You need to log in."),
    403: ("Du har inte behörighet till detta.", "You are not allowed to do this."),
    404: ("Sidan eller objektet finns inte.", "The page or item does not exist."),
    405: ("Metoden är inte tillåten här.", "The method is not allowed here."),
    413: ("Det du skickade är för stort (högst 64 kB).", "What you sent is too large (at most 64 kB)."),
    415: ("Skicka data som application/json.", "Send data as application/json."),
    422: ("Uppgifterna kunde inte godtas.", "The data could not be accepted."),
    429: ("För många förfrågningar. Vänta en stund och försök igen.", "Too many requests. Wait a moment and try again."),
    500: ("Något gick fel hos oss. Försök igen senare.", "Something went wrong on our side. Try again later."),
}
# Arabic for resident pages and the public API (awaiting review by a native speaker, as the catalogue).
HTTP_MESSAGES_AR = {
    400: "الطلب غير صحيح.",
    401: "عليك تسجيل الدخول.",
    403: "ليس لديك صلاحية للقيام بهذا.",
    404: "الصفحة أو العنصر غير موجود.",
    405: "هذه الطريقة غير مسموح بها هنا.",
    413: "ما أرسلته كبير جدًا (64 كيلوبايت على الأكثر).",
    415: "أرسل البيانات بصيغة application/json.",
    422: "تعذّر قبول البيانات.",
    429: "طلبات كثيرة جدًا. انتظر قليلًا ثم حاول مرة أخرى.",
    500: "حدث خطأ من جهتنا. حاول مرة أخرى لاحقًا.",
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


class BadRequest(Exception):
    """A request that cannot be read (malformed body, wrong type, bad query parameter): answered 400.

    Raised by /api and /ogc alike; the message is already in the request's language, and each
    blueprint answers it in its own shape (the API's envelope, OGC's ``{code, description}``).
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def wants_json() -> bool:
    path = request.path
    return path.startswith(("/api", "/ogc")) or request.accept_mimetypes.best == "application/json"


def http_message(status: int, lang: str | None = None) -> str:
    sv, en = HTTP_MESSAGES.get(status, ("Fel.", "Error."))
    worded = {"sv": sv, "en": en, "ar": HTTP_MESSAGES_AR.get(status, "خطأ.")}
    return worded.get(lang or current_language(), en)


def error_response(status: int, code: str, message: str, **extra):
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, **extra}})
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(UserError)
    def user_error(error: UserError):
        field = error.details.get("field")  # lets a form mark the field at fault
        message = user_message(error, current_language())
        status = getattr(error, "status", 422)  # a few user errors are not 422: a photo too large (413), a cross-site form (403)
        return error_response(status, error.code, message, **({"field": field} if field else {}))

    @app.errorhandler(UnknownLayer)
    def unknown_layer(error: UnknownLayer):
        return error_response(404, "unknown_layer", http_message(404))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if isinstance(error, SecurityError):  # a Host header outside TRUSTED_HOSTS
            sv, en = (
                "Okänd värd i Host-huvudet: servern svarar bara på sina egna adresser.",
                "Unknown host in the Host header: this server answers only on its own addresses.",
            )
            return error_response(400, "untrusted_host", sv if current_language() == "sv" else en)
        if status == 400 and getattr(error, "description", "").startswith("The CSRF"):
            return error_response(400, "csrf", http_message(400) + " (CSRF)")
        response = error_response(status, HTTP_CODES.get(status, "error"), http_message(status))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "server_error", http_message(500))
