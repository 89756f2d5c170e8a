"""The JSON API under ``/api/v1`` (bearer-token auth; every request authorised by role and site).

Errors are ``{"error": {"type", "message", ...}}`` with 400 (malformed JSON), 401, 403, 404,
409 or 422 (see :mod:`.errors`); a request that fails writes nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncotrial.errors import OncotrialError, describe_value
from oncotrial.randomize.service.accounts import Principal
from oncotrial.randomize.service.core import RandomizationService
from oncotrial.randomize.service.errors import status_for
from oncotrial.randomize.service.schemas import (
    SUBJECT_ID_PATTERN,
    USERNAME_PATTERN,
    AllocationListOut,
    AssignmentOut,
    AuditPage,
    ErrorOut,
    LoginIn,
    MeOut,
    RandomizationRequest,
    SiteIn,
    SiteOut,
    SubjectList,
    TokenIn,
    TokenOut,
    TrialOut,
    UnblindRequest,
    UserIn,
    UserOut,
)

PREFIX = "/api/v1"

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer ot_...`")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "Malformed request"),
        (401, "Missing or invalid token"),
        (403, "Role or site does not allow this"),
        (404, "Not found (or not visible to this user)"),
        (409, "Conflict with the database state"),
        (422, "Invalid input"),
    )
}


async def get_service(request: Request) -> RandomizationService:
    """The app's service (async: FastAPI runs it on the event loop, no thread hop)."""
    service: RandomizationService = request.app.state.service
    return service


ServiceDep = Annotated[RandomizationService, Depends(get_service)]


def current_user(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>`` (401 otherwise)."""
    token = credentials.credentials if credentials is not None else None
    return service.principal_for_token(token)


UserDep = Annotated[Principal, Depends(current_user)]
SubjectId = Annotated[str, Path(pattern=SUBJECT_ID_PATTERN, max_length=64)]

router = APIRouter(prefix=PREFIX, responses=ERRORS)


@router.get("/health", tags=["service"])
def health(service: ServiceDep) -> dict[str, str]:
    """Liveness: the app runs and the trial is loaded (no authentication)."""
    return {"status": "ok", "trial": service.config.spec.trial.id}


@router.post("/auth/token", response_model=TokenOut, tags=["auth"])
def login(body: LoginIn, service: ServiceDep) -> dict[str, Any]:
    """Exchange username and password for a 12-hour token (audited)."""
    token = service.login(body.username, body.password)
    return {"token": token, "username": body.username, "label": "login", "expires_at": None}


@router.get("/me", response_model=MeOut, tags=["auth"])
def me(user: UserDep) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "site": user.site}


@router.get("/trial", response_model=TrialOut, tags=["trial"])
def trial(user: UserDep, service: ServiceDep) -> dict[str, Any]:
    """Arms, stratification factors and levels, eligibility attributes (no list, no seed)."""
    return service.trial_info(user)


@router.post(
    "/randomizations", response_model=AssignmentOut, status_code=201, tags=["randomization"]
)
def randomize(
    body: RandomizationRequest,
    user: UserDep,
    service: ServiceDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Retry-safe key: the same key and body return the first answer; the "
            "same key with another body is refused (409)",
        ),
    ] = None,
) -> Response:
    """Randomize a subject of the caller's site: arm and randomization number.

    Well-formed requests are answered by :class:`RandomizeFastPath` (same answers, less CPU);
    this route documents the operation and answers the others (authentication first, as
    for every route, then FastAPI's validation errors).
    """
    outcome = service.randomize(user, body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get("/subjects", response_model=SubjectList, tags=["randomization"])
def subjects(user: UserDep, service: ServiceDep) -> dict[str, Any]:
    """Randomized subjects (site users: their own site only)."""
    return {"subjects": service.list_subjects(user)}


@router.get("/subjects/{subject_id}", response_model=AssignmentOut, tags=["randomization"])
def subject(subject_id: SubjectId, user: UserDep, service: ServiceDep) -> dict[str, Any]:
    return service.get_subject(user, subject_id)


@router.post("/subjects/{subject_id}/unblind", response_model=AssignmentOut, tags=["randomization"])
def unblind(
    subject_id: SubjectId, body: UnblindRequest, user: UserDep, service: ServiceDep
) -> dict[str, Any]:
    """Emergency unblinding of one subject, with a reason (audited)."""
    return service.unblind(user, subject_id, body.reason)


@router.get("/allocation-list", response_model=AllocationListOut, tags=["statistician"])
def allocation_list(user: UserDep, service: ServiceDep) -> dict[str, Any]:
    """The whole allocation list, its parameters and fingerprint (statistician; audited)."""
    return service.allocation_list(user)


@router.get(
    "/export",
    tags=["statistician"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def export(
    user: UserDep,
    service: ServiceDep,
    format: Annotated[Literal["csv", "parquet"], Query()] = "csv",
) -> Response:
    """Assignments with CDISC names (USUBJID, SITEID, ARMCD, ARM, RANDDT, RANDNO, strata)."""
    data = service.export_bytes(user, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/vnd.apache.parquet"
    name = f"{service.config.spec.trial.id.lower()}_randomization.{format}"
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/audit", response_model=AuditPage, tags=["audit"])
def audit(
    user: UserDep,
    service: ServiceDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Audit records with seq > ``after`` (admin, statistician)."""
    return service.audit_records(user, after, limit)


@router.post("/sites", response_model=SiteOut, status_code=201, tags=["admin"])
def create_site(body: SiteIn, user: UserDep, service: ServiceDep) -> dict[str, Any]:
    return service.create_site(user, body.code, body.name)


@router.get("/sites", response_model=list[SiteOut], tags=["admin"])
def sites(user: UserDep, service: ServiceDep) -> list[dict[str, Any]]:
    return service.list_sites(user)


@router.post("/users", response_model=UserOut, status_code=201, tags=["admin"])
def create_user(body: UserIn, user: UserDep, service: ServiceDep) -> dict[str, Any]:
    return service.create_user(user, body.username, body.role, body.site, body.password)


@router.get("/users", response_model=list[UserOut], tags=["admin"])
def users(user: UserDep, service: ServiceDep) -> list[dict[str, Any]]:
    return service.list_users(user)


@router.post("/users/{username}/tokens", response_model=TokenOut, status_code=201, tags=["admin"])
def create_token(
    username: Annotated[str, Path(pattern=USERNAME_PATTERN)],
    body: TokenIn,
    user: UserDep,
    service: ServiceDep,
) -> dict[str, Any]:
    """A new API token (admins: for anyone; others: for themselves). Shown once."""
    token, expires = service.issue_token(user, username, body.label, body.expires_in_days)
    return {
        "token": token,
        "username": username,
        "label": body.label,
        "expires_at": expires.isoformat() if expires else None,
    }


# --------------------------------------------------------------------------- fast path


class RandomizeFastPath:
    """ASGI middleware answering well-formed ``POST /api/v1/randomizations`` directly.

    The same endpoint as :func:`randomize` (which stays the documented route and handles
    everything else) without FastAPI's route matching and dependency solving, about half of
    the event loop's CPU per randomization: the bearer token is read as ``HTTPBearer`` reads
    it, the JSON body is decoded with :func:`json.loads` and validated with
    :class:`RandomizationRequest` as FastAPI does, and the service's answer or error is
    rendered by the same functions. Any request that FastAPI would treat differently (not
    ``application/json``, malformed JSON, a body that fails validation, an
    ``Idempotency-Key`` over 200 characters, a body over 64 KiB, a ``root_path``) is passed
    on to FastAPI unchanged, so every 4xx for malformed input comes from FastAPI itself.
    """

    MAX_BODY = 64 * 1024
    PATH = PREFIX + "/randomizations"

    def __init__(self, app: ASGIApp, service: RandomizationService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.PATH
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        chunks, complete = await _read_body(receive, self.MAX_BODY)
        parsed = _parse_randomization(Headers(scope=scope), b"".join(chunks)) if complete else None
        if parsed is None:
            await self.app(scope, _replaying(chunks, complete, receive), send)
            return
        token, body, key = parsed
        try:
            outcome = await self.service.randomize_with_token_async(token, body, key)
        except OncotrialError as exc:
            response: Response = _error_response(status_for(exc), _jsonable(exc.to_dict()))
        else:
            headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
            response = JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)
        await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> tuple[list[bytes], bool]:
    """The request body's chunks, and whether it ended within ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # a disconnect: let FastAPI see it
            return [*chunks, b""], False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return chunks, True
        if size > limit:
            return chunks, False


def _replaying(chunks: list[bytes], complete: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives the chunks already read again, then the rest of the body."""
    pending = list(chunks)

    async def replay() -> Message:
        if pending:
            chunk = pending.pop(0)
            more = bool(pending) or not complete
            return {"type": "http.request", "body": chunk, "more_body": more}
        return await receive()

    return replay


def _parse_randomization(
    headers: Headers, raw: bytes
) -> tuple[str | None, RandomizationRequest, str | None] | None:
    """(bearer token, request, Idempotency-Key) read exactly as the FastAPI route reads them,
    or None when FastAPI should answer (its validation error or another reading)."""
    content_type = headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return None
    key = headers.get("idempotency-key")
    if key is not None and len(key) > 200:
        return None
    try:
        body = RandomizationRequest.model_validate(json.loads(raw))
    except (ValueError, ValidationError):  # JSONDecodeError, UnicodeDecodeError
        return None
    authorization = headers.get("authorization")
    scheme, credentials = get_authorization_scheme_param(authorization)
    token = credentials if authorization and scheme.lower() == "bearer" and credentials else None
    return token, body, key


# --------------------------------------------------------------------------- errors


def _error_response(status: int, payload: dict[str, Any]) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": payload}, status_code=status, headers=headers)


def _validation_message(errors: list[Any]) -> tuple[int, str, list[dict[str, Any]]]:
    details: list[dict[str, Any]] = []
    status = 422
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        if e.get("type") == "json_invalid":
            status = 400
            ctx = e.get("ctx") or {}
            details.append(
                {
                    "field": "body",
                    "message": f"malformed JSON: {ctx.get('error', e.get('msg'))} "
                    f"(at character {loc[-1] if len(loc) > 1 else '?'})",
                }
            )
            continue
        field = ".".join(p for p in loc if p not in ("body",)) or "body"
        item = {"field": field, "message": str(e.get("msg", "invalid"))}
        if "input" in e and e.get("type") != "missing":
            item["value"] = describe_value(e["input"])
        details.append(item)
    text = "; ".join(
        f"{d['field']}: {d['message']}" + (f" (got {d['value']})" if "value" in d else "")
        for d in details[:10]
    )
    return status, text or "invalid request", details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OncotrialError)
    async def _oncotrial_error(request: Request, exc: OncotrialError) -> JSONResponse:
        return _error_response(status_for(exc), _jsonable(exc.to_dict()))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, details = _validation_message(list(exc.errors()))
        kind = "MalformedJSON" if status == 400 else "ValidationError"
        return _error_response(status, {"type": kind, "message": message, "errors": details})


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    from oncotrial.results import jsonable

    out: dict[str, Any] = jsonable(payload)
    return out
