"""Central randomization service: stratified allocation with concealment and an audit trail.

Start: ``oncotrial randomize init --spec SPEC.yaml --db trial.db --admin NAME`` (creates the
schema, the trial, its allocation list and the first admin, printing the admin's token once),
then ``oncotrial randomize serve --spec SPEC.yaml --db trial.db``. In Python:
``create_app(db_url) -> FastAPI`` (:mod:`.app`).

Service layer (:class:`~.core.RandomizationService`, at ``app.state.service``; every method
authorises the :class:`~.accounts.Principal` by role and site and is one transaction):

* ``principal_for_token(token)``, ``authenticate_password(username, password)``,
  ``login(username, password) -> token`` (12 h), ``issue_token(actor, username, label,
  expires_in_days) -> (token, expires_at)``;
* ``randomize(user, RandomizationRequest, idempotency_key=None) -> RandomizationOutcome``
  (``status_code``, ``body``, ``replayed``); ``check_request`` / ``check_eligibility``;
* ``list_subjects(user)``, ``get_subject(user, subject_id)``, ``unblind(user, id, reason)``;
* ``allocation_list(user)``, ``export_frame(user, fmt)``, ``export_bytes(user, fmt)``
  (statistician), ``audit_records(user, after, limit)`` (admin, statistician);
* ``create_site``, ``list_sites``, ``create_user``, ``list_users`` (admin); ``trial_info()``.

JSON API under ``/api/v1`` (``Authorization: Bearer <token>``):

=======  ==============================  ==========================================
POST     /auth/token                     username + password -> token (12 h)
GET      /me, /trial, /health            caller; arms/factors/levels; liveness
POST     /randomizations                 site users, own site; ``Idempotency-Key``
GET      /subjects, /subjects/{id}       site users: own site only
POST     /subjects/{id}/unblind          reason required; audited
GET      /allocation-list                statistician
GET      /export?format=csv|parquet      statistician; CDISC names
GET      /audit?after=&limit=            admin, statistician
POST/GET /sites, /users                  admin
POST     /users/{username}/tokens        admin (or oneself)
=======  ==============================  ==========================================

Roles, concurrency design and the audit hash: docs/RANDOMIZATION.md, "Randomization service".
"""

from oncotrial.randomize.service.accounts import Principal
from oncotrial.randomize.service.app import create_app
from oncotrial.randomize.service.audit import AuditVerification, verify_audit
from oncotrial.randomize.service.core import RandomizationOutcome, RandomizationService
from oncotrial.randomize.service.db import make_engine, migrate
from oncotrial.randomize.service.schemas import RandomizationRequest
from oncotrial.randomize.service.trial import InitResult, init_trial

__all__ = [
    "AuditVerification",
    "InitResult",
    "Principal",
    "RandomizationOutcome",
    "RandomizationRequest",
    "RandomizationService",
    "create_app",
    "init_trial",
    "make_engine",
    "migrate",
    "verify_audit",
]
