"""Staff accounts: users with a role, hashed passwords, lock-out, and API tokens.

Roles form a hierarchy, ``planner < moderator < admin``: a route that needs ``planner`` admits
all three, one that needs ``moderator`` admits moderators and admins, ``admin`` only admins.
  planner    triage, answer, route, enter proposals on a resident's behalf, edit the activity plan
  moderator  everything a planner does, plus hide and restore proposals
  admin      everything, plus accounts and layers

Passwords are stored as werkzeug scrypt hashes; API tokens as sha256 of a random token shown
once. After ``max_failures`` wrong passwords in a row an account is locked for ``lockout``;
while locked even the right password is refused. Nothing here knows about Flask.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .schema import api_tokens, users
from .store import aware, utcnow

ROLES = ("planner", "moderator", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
PASSWORD_MIN = 10
PASSWORD_METHOD = "scrypt"
# Checked against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


class AccountError(ValueError):
    """A username, password, role or token that cannot be used; the text says why."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str

    def has_role(self, required: str) -> bool:
        return role_allows(self.role, required)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str  # ok | invalid | locked
    locked_until: datetime | None = None


def role_allows(role: str, required: str) -> bool:
    """Return whether ``role`` may do what ``required`` may (planner < moderator < admin)."""
    if required not in ROLE_RANK:
        raise ValueError(f"unknown role {required!r}; expected one of {ROLES}")
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[required]


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise AccountError(f"password must have at least {PASSWORD_MIN} characters")


def _check_role(role: str) -> None:
    if role not in ROLE_RANK:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def create_user(conn, username: str, password: str, role: str = "planner", now=None) -> User:
    """Create an active account and return it; raise ``AccountError`` for a bad name, password or role."""
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise AccountError("username must be 2-64 characters: letters, digits, . _ @ -")
    _check_role(role)
    _check_password(password)
    try:
        with conn.begin_nested():
            user_id = conn.execute(insert(users).values(
                username=username, password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
                role=role, active=True, failed_logins=0, created_at=now or utcnow(),
            )).inserted_primary_key[0]
    except IntegrityError:
        raise AccountError(f"a user named {username!r} already exists") from None
    return User(user_id, username, role)


def set_password(conn, username: str, password: str) -> None:
    _check_password(password)
    result = conn.execute(update(users).where(users.c.username == username).values(
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD), failed_logins=0, locked_until=None))
    if result.rowcount == 0:
        raise AccountError(f"no user named {username!r}")


def set_role(conn, username: str, role: str) -> None:
    _check_role(role)
    if conn.execute(update(users).where(users.c.username == username).values(role=role)).rowcount == 0:
        raise AccountError(f"no user named {username!r}")


def set_active(conn, username: str, active: bool) -> None:
    if conn.execute(update(users).where(users.c.username == username).values(active=active)).rowcount == 0:
        raise AccountError(f"no user named {username!r}")


def get_user(conn, user_id) -> User | None:
    """Return the active user with this id, or None."""
    if not isinstance(user_id, int):
        return None
    row = conn.execute(select(users).where(users.c.id == user_id, users.c.active.is_(True))).first()
    return User(row.id, row.username, row.role) if row else None


def list_users(conn) -> list[dict]:
    return [
        {"id": r.id, "username": r.username, "role": r.role, "active": r.active,
         "locked_until": aware(r.locked_until), "last_login_at": aware(r.last_login_at)}
        for r in conn.execute(select(users).order_by(users.c.username))
    ]


def authenticate(conn, username: str, password: str, *, max_failures: int = 5,
                 lockout: timedelta = timedelta(minutes=15), now=None) -> LoginResult:
    """Check a username and password, counting failures and locking the account after ``max_failures``."""
    now = now or utcnow()
    row = conn.execute(select(users).where(users.c.username == (username or ""))).first()
    if row is None or not row.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return LoginResult(None, "invalid")
    locked_until = aware(row.locked_until)
    if locked_until is not None and locked_until > now:
        return LoginResult(None, "locked", locked_until)
    if check_password_hash(row.password_hash, password or ""):
        conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None, last_login_at=now))
        return LoginResult(User(row.id, row.username, row.role), "ok")
    failures = (row.failed_logins or 0) + 1
    if failures >= max_failures:
        until = now + lockout
        conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=until))
        return LoginResult(None, "locked", until)
    conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=failures))
    return LoginResult(None, "invalid")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn, username: str, label: str = "", now=None) -> str:
    """Create an API token for a user and return it; only its hash is stored, so show it once."""
    row = conn.execute(select(users.c.id).where(users.c.username == username, users.c.active.is_(True))).first()
    if row is None:
        raise AccountError(f"no active user named {username!r}")
    token = "dk_" + secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(user_id=row.id, token_hash=_token_hash(token), label=label[:100],
                                           created_at=now or utcnow(), revoked=False))
    return token


def revoke_tokens(conn, username: str) -> int:
    """Revoke every token of a user; return how many."""
    ids = select(users.c.id).where(users.c.username == username).scalar_subquery()
    return conn.execute(update(api_tokens).where(api_tokens.c.user_id == ids).values(revoked=True)).rowcount


def user_for_token(conn, token: str, now=None) -> User | None:
    """Return the active user a bearer token belongs to, or None (unknown, revoked, inactive)."""
    if not token or not isinstance(token, str):
        return None
    row = conn.execute(
        select(api_tokens.c.id, users.c.id.label("user_id"), users.c.username, users.c.role)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == _token_hash(token), api_tokens.c.revoked.is_(False), users.c.active.is_(True))
    ).first()
    if row is None:
        return None
    conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now or utcnow()))
    return User(row.user_id, row.username, row.role)
