"""Errors of the randomization service and their HTTP status codes.

Every error is an :class:`~oncotrial.errors.OncotrialError` (so the CLI exits 1 on it) and is
answered as ``{"error": {"type", "message", ...details}}`` with the status below. Messages
name the field, the value and what is valid; messages shown to site users never say whether
a subject exists at another site.
"""

from __future__ import annotations

from oncotrial.errors import DataError, InputError, OncotrialError, SpecError


class ServiceError(OncotrialError):
    status_code = 400


class Unauthorized(ServiceError):
    """No, unknown, expired or revoked credentials (401)."""

    status_code = 401


class Forbidden(ServiceError):
    """The role or site of the user does not allow this (403)."""

    status_code = 403


class NotFound(ServiceError):
    """Nothing the user may see has this id (404)."""

    status_code = 404


class Conflict(ServiceError):
    """The request clashes with the database state: duplicate subject, reused idempotency
    key with a different body, exhausted stratum (409)."""

    status_code = 409


class Ineligible(ServiceError):
    """The eligibility answers fail (or cannot establish) the spec's criteria (422)."""

    status_code = 422


class NotInitialized(ServiceError):
    """The database holds no trial yet (``oncotrial randomize init``)."""

    status_code = 503


def status_for(exc: OncotrialError) -> int:
    """HTTP status of an error: its own for service errors, 422 for bad input."""
    if isinstance(exc, ServiceError):
        return exc.status_code
    if isinstance(exc, (InputError, DataError, SpecError)):
        return 422
    return 400
