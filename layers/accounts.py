"""Staff accounts: users with a role, hashed passwords, sessions that can be ended, lock-out, API tokens.

Roles form a hierarchy, ``planner < moderator < admin``: a route that needs ``planner`` admits
all three, one that needs ``moderator`` admits moderators and admins, ``admin`` only admins.
  planner    triage, answer, route, enter proposals on a resident's behalf, edit the activity plan
  moderator  everything a planner does, plus hide and restore proposals
  admin      everything, plus accounts and layers

Passwords are stored as werkzeug scrypt hashes. Each account has a session version that every
session cookie carries; logging out, a new password, a new role and deactivation bump it, which
ends every session of that account at once, on every app server (the version is read from the
store on each request). A new password also revokes the account's API tokens. API tokens (sha256 of a random token shown once)
have a unique name, a scope (``full``: the account's rights; ``read``: the planner's read-only
layers and OGC collections, whatever the account's role), an expiry and can be revoked.

Failed logins are counted per (username, client), whether the name exists or not: after
``max_failures`` in a row that client is refused for that name for ``lockout`` (no hash is
computed meanwhile) while the real user elsewhere logs in as usual. Nothing here knows about Flask.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import UserError
from .schema import api_tokens, login_failures, users
from .store import aware, inserted_id, utcnow

ROLES = ("planner", "moderator", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
SCOPES = ("full", "read")  # read: GET of the planner's layers and OGC collections only
TOKEN_DAYS = 90  # default lifetime; also applies to tokens made before tokens expired
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")  # token names too; never a ':'
PASSWORD_MIN = 10
PASSWORD_METHOD = "scrypt"
# Checked against when the username is unknown, so timing does not reveal which names exist. Written out
# (generate_password_hash("not-a-real-password", method="scrypt"), werkzeug's scrypt parameters) rather
# than computed at import: one scrypt hash is a quarter of a second of the server's start on a busy machine.
_DUMMY_HASH = (
    "scrypt:32768:8:1$FVP9mH83wRZqJlSQ$4f0b9a3588d6bf65498f367583"
    "0cd41f0175ec1a345fe20fcf9f3fd74eea4a3fb11f4ffa7fc5573ace969f37d8a4bbd320757ab804be4a87107a29a1604346a2"
)


class AccountError(UserError):
    """A username, password, role or token that cannot be used; the text says why."""

    code = "invalid_account"


class UnknownAccount(AccountError):
    code = "unknown_account"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    scope: str = "full"  # "read" when the request came with a read-only token

    def has_role(self, required: str) -> bool:
        """Return whether this user may do what ``required`` may; a read-only token never goes past planner."""
        if self.scope != "full" and required != "planner":
            return False
        return role_allows(self.role, required)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str  # ok | invalid | locked
    session_version: int | None = None


@dataclass(frozen=True)
class NewToken:
    name: str
    token: str  # shown once; only its hash is stored
    scope: str
    expires_at: datetime


def role_allows(role: str, required: str) -> bool:
    """Return whether ``role`` may do what ``required`` may (planner < moderator < admin)."""
    if required not in ROLE_RANK:
        raise ValueError(f"unknown role {required!r}; expected one of {ROLES}")
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[required]


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise AccountError(
            f"Lösenordet måste ha minst {PASSWORD_MIN} tecken.", f"The password must have at least {PASSWORD_MIN} characters."
        )


def _check_role(role: str) -> None:
    if role not in ROLE_RANK:
        raise AccountError(
            f"Okänd roll {role!r}; välj en av {', '.join(ROLES)}.", f"Unknown role {role!r}; choose one of {', '.join(ROLES)}."
        )


def _check_name(name: str, what_sv: str, what_en: str) -> None:
    if not isinstance(name, str) or not USERNAME_PATTERN.match(name):
        raise AccountError(
            f"{what_sv} ska ha 2–64 tecken: bokstäver, siffror, . _ @ -",
            f"The {what_en} must have 2-64 characters: letters, digits, . _ @ -",
        )


def _no_user(username: str) -> UnknownAccount:
    return UnknownAccount(f"Det finns inget konto som heter {username!r}.", f"There is no user named {username!r}.")


def create_user(conn: Connection, username: str, password: str, role: str = "planner", now=None) -> User:
    """Create an active account and return it; raise ``AccountError`` for a bad name, password or role."""
    _check_name(username, "Användarnamnet", "username")
    _check_role(role)
    _check_password(password)
    try:
        with conn.begin_nested():
            user_id = inserted_id(
                conn.execute(
                    insert(users).values(
                        username=username,
                        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
                        role=role,
                        active=True,
                        failed_logins=0,
                        created_at=now or utcnow(),
                    )
                )
            )
    except IntegrityError:
        raise AccountError(
            f"Det finns redan ett konto som heter {username!r}.", f"A user named {username!r} already exists."
        ) from None
    return User(user_id, username, role)


def _account(conn: Connection, username: str):
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise _no_user(username)
    return row


def _end_sessions(conn: Connection, user_id: int, **values) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(session_version=users.c.session_version + 1, **values))


def set_password(conn: Connection, username: str, password: str) -> int:
    """Set a new password, end every session of the account, revoke its API tokens and lift its lock-outs.

    A new password is what one sets after a leak, so nothing made with the old one keeps working.
    Return how many tokens were revoked.
    """
    _check_password(password)
    row = _account(conn, username)
    _end_sessions(conn, row.id, password_hash=generate_password_hash(password, method=PASSWORD_METHOD))
    conn.execute(delete(login_failures).where(login_failures.c.username == failure_key(username)))
    return revoke_tokens(conn, username)


def _other_active_admins(conn: Connection, user_id: int) -> int:
    return conn.execute(
        select(func.count()).select_from(users).where(users.c.role == "admin", users.c.active.is_(True), users.c.id != user_id)
    ).scalar_one()


def _keep_an_admin(conn: Connection, row) -> None:
    if row.role == "admin" and row.active and _other_active_admins(conn, row.id) == 0:
        raise AccountError(
            f"{row.username!r} är det sista aktiva administratörskontot; utse en annan administratör först.",
            f"{row.username!r} is the last active admin; make someone else admin first.",
        )


def set_role(conn: Connection, username: str, role: str) -> None:
    """Give the account a new role and end its sessions (the new role applies at the next login)."""
    _check_role(role)
    row = _account(conn, username)
    if role != "admin":
        _keep_an_admin(conn, row)
    _end_sessions(conn, row.id, role=role)


def set_active(conn: Connection, username: str, active: bool) -> None:
    """(De)activate the account; either way its sessions end. An inactive account's tokens stop working."""
    row = _account(conn, username)
    if not active:
        _keep_an_admin(conn, row)
    _end_sessions(conn, row.id, active=active)


def end_sessions(conn: Connection, user_id: int) -> None:
    """End every session of the account (logout means: on all devices)."""
    _end_sessions(conn, user_id)


def user_for_session(conn: Connection, user_id, session_version) -> User | None:
    """Return the active user a session cookie names, or None if it was ended since (or never valid)."""
    if not isinstance(user_id, int) or not isinstance(session_version, int):
        return None
    row = conn.execute(
        select(users).where(users.c.id == user_id, users.c.active.is_(True), users.c.session_version == session_version)
    ).first()
    return User(row.id, row.username, row.role) if row else None


def get_user(conn: Connection, user_id) -> User | None:
    """Return the active user with this id, or None."""
    row = conn.execute(select(users).where(users.c.id == user_id, users.c.active.is_(True))).first()
    return User(row.id, row.username, row.role) if row else None


def list_users(conn: Connection) -> list[dict]:
    return [
        {
            "id": r.id,
            "username": r.username,
            "role": r.role,
            "active": r.active,
            "created_at": aware(r.created_at),
            "last_login_at": aware(r.last_login_at),
        }
        for r in conn.execute(select(users).order_by(users.c.username))
    ]


# ------------------------------------------------------------------------------ passwords
def failure_key(username: str) -> str:
    """How ``login_failures`` stores a typed name: hashed, since people type passwords into the name field too."""
    return hashlib.sha256((username or "").strip().lower().encode("utf-8")).hexdigest()


def authenticate(
    conn: Connection,
    username: str,
    password: str,
    *,
    client: str,
    max_failures: int = 5,
    lockout: timedelta = timedelta(minutes=15),
    now=None,
) -> LoginResult:
    """Check a username and password from ``client`` (an opaque key, e.g. a hash of the address).

    ``max_failures`` wrong answers in a row from one client for one name (known or not) refuse
    that pair for ``lockout`` without computing a hash; other clients are not affected.
    """
    now = now or utcnow()
    name = failure_key(username)
    failed = conn.execute(
        select(login_failures).where(login_failures.c.username == name, login_failures.c.client == client)
    ).first()
    if failed is not None and failed.locked_until is not None and aware(failed.locked_until) > now:
        return LoginResult(None, "locked")
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not row.active:
        check_password_hash(_DUMMY_HASH, password or "")
    elif check_password_hash(row.password_hash, password or ""):
        if failed is not None:
            conn.execute(delete(login_failures).where(login_failures.c.id == failed.id))
        conn.execute(update(users).where(users.c.id == row.id).values(last_login_at=now))
        return LoginResult(User(row.id, row.username, row.role), "ok", row.session_version)
    return LoginResult(None, _count_failure(conn, name, client, failed, now, max_failures, lockout))


def _count_failure(conn: Connection, name, client, failed, now, max_failures, lockout) -> str:
    conn.execute(delete(login_failures).where(login_failures.c.last_failed_at < now - max(lockout, timedelta(days=1))))
    if failed is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(login_failures).values(username=name, client=client, failures=1, last_failed_at=now))
            failures = 1
        except IntegrityError:  # another request from this client inserted it first
            failed = conn.execute(
                select(login_failures).where(login_failures.c.username == name, login_failures.c.client == client)
            ).first()
    if failed is not None:
        ended = (failed.locked_until is not None and aware(failed.locked_until) <= now) or aware(
            failed.last_failed_at
        ) < now - lockout
        where = login_failures.c.id == failed.id
        conn.execute(
            update(login_failures)
            .where(where)
            .values(failures=1 if ended else login_failures.c.failures + 1, last_failed_at=now, locked_until=None)
        )
        failures = conn.execute(select(login_failures.c.failures).where(where)).scalar_one()
    if failures >= max_failures:
        conn.execute(
            update(login_failures)
            .where(login_failures.c.username == name, login_failures.c.client == client)
            .values(locked_until=now + lockout)
        )
        return "locked"
    return "invalid"


# ------------------------------------------------------------------------------ API tokens
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    conn: Connection,
    username: str,
    name: str | None = None,
    *,
    scope: str = "full",
    days: float = TOKEN_DAYS,
    label: str = "",
    now=None,
) -> NewToken:
    """Create an API token for an active user; only its hash is stored, so show ``token`` once."""
    row = conn.execute(select(users.c.id).where(users.c.username == username, users.c.active.is_(True))).first()
    if row is None:
        raise UnknownAccount(
            f"Det finns inget aktivt konto som heter {username!r}.", f"There is no active user named {username!r}."
        )
    if scope not in SCOPES:
        raise AccountError(f"Okänd behörighet {scope!r}; välj full eller read.", f"Unknown scope {scope!r}; choose full or read.")
    if not 0 < days <= 3650:
        raise AccountError("En token gäller mellan 1 och 3650 dagar.", "A token lasts between 1 and 3650 days.")
    name = name or f"{username[:58]}-{secrets.token_hex(2)}"
    _check_name(name, "Tokens namn", "token name")
    now = now or utcnow()
    token = "dk_" + secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=days)
    try:
        with conn.begin_nested():
            conn.execute(
                insert(api_tokens).values(
                    user_id=row.id,
                    token_hash=_token_hash(token),
                    name=name,
                    label=(label or "")[:100],
                    scope=scope,
                    created_at=now,
                    expires_at=expires_at,
                    revoked=False,
                )
            )
    except IntegrityError:
        raise AccountError(f"Det finns redan en token som heter {name!r}.", f"A token named {name!r} already exists.") from None
    return NewToken(name, token, scope, expires_at)


def _expires(row) -> datetime:
    return aware(row.expires_at) or aware(row.created_at) + timedelta(days=TOKEN_DAYS)


def _token_status(row, now) -> str:
    if row.revoked:
        return "revoked"
    return "expired" if _expires(row) <= now else "active"


def list_tokens(conn: Connection, username: str | None = None, now=None) -> list[dict]:
    """Every token (or one user's), newest first, with its status: active, expired or revoked."""
    now = now or utcnow()
    query = (
        select(api_tokens, users.c.username)
        .join(users, users.c.id == api_tokens.c.user_id)
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
    )
    if username is not None:
        query = query.where(users.c.username == username)
    return [
        {
            "id": r.id,
            "name": r.name,
            "username": r.username,
            "scope": r.scope,
            "label": r.label,
            "created_at": aware(r.created_at),
            "expires_at": _expires(r),
            "last_used_at": aware(r.last_used_at),
            "revoked_at": aware(r.revoked_at),
            "status": _token_status(r, now),
        }
        for r in conn.execute(query)
    ]


def revoke_token(conn: Connection, *, name: str | None = None, token_id: int | None = None, now=None) -> None:
    """Revoke one token, by name or id; raise ``UnknownAccount`` if there is none."""
    where = api_tokens.c.name == name if name is not None else api_tokens.c.id == token_id
    result = conn.execute(
        update(api_tokens).where(where, api_tokens.c.revoked.is_(False)).values(revoked=True, revoked_at=now or utcnow())
    )
    if result.rowcount == 0 and conn.execute(select(api_tokens.c.id).where(where)).first() is None:
        label = name if name is not None else f"#{token_id}"
        raise UnknownAccount(f"Det finns ingen token {label}.", f"There is no token {label}.")


def revoke_tokens(conn: Connection, username: str, now=None) -> int:
    """Revoke every token of a user; return how many."""
    ids = select(users.c.id).where(users.c.username == username).scalar_subquery()
    return conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == ids, api_tokens.c.revoked.is_(False))
        .values(revoked=True, revoked_at=now or utcnow())
    ).rowcount


def user_for_token(conn: Connection, token: str, *, name: str | None = None, now=None) -> User | None:
    """Return the user a token belongs to, with the token's scope, or None.

    None when the token is unknown, revoked, expired, its account inactive, or (when ``name`` is
    given, as with HTTP Basic) its name is another.
    """
    if not token or not isinstance(token, str):
        return None
    now = now or utcnow()
    row = conn.execute(
        select(api_tokens, users.c.username, users.c.role)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == _token_hash(token), users.c.active.is_(True))
    ).first()
    if row is None or _token_status(row, now) != "active" or (name is not None and row.name != name):
        return None
    if row.last_used_at is None or aware(row.last_used_at) < now - timedelta(minutes=1):
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now))
    return User(row.user_id, row.username, row.role, row.scope or "full")


def looks_like_token(secret: str) -> bool:
    return isinstance(secret, str) and secret.startswith("dk_")
