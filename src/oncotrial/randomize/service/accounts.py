"""Users, sites and tokens: who is calling, and what their role and site allow.

A :class:`Principal` is the authenticated caller of one request (a plain frozen value, safe to
pass between sessions and threads). Roles (:data:`~.models.ROLES`): ``admin`` manages sites,
users and tokens; ``statistician`` is unblinded (allocation list, export, audit log);
``site`` randomizes and sees the subjects of its own site only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncotrial.errors import InputError
from oncotrial.randomize.service import statements as sql
from oncotrial.randomize.service.audit import append_audit
from oncotrial.randomize.service.errors import Conflict, Forbidden, NotFound, Unauthorized
from oncotrial.randomize.service.models import ROLES, ApiToken, Site, User, utcnow
from oncotrial.randomize.service.schemas import SITE_CODE_PATTERN, USERNAME_PATTERN
from oncotrial.randomize.service.security import (
    check_password,
    hash_password,
    new_token,
    token_digest,
)


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    user_id: int
    username: str
    role: str
    site_id: int | None
    site: str | None

    def require(self, *roles: str) -> None:
        """:class:`Forbidden` unless the user has one of ``roles``."""
        if self.role not in roles:
            raise Forbidden(
                f"role {self.role!r} may not do this; allowed: {', '.join(roles)}",
                role=self.role,
                expected=list(roles),
            )


def principal(user: User, site: Site | None) -> Principal:
    return Principal(user.id, user.username, user.role, user.site_id, site.code if site else None)


def check_username(username: str) -> str:
    if not isinstance(username, str) or not re.fullmatch(USERNAME_PATTERN, username):
        raise InputError(
            f"username: {username!r} is not valid; use 1-64 letters, digits or _ . @ -, "
            "starting with a letter or digit",
            argument="username",
            value=str(username),
        )
    return username


def site_by_code(session: Session, code: str) -> Site | None:
    return session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()


def create_site(session: Session, actor: Principal | str, code: str, name: str) -> Site:
    """Add a site (admin only); audited as ``create_site``."""
    actor_name = _actor(actor, "admin")
    if not re.fullmatch(SITE_CODE_PATTERN, code or ""):
        raise InputError(
            f"site code: {code!r} is not valid; use 1-32 letters, digits or _ . -",
            argument="code",
            value=str(code),
        )
    if site_by_code(session, code) is not None:
        raise Conflict(f"site {code!r} already exists", argument="code", value=code)
    site = Site(code=code, name=name, created_at=utcnow())
    session.add(site)
    session.flush()
    append_audit(
        session,
        actor=actor_name,
        action="create_site",
        entity=f"site:{code}",
        new={"code": code, "name": name},
    )
    return site


def create_user_row(
    session: Session,
    actor_name: str,
    username: str,
    role: str,
    site_code: str | None,
    password: str | None,
) -> User:
    check_username(username)
    if role not in ROLES:
        raise InputError(
            f"role: {role!r} is not valid; choose from {list(ROLES)!r}",
            argument="role",
            value=role,
            expected=list(ROLES),
        )
    site: Site | None = None
    if role == "site":
        if not site_code:
            raise InputError(
                "site: a user with role 'site' needs a site code", argument="site", value=None
            )
        site = site_by_code(session, site_code)
        if site is None:
            raise InputError(
                f"site: {site_code!r} is not a site of this trial; add it first "
                "(POST /api/v1/sites or `oncotrial randomize add-site`)",
                argument="site",
                value=site_code,
            )
    elif site_code:
        raise InputError(
            f"site: role {role!r} is not tied to a site; give a site only for role 'site'",
            argument="site",
            value=site_code,
        )
    if password is not None and len(password) < 8:
        raise InputError(
            "password: too short; use at least 8 characters", argument="password", value="***"
        )
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise Conflict(f"user {username!r} already exists", argument="username", value=username)
    user = User(
        username=username,
        role=role,
        site_id=site.id if site else None,
        password_hash=hash_password(password) if password else None,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    append_audit(
        session,
        actor=actor_name,
        action="create_user",
        entity=f"user:{username}",
        new={"username": username, "role": role, "site": site_code, "password_set": bool(password)},
    )
    return user


def create_user(
    session: Session,
    actor: Principal | str,
    username: str,
    role: str,
    site: str | None = None,
    password: str | None = None,
) -> User:
    """Add a user (admin only); audited as ``create_user`` (the password hash is not logged)."""
    return create_user_row(session, _actor(actor, "admin"), username, role, site, password)


def issue_token(
    session: Session,
    actor: Principal | str,
    username: str,
    label: str = "",
    expires_in_days: int | None = None,
    lifetime: dt.timedelta | None = None,
) -> tuple[str, dt.datetime | None]:
    """A new API token for ``username`` (admins for anyone, other users for themselves).

    Returns ``(token, expires_at)``; the token is shown only here, its SHA-256 is stored.
    """
    if isinstance(actor, Principal) and actor.username != username:
        actor.require("admin")
    actor_name = actor.username if isinstance(actor, Principal) else actor
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(f"user {username!r} does not exist", argument="username", value=username)
    token = new_token()
    now = utcnow()
    if lifetime is None and expires_in_days:
        lifetime = dt.timedelta(days=expires_in_days)
    expires = now + lifetime if lifetime is not None else None
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=token_digest(token),
            label=label,
            created_at=now,
            expires_at=expires,
        )
    )
    append_audit(
        session,
        actor=actor_name,
        action="issue_token",
        entity=f"user:{username}",
        new={"label": label, "expires_at": expires.isoformat() if expires else None},
    )
    return token, expires


def principal_for_token(session: Session, token: str | None) -> Principal:
    """The user a bearer token belongs to, or :class:`Unauthorized`."""
    if not token:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    row = (
        session.connection()
        .execute(sql.TOKEN_PRINCIPAL, {"token_hash": token_digest(token)})
        .first()
    )
    return principal_from_row(row)


def principal_from_row(row: Sequence[Any] | None, *, missing: bool = False) -> Principal:
    """The caller from a row of :data:`~.statements.TOKEN_PRINCIPAL` (revoked_at, expires_at,
    user id, username, role, site id, active, site code), or :class:`Unauthorized`: no token
    (``missing``), unknown, revoked or expired token, deactivated user."""
    if missing:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    if row is None:
        raise Unauthorized("invalid token")
    revoked_at, expires_at, user_id, username, role, site_id, active, site_code = row
    if revoked_at is not None or (expires_at is not None and expires_at <= utcnow()):
        raise Unauthorized("token expired or revoked; ask an admin for a new one")
    if not active:
        raise Unauthorized("user is deactivated")
    return Principal(user_id, username, role, site_id, site_code)


def revoke_token(session: Session, token: str, actor: Principal | str) -> bool:
    """Revoke one API token (sign-out); audited ``logout`` when it was still valid.

    ``actor`` may revoke their own token; an admin any token. Returns whether a valid token
    was revoked (revoking an unknown or already revoked token changes nothing).
    """
    row = session.execute(
        select(ApiToken, User)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_digest(token))
    ).first()
    if row is None:
        return False
    api_token, owner = row
    if isinstance(actor, Principal) and actor.user_id != owner.id:
        actor.require("admin")
    if api_token.revoked_at is not None:
        return False
    api_token.revoked_at = utcnow()
    session.flush()
    actor_name = actor.username if isinstance(actor, Principal) else actor
    append_audit(
        session,
        actor=actor_name,
        action="logout",
        entity=f"user:{owner.username}",
        new={"token_label": api_token.label},
    )
    return True


def authenticate_password(session: Session, username: str, password: str) -> Principal:
    """The user with this username and password, or :class:`Unauthorized` (same message for
    unknown users and wrong passwords)."""
    row = session.execute(
        select(User, Site).outerjoin(Site, User.site_id == Site.id).where(User.username == username)
    ).first()
    if row is None:
        check_password(password, _DUMMY_HASH)  # same work as for a known user: no timing hint
        raise Unauthorized("wrong username or password")
    if not row[0].active or not check_password(password, row[0].password_hash):
        raise Unauthorized("wrong username or password")
    return principal(row[0], row[1])


_DUMMY_HASH = hash_password("not a password")


def _actor(actor: Principal | str, role: str) -> str:
    if isinstance(actor, Principal):
        actor.require(role)
        return actor.username
    return actor
