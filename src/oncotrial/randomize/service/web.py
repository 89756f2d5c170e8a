"""The server-rendered web page of the randomization service (Jinja2, plain HTML forms, no JS).

A site user signs in with username and password, randomizes a subject of their own site
(site, stratification factors as select boxes, eligibility answers when the spec has
criteria) and sees their site's randomized subjects. Every action goes through the same
service functions as the JSON API (:class:`~.core.RandomizationService`), so roles, site
checks, concealment, idempotency and the audit trail are identical.

Sessions and CSRF (OWASP Session Management and CSRF Prevention cheat sheets):

* Signing in calls :meth:`~.core.RandomizationService.login`, which checks the scrypt
  password hash and issues a 12-hour API token (stored hashed, audited). The token is the
  session: cookie ``oncotrial_session``, ``HttpOnly``, ``SameSite=Strict``, ``Path=/``,
  ``Secure`` when served over HTTPS. Signing out revokes the token (audited ``logout``), so
  a stolen cookie stops working at once.
* Every form of a signed-in page carries ``csrf_token = HMAC-SHA256(session token,
  "oncotrial-csrf")``: only a page that can read the (HttpOnly) cookie's value, i.e. this
  server, can produce it. The sign-in form uses a double-submit cookie
  (``oncotrial_login_csrf``, random per visit).
* Pages are sent with ``Cache-Control: no-store`` and a Content-Security-Policy that allows
  no scripts, no frames and form posts to this origin only.

Concealment: the page shows a site user only what the API shows them (arm and randomization
number of their own site's subjects, arms hidden while blinded); error messages are the
service's, which never reveal the list or another site's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from oncotrial.errors import OncotrialError
from oncotrial.randomize.service.accounts import Principal
from oncotrial.randomize.service.core import RandomizationService
from oncotrial.randomize.service.errors import Ineligible, Unauthorized
from oncotrial.randomize.service.schemas import RandomizationRequest

SESSION_COOKIE = "oncotrial_session"
LOGIN_CSRF_COOKIE = "oncotrial_login_csrf"
SESSION_SECONDS = 12 * 3600
"""Cookie lifetime; equals the lifetime of the token that :meth:`login` issues."""
WEB_TOKEN_LABEL = "web session"

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)

_templates = Environment(
    loader=PackageLoader("oncotrial.randomize.service", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# --------------------------------------------------------------------------- sessions


def csrf_for(session_token: str) -> str:
    """The CSRF token bound to a session: HMAC-SHA256 keyed by the session token."""
    return hmac.new(session_token.encode(), b"oncotrial-csrf", hashlib.sha256).hexdigest()


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def revoke_session(service: RandomizationService, token: str, user: Principal) -> None:
    """Revoke a web-session token (sign-out), audited as ``logout``
    (:meth:`~.core.RandomizationService.revoke_token`)."""
    service.revoke_token(token, user)


def _service(request: Request) -> RandomizationService:
    service: RandomizationService = request.app.state.service
    return service


@dataclass(frozen=True)
class _Session:
    token: str
    user: Principal

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)


async def _current(request: Request) -> _Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        user = await run_in_threadpool(_service(request).principal_for_token, token)
    except Unauthorized:
        return None
    return _Session(token, user)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


# --------------------------------------------------------------------------- rendering


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    service = _service(request)
    html = _templates.get_template(template).render(
        trial_id=service.config.spec.trial.id, prefix="", **context
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


@dataclass(frozen=True)
class _Question:
    """One eligibility answer the form asks for (a subject attribute used by a rule)."""

    name: str
    label: str
    type: str
    unit: str | None
    levels: tuple[str, ...]


def _questions(service: RandomizationService) -> list[_Question]:
    """Attributes the eligibility rules read, in the spec's attribute order."""
    spec = service.config.spec
    used = {name for c in service.config.criteria for name in c.rule.names}
    return [
        _Question(
            a.name,
            a.description or a.name.replace("_", " ").capitalize(),
            a.type,
            a.unit,
            tuple(a.levels or ()),
        )
        for a in spec.subject_attributes
        if a.name in used
    ]


def _factors(service: RandomizationService) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "label": f.label, "levels": list(f.levels)}
        for f in service.config.spec.stratification
    ]


def _format_time(iso: str) -> str:
    when = dt.datetime.fromisoformat(iso).astimezone(dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _row(subject: Mapping[str, Any]) -> dict[str, Any]:
    arm = subject.get("arm_label") or subject.get("arm")
    return {
        "subject_id": subject["subject_id"],
        "site": subject["site"],
        "randno": subject["randomization_number"],
        "arm_label": arm if arm is not None else "blinded",
        "strata": dict(subject.get("strata") or {}),
        "randomized_at": _format_time(subject["randomized_at"]),
    }


def _site_page(
    request: Request,
    session: _Session,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    error_title: str | None = None,
    result: dict[str, Any] | None = None,
) -> HTMLResponse:
    service = _service(request)
    user = session.user
    is_site = user.role == "site"
    subjects = [_row(s) for s in reversed(service.list_subjects(user))] if is_site else []
    sites = service.list_sites(user) if is_site else []
    return _render(
        request,
        "site.html",
        status,
        user={"username": user.username, "site_code": user.site},
        csrf_token=session.csrf,
        idempotency_key=str(uuid.uuid4()),
        sites=sites,
        factors=_factors(service),
        questions=_questions(service),
        form=form or {"subject_id": "", "site": user.site, "factors": {}, "answers": {}},
        errors=errors,
        error_title=error_title,
        result=result,
        subjects=subjects,
        site_caption=f"site {user.site}" if is_site else "your account",
    )


# --------------------------------------------------------------------------- routes


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, done: str | None = None) -> Response:
    """The site page (sign-in page when not signed in)."""
    session = await _current(request)
    if session is None:
        return _redirect("/login")
    result = None
    if done and session.user.role == "site":
        try:
            subject = await run_in_threadpool(_service(request).get_subject, session.user, done)
            result = _row(subject)
        except OncotrialError:
            result = None
    return await run_in_threadpool(_site_page, request, session, result=result)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if await _current(request) is not None:
        return _redirect("/")
    return _login_page(request)


def _login_page(
    request: Request, *, error: str | None = None, username: str = "", status: int = 200
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = _render(
        request, "login.html", status, user=None, csrf_token=nonce, error=error, username=username
    )
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, nonce, 3600)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    if not _same(str(form.get("csrf_token", "")), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(
            request,
            error="The sign-in form expired or came from another page; please sign in again.",
            username=username,
            status=403,
        )
    if not username or not password:
        return _login_page(
            request, error="Enter your user name and password.", username=username, status=422
        )
    service = _service(request)
    try:
        token = await run_in_threadpool(service.login, username, password, WEB_TOKEN_LABEL)
    except Unauthorized:
        return _login_page(
            request, error="Wrong user name or password.", username=username, status=401
        )
    response = _redirect("/")
    _set_cookie(response, request, SESSION_COOKIE, token, SESSION_SECONDS)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = await _current(request)
    form = await request.form()
    if session is not None:
        if not _same(str(form.get("csrf_token", "")), session.csrf):
            return await run_in_threadpool(
                _site_page,
                request,
                session,
                status=403,
                errors=["The form expired; please try again."],
                error_title="You were not signed out.",
            )
        await run_in_threadpool(revoke_session, _service(request), session.token, session.user)
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _form_values(form: Mapping[str, Any], factor_names: list[str]) -> dict[str, Any]:
    factors = {n: str(form.get(f"factor.{n}", "")) for n in factor_names}
    answers = {k.removeprefix("elig."): str(v) for k, v in form.items() if k.startswith("elig.")}
    return {
        "subject_id": str(form.get("subject_id", "")).strip(),
        "site": str(form.get("site", "")),
        "factors": factors,
        "answers": answers,
    }


def _validation_errors(exc: ValidationError) -> list[str]:
    names = {"subject_id": "Subject ID", "site": "Site"}
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        field = names.get(loc[0], ".".join(loc)) if loc else "form"
        if e.get("type") == "string_pattern_mismatch" and loc and loc[0] == "subject_id":
            out.append(
                "Subject ID: use 1-64 letters, digits, '_', '.' or '-', starting with a "
                "letter or digit."
            )
        else:
            out.append(f"{field}: {e.get('msg', 'invalid')}.")
    return out


def _randomize(
    request: Request, session: _Session, form: Mapping[str, Any], key: str | None
) -> Response:
    service = _service(request)
    values = _form_values(form, [f["name"] for f in _factors(service)])
    missing = [f["label"] for f in _factors(service) if not values["factors"][f["name"]]]
    if not values["subject_id"] or missing:
        errors = ["Subject ID: enter the subject's identifier."] if not values["subject_id"] else []
        errors += [f"{label}: choose a level." for label in missing]
        return _site_page(request, session, status=422, form=values, errors=errors)
    answers: dict[str, Any] | None = None
    if _questions(service):
        answers = {k: (v if v.strip() else None) for k, v in values["answers"].items()}
    try:
        body = RandomizationRequest(
            subject_id=values["subject_id"],
            site=values["site"],
            strata=values["factors"],
            eligibility=answers,
        )
        outcome = service.randomize(session.user, body, key or None)
    except ValidationError as exc:
        return _site_page(request, session, status=422, form=values, errors=_validation_errors(exc))
    except Ineligible as exc:
        criteria = exc.details.get("criteria") or []
        verdict = exc.details.get("verdict")
        title = (
            "The subject is not eligible and was not randomized. Failing criteria:"
            if verdict == "not_eligible"
            else "The subject was not randomized: these criteria cannot be checked "
            "from the answers given (answer every question):"
        )
        errors = [f"{c['id']}: {c['text']}" for c in criteria] or [exc.message]
        return _site_page(
            request, session, status=422, form=values, errors=errors, error_title=title
        )
    except OncotrialError as exc:
        from oncotrial.randomize.service.errors import status_for

        return _site_page(
            request, session, status=status_for(exc), form=values, errors=[exc.message]
        )
    return _redirect(f"/?done={quote(str(outcome.body['subject_id']))}")


@router.post("/randomize", response_class=HTMLResponse)
async def randomize(request: Request) -> Response:
    session = await _current(request)
    if session is None:
        return _redirect("/login")
    form = await request.form()
    if not _same(str(form.get("csrf_token", "")), session.csrf):
        return await run_in_threadpool(
            _site_page,
            request,
            session,
            status=403,
            errors=["The form expired or came from another page; nothing was done. Try again."],
        )
    key = str(form.get("idempotency_key", "")) or None
    return await run_in_threadpool(_randomize, request, session, dict(form), key)
