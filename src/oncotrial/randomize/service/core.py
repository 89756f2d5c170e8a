"""The service layer: randomize, read subjects, unblind, list, export, audit, accounts.

:class:`RandomizationService` wraps one database (engine) and the trial read from it. The
JSON API (:mod:`.api`) and the web page (:mod:`.web`) both call its methods; each method is
one transaction and authorises the caller (:class:`~.accounts.Principal`) by role and site.

Allocation (:meth:`RandomizationService.randomize`, and
:meth:`RandomizationService.randomize_with_token`, which also authenticates the bearer token
on the same connection): the request is validated first without taking any lock (role,
site, strata, eligibility); then ONE write transaction (:mod:`.allocation`, on the database
driver):

1. the stratum's counter row is locked and advanced (``UPDATE ... RETURNING`` on
   PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already excludes other writers), giving the next
   free position and, from the list, its arm;
2. an earlier answer under the same ``Idempotency-Key`` of the same user is replayed (same
   body) or refused (different body, 409), read after the lock, so a concurrent twin of
   the request has committed by then; an exhausted stratum is refused (409); a refused
   request is rolled back;
3. the next randomization number is taken from the trial row, the assignment inserted, the
   audit record and the idempotency record appended; commit.

On PostgreSQL the JSON API (:meth:`RandomizationService.randomize_with_token_async`) reads
the token and any earlier answer under the key first, then does steps 1 and 3 as ONE
statement sent on the process's pipelined allocation connection (:class:`.allocation.PgPipeline`);
a twin that commits in between is caught by the unique constraint on (user, key) and
replayed, and a stratum without a free slot is answered by the transaction above.

A duplicate subject id is refused by the unique constraint on ``assignments.subject_id``
(409 after the rollback: nothing is written). A crash anywhere before the commit leaves
nothing; the unique constraints on subject id, (stratum, position), randomization number
and (user, idempotency key) make a double allocation impossible even if the locking were
bypassed; a request that loses such a race is answered from the winner's records (replay or
409).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from oncotrial.errors import DataError, InputError, describe_value
from oncotrial.randomize.params import stratum_index
from oncotrial.randomize.service import accounts, allocation
from oncotrial.randomize.service import statements as sql
from oncotrial.randomize.service.accounts import Principal
from oncotrial.randomize.service.audit import (
    append_audit,
    audit_to_dict,
    canonical_json,
    format_ts,
)
from oncotrial.randomize.service.db import is_sqlite, make_engine, read_session, write_session
from oncotrial.randomize.service.errors import Conflict, Forbidden, Ineligible, NotFound
from oncotrial.randomize.service.models import (
    Assignment,
    AuditRecord,
    IdempotencyKey,
    ListEntry,
    Site,
    User,
    utcnow,
)
from oncotrial.randomize.service.schemas import RandomizationRequest
from oncotrial.randomize.service.trial import TrialConfig, load_config
from oncotrial.screening import ELIGIBLE, NOT_ELIGIBLE, screen

EXPORT_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class RandomizationOutcome:
    """The answer to a randomization request: HTTP status, body, and whether it is a replay."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(request: RandomizationRequest) -> str:
    """SHA-256 of the request's canonical JSON (what an idempotency key is bound to)."""
    return hashlib.sha256(
        canonical_json(request.model_dump(mode="json")).encode("utf-8")
    ).hexdigest()


class RandomizationService:
    """Service functions over one database; see the module docstring."""

    def __init__(self, engine: Engine, config: TrialConfig) -> None:
        self.engine = engine
        self.config = config
        self._stratum_labels = config.stratum_labels()
        self._criteria = config.criteria
        labels = config.arm_labels
        self._arm_texts = {
            shown: json.dumps(
                {
                    arm: [
                        canonical_json(arm if shown else None),
                        canonical_json(labels.get(arm) if shown else None),
                        canonical_json(arm),
                    ]
                    for arm in labels
                }
            )
            for shown in (False, True)
        }
        """Per arm, the JSON texts the one-statement allocation writes: [arm in the answer,
        its label in the answer, arm in the audit record], for callers who may not / may
        see the arm."""
        self._async_pool = (
            None
            if is_sqlite(engine)
            else allocation.AsyncPgPool(
                engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
        )

    @classmethod
    def open(cls, db_url: str, spec_path: str | Path | None = None) -> RandomizationService:
        engine = make_engine(db_url)
        return cls(engine, load_config(engine, spec_path))

    def close(self) -> None:
        self.engine.dispose()

    async def aclose(self) -> None:
        """Close the event loop's connections (app shutdown), then the engine."""
        if self._async_pool is not None:
            await self._async_pool.close()
        self.close()

    # ------------------------------------------------------------------ authentication

    def principal_for_token(self, token: str | None) -> Principal:
        with read_session(self.engine) as session:
            return accounts.principal_for_token(session, token)

    def revoke_token(self, token: str, actor: Principal | str) -> bool:
        """Revoke an API token (web sign-out), audited ``logout``; True if it was valid.

        A user may revoke their own tokens, an admin anyone's (:func:`.accounts.revoke_token`).
        """
        with write_session(self.engine) as session:
            return accounts.revoke_token(session, token, actor)

    def authenticate_password(self, username: str, password: str) -> Principal:
        with read_session(self.engine) as session:
            return accounts.authenticate_password(session, username, password)

    def login(self, username: str, password: str, label: str = "login") -> str:
        """Check a password and issue a 12-hour token for the user (audited ``login``)."""
        user = self.authenticate_password(username, password)
        with write_session(self.engine) as session:
            token, _ = accounts.issue_token(
                session, user, username, label, lifetime=dt.timedelta(hours=12)
            )
            append_audit(session, actor=username, action="login", entity=f"user:{username}")
        return token

    def issue_token(
        self,
        actor: Principal | str,
        username: str,
        label: str = "",
        expires_in_days: int | None = None,
    ) -> tuple[str, dt.datetime | None]:
        with write_session(self.engine) as session:
            return accounts.issue_token(session, actor, username, label, expires_in_days)

    # ------------------------------------------------------------------ admin

    def create_site(self, actor: Principal | str, code: str, name: str) -> dict[str, str]:
        with write_session(self.engine) as session:
            site = accounts.create_site(session, actor, code, name)
            return {"code": site.code, "name": site.name}

    def list_sites(self, user: Principal) -> list[dict[str, str]]:
        with read_session(self.engine) as session:
            query = select(Site).order_by(Site.code)
            if user.role == "site":
                query = query.where(Site.id == user.site_id)
            return [{"code": s.code, "name": s.name} for s in session.execute(query).scalars()]

    def create_user(
        self,
        actor: Principal | str,
        username: str,
        role: str,
        site: str | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        with write_session(self.engine) as session:
            user = accounts.create_user(session, actor, username, role, site, password)
            return {"username": user.username, "role": user.role, "site": site, "active": True}

    def list_users(self, actor: Principal) -> list[dict[str, Any]]:
        actor.require("admin")
        with read_session(self.engine) as session:
            rows = session.execute(
                select(User, Site).outerjoin(Site, User.site_id == Site.id).order_by(User.username)
            ).all()
            return [
                {
                    "username": u.username,
                    "role": u.role,
                    "site": s.code if s else None,
                    "active": u.active,
                }
                for u, s in rows
            ]

    # ------------------------------------------------------------------ randomization

    def check_request(self, user: Principal, request: RandomizationRequest) -> int:
        """Validate a request without touching the database; returns the stratum index.

        Raises :class:`Forbidden` (role / other site), :class:`InputError` (strata: missing
        factor, unknown factor or level, naming the valid levels), :class:`DataError` (bad
        eligibility answer) or :class:`Ineligible` (failing criteria).
        """
        user.require("site")
        if request.site != user.site:
            raise Forbidden(
                f"site: you may randomize only at your own site {user.site!r}, not "
                f"{request.site!r}",
                argument="site",
                value=request.site,
            )
        k = stratum_index(self.config.factors, request.strata)
        if request.eligibility is not None:
            self.check_eligibility(request.subject_id, request.eligibility)
        return k

    def check_eligibility(self, subject_id: str, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Screen one subject's answers with the spec's eligibility criteria.

        Uses :func:`oncotrial.screening.screen` (Kleene three-valued logic).
        Unknown attribute names are errors; an ``eligible`` verdict is required: a failing
        criterion or one that cannot be told from the answers is refused (:class:`Ineligible`)
        with the criteria listed.
        """
        known = [a.name for a in self.config.spec.subject_attributes]
        unknown = sorted(set(answers) - set(known))
        if unknown:
            raise InputError(
                f"eligibility: {unknown[0]!r} is not a subject attribute of "
                f"{self.config.spec.trial.id}; valid: {known!r}",
                argument="eligibility",
                value=unknown[0],
                expected=known,
            )
        frame = pd.DataFrame([{"subject_id": subject_id, **dict(answers)}], dtype=object)
        try:
            result = screen(self._criteria, self.config.spec.subject_attributes, frame)
        except DataError as exc:
            raise DataError(
                exc.message.replace("records:", "eligibility:", 1), **exc.details
            ) from None
        row = result.subjects.iloc[0]
        verdict = str(row["verdict"])
        if verdict != ELIGIBLE:
            ids = list(row["failed"]) if verdict == NOT_ELIGIBLE else list(row["unresolved"])
            texts = {c.id: c.text for c in self._criteria}
            what = "fails" if verdict == NOT_ELIGIBLE else "cannot be checked (answers missing)"
            raise Ineligible(
                f"subject {subject_id!r} is not eligible: {len(ids)} criterion/criteria "
                f"{what}: {row['reasons']!s}",
                verdict=verdict,
                criteria=[{"id": i, "text": texts.get(i, "")} for i in ids],
            )
        return {"verdict": verdict}

    def randomize(
        self,
        user: Principal,
        request: RandomizationRequest,
        idempotency_key: str | None = None,
    ) -> RandomizationOutcome:
        """Randomize one subject for ``user`` (see the module docstring for the transaction)."""
        digest = self._key_digest(request, idempotency_key)
        k = self.check_request(user, request)
        with allocation.transaction(self.engine) as tx:
            return self._allocate(tx, user, request, k, idempotency_key, digest)

    def randomize_with_token(
        self,
        token: str | None,
        request: RandomizationRequest,
        idempotency_key: str | None = None,
    ) -> RandomizationOutcome:
        """Authenticate ``token`` and randomize, on one connection (the JSON API's path).

        Same checks, order and answers as :meth:`principal_for_token` followed by
        :meth:`randomize`; on PostgreSQL the token lookup opens the allocation's transaction.
        """
        with allocation.transaction(self.engine) as tx:
            user = tx.principal(token)
            digest = self._key_digest(request, idempotency_key)
            k = self.check_request(user, request)
            return self._allocate(tx, user, request, k, idempotency_key, digest)

    @staticmethod
    def _key_digest(request: RandomizationRequest, key: str | None) -> str:
        if key is None:
            return ""
        _check_idempotency_key(key)
        return request_hash(request)

    async def randomize_with_token_async(
        self,
        token: str | None,
        request: RandomizationRequest,
        idempotency_key: str | None = None,
    ) -> RandomizationOutcome:
        """:meth:`randomize_with_token` for the event loop (the JSON API calls this).

        On PostgreSQL, without eligibility answers, it runs on the loop itself
        (:class:`~.allocation.AsyncPgPool`): the token and any earlier answer under the key
        in one statement, then the allocation as ONE statement on the process's pipelined
        allocation connection (:class:`~.allocation.PgPipeline`); no thread-pool hop. Otherwise
        (SQLite, or a subject to screen with pandas) it runs in a worker thread. Same
        checks, order and answers either way.
        """
        if self._async_pool is None or request.eligibility is not None:
            return await run_in_threadpool(
                self.randomize_with_token, token, request, idempotency_key
            )
        key = idempotency_key
        user, earlier = await self._async_pool.lookup(token, key)
        digest = self._key_digest(request, key)
        k = self.check_request(user, request)
        if earlier is not None:
            return _replayed(earlier, key or "", digest)
        draft = self._slot_draft(user, request, k, key, digest)
        try:
            written = await self._async_pool.randomize(
                draft, self._arm_texts[self._shows_arm(user)]
            )
        except Exception as exc:
            if not _is_integrity_error(exc):
                raise
            lost = True
        else:
            lost = False
        if lost:
            return await run_in_threadpool(self._after_lost_race, user, request, key, digest)
        if written is None:
            # no free slot, or a twin under the same key took the last one meanwhile: the
            # locked read of the transaction path gives the exact answer (409 or a replay)
            return await run_in_threadpool(self.randomize, user, request, key)
        randno, ts_text, arm = written
        return RandomizationOutcome(201, self._fresh_view(request, k, arm, randno, ts_text, user))

    def _slot_draft(
        self,
        user: Principal,
        request: RandomizationRequest,
        k: int,
        key: str | None,
        digest: str,
    ) -> allocation.Draft:
        """The allocation for :meth:`.allocation.AsyncPgPool.randomize`: list position
        and arm are holes that the statement fills from the slot it takes."""

        def respond(randno: int, ts_text: str) -> dict[str, Any]:
            body = self._fresh_view(request, k, "", randno, ts_text, user)
            body["arm"], body["arm_label"] = allocation.ARM_HOLE, allocation.LABEL_HOLE
            return body

        return allocation.Draft(
            user=user,
            subject_id=request.subject_id,
            site=request.site,
            stratum=k,
            position=allocation.POSITION_HOLE,
            arm=allocation.ARM_HOLE,
            strata={f.name: request.strata[f.name] for f in self.config.factors},
            eligibility=None,
            key=key,
            digest=digest,
            respond=respond,
        )

    def _shows_arm(self, user: Principal) -> bool:
        return not self.config.blinded or user.role == "statistician"

    def _allocate(
        self,
        tx: allocation.Transaction,
        user: Principal,
        request: RandomizationRequest,
        k: int,
        key: str | None,
        digest: str,
    ) -> RandomizationOutcome:
        try:
            draft = self._draft(user, request, k, key, digest, tx.claim(k, user.user_id, key))
            if isinstance(draft, RandomizationOutcome):
                return draft
            return RandomizationOutcome(201, tx.finish(draft))
        except Exception as exc:
            if not _is_integrity_error(exc):
                raise
            tx.rollback()
        return self._after_lost_race(user, request, key, digest)

    def _draft(
        self,
        user: Principal,
        request: RandomizationRequest,
        k: int,
        key: str | None,
        digest: str,
        claim: allocation.Claim,
    ) -> allocation.Draft | RandomizationOutcome:
        """What to do with the claimed slot: replay an earlier answer, refuse an exhausted
        stratum (409), or the allocation to write."""
        if user.site_id is None:  # pragma: no cover - check_request allows site users only
            raise Forbidden("only site users randomize")
        if claim.earlier is not None:
            return _replayed(claim.earlier, key or "", digest)
        if claim.position > claim.size or claim.arm is None:
            raise Conflict(
                f"stratum {claim.label!r}: the allocation list is exhausted; ask the trial "
                "statistician to extend it before randomizing more subjects in this stratum",
                stratum=claim.label,
            )
        arm = claim.arm

        def respond(randno: int, ts_text: str) -> dict[str, Any]:
            return self._fresh_view(request, k, arm, randno, ts_text, user)

        return allocation.Draft(
            user=user,
            subject_id=request.subject_id,
            site=request.site,
            stratum=k,
            position=claim.position,
            arm=arm,
            strata={f.name: request.strata[f.name] for f in self.config.factors},
            eligibility={"verdict": ELIGIBLE} if request.eligibility is not None else None,
            key=key,
            digest=digest,
            respond=respond,
        )

    def _after_lost_race(
        self, user: Principal, request: RandomizationRequest, key: str | None, digest: str
    ) -> RandomizationOutcome:
        """A unique constraint refused the allocation (rolled back): a concurrent request won
        the race on the subject id or the idempotency key; answer from its records."""
        with read_session(self.engine) as session:
            if key is not None:
                replay = _replay(session, user, key, digest)
                if replay is not None:
                    return replay
            if _subject_exists(session, request.subject_id):
                raise _duplicate(request.subject_id) from None
        raise RuntimeError(  # pragma: no cover - no other constraint can fail here
            f"randomize {request.subject_id!r}: integrity error without a duplicate"
        )

    def _fresh_view(
        self,
        request: RandomizationRequest,
        stratum: int,
        arm: str,
        randno: int,
        ts_text: str,
        user: Principal,
    ) -> dict[str, Any]:
        """:meth:`_view` of an assignment being written (same keys and values)."""
        show_arm = self._shows_arm(user)
        return {
            "subject_id": request.subject_id,
            "site": request.site,
            "strata": {f.name: request.strata[f.name] for f in self.config.factors},
            "stratum": self._stratum_labels[stratum],
            "arm": arm if show_arm else None,
            "arm_label": self.config.arm_labels.get(arm) if show_arm else None,
            "randomization_number": randno,
            "randomized_at": ts_text,
            "randomized_by": user.username,
            "unblinded": False,
        }

    # ------------------------------------------------------------------ reading subjects

    def _view(
        self, a: Assignment, site_code: str, randomized_by: str, viewer: Principal
    ) -> dict[str, Any]:
        """A subject as ``viewer`` may see it: no list position; arm hidden while blinded."""
        show_arm = (
            not self.config.blinded or viewer.role == "statistician" or a.unblinded_at is not None
        )
        return {
            "subject_id": a.subject_id,
            "site": site_code,
            "strata": dict(a.strata),
            "stratum": self._stratum_labels[a.stratum],
            "arm": a.arm if show_arm else None,
            "arm_label": self.config.arm_labels.get(a.arm) if show_arm else None,
            "randomization_number": a.randno,
            "randomized_at": format_ts(a.randomized_at),
            "randomized_by": randomized_by,
            "unblinded": a.unblinded_at is not None,
        }

    def _subjects_query(self, user: Principal) -> Any:
        query = (
            select(Assignment, Site.code, User.username)
            .join(Site, Assignment.site_id == Site.id)
            .join(User, Assignment.user_id == User.id)
        )
        if user.role == "site":
            query = query.where(Assignment.site_id == user.site_id)
        return query

    def list_subjects(self, user: Principal) -> list[dict[str, Any]]:
        """Randomized subjects the user may see (site users: their own site only)."""
        with read_session(self.engine) as session:
            rows = session.execute(self._subjects_query(user).order_by(Assignment.randno)).all()
            return [self._view(a, code, by, user) for a, code, by in rows]

    def get_subject(self, user: Principal, subject_id: str) -> dict[str, Any]:
        """One subject; 404 with the same message whether it does not exist or is at
        another site (site users cannot learn which)."""
        with read_session(self.engine) as session:
            row = session.execute(
                self._subjects_query(user).where(Assignment.subject_id == subject_id)
            ).first()
            if row is None:
                raise _not_found(user, subject_id)
            return self._view(row[0], row[1], row[2], user)

    def unblind(self, user: Principal, subject_id: str, reason: str) -> dict[str, Any]:
        """Emergency unblinding: reveal the arm of one subject; audited with the reason."""
        user.require("admin", "statistician", "site")
        if not reason or len(reason.strip()) < 3:
            raise InputError(
                "reason: give the reason for unblinding (at least 3 characters)",
                argument="reason",
                value=reason,
            )
        with write_session(self.engine) as session:
            row = session.execute(
                self._subjects_query(user).where(Assignment.subject_id == subject_id)
            ).first()
            if row is None:
                raise _not_found(user, subject_id)
            a, code, by = row
            if not self.config.blinded:
                raise Conflict(
                    f"subject {subject_id!r}: the trial is open-label, the arm is already "
                    "shown; nothing to unblind",
                    subject_id=subject_id,
                )
            old = a.unblinded_at.isoformat() if a.unblinded_at else None
            if a.unblinded_at is None:
                a.unblinded_at = utcnow()
            append_audit(
                session,
                actor=user.username,
                action="unblind",
                entity=f"subject:{subject_id}",
                old={"unblinded_at": old},
                new={"unblinded_at": a.unblinded_at.isoformat(), "arm": a.arm},
                reason=reason,
            )
            return self._view(a, code, by, user)

    # ------------------------------------------------------------------ unblinded views

    def allocation_list(self, user: Principal) -> dict[str, Any]:
        """The whole list with the subject in each used slot (statistician only; audited)."""
        user.require("statistician")
        with write_session(self.engine) as session:
            used = dict(
                session.execute(
                    select(
                        Assignment.stratum * 1_000_000 + Assignment.position,
                        Assignment.subject_id,
                    )
                ).all()
            )
            entries = session.execute(
                select(ListEntry).order_by(ListEntry.stratum, ListEntry.position)
            ).scalars()
            slots = [
                {
                    "stratumn": e.stratum + 1,
                    "stratum": e.stratum_label,
                    "position": e.position,
                    "block": e.block,
                    "block_size": e.block_size,
                    "arm": e.arm,
                    "subject_id": used.get(e.stratum * 1_000_000 + e.position),
                }
                for e in entries
            ]
            append_audit(session, actor=user.username, action="view_list", entity="allocation_list")
        return {
            "params": self.config.params.to_dict(),
            "fingerprint": self.config.fingerprint,
            "slots": slots,
        }

    def export_frame(self, user: Principal | str, fmt: str = "csv") -> pd.DataFrame:
        """Assignments with CDISC names (statistician only; audited ``export``).

        Columns: STUDYID, USUBJID (``STUDYID-subject id``), SUBJID, SITEID, ARMCD (spec arm
        name), ARM (arm label), RANDDT (date, UTC), RANDDTM (ISO 8601 date-time), RANDNO,
        then one column per stratification factor under its spec name (docs/DATA_MODEL.md).
        """
        if isinstance(user, Principal):
            user.require("statistician")
        actor = user.username if isinstance(user, Principal) else user
        if fmt not in EXPORT_FORMATS:
            raise InputError(
                f"format: {fmt!r} is not valid; choose from {list(EXPORT_FORMATS)!r}",
                argument="format",
                value=fmt,
            )
        with write_session(self.engine) as session:
            rows = session.execute(
                select(Assignment, Site.code)
                .join(Site, Assignment.site_id == Site.id)
                .order_by(Assignment.randno)
            ).all()
            append_audit(
                session,
                actor=actor,
                action="export",
                entity="assignments",
                new={"format": fmt, "rows": len(rows)},
            )
        study = self.config.spec.trial.id
        labels = self.config.arm_labels
        factors = [f.name for f in self.config.factors]
        records = []
        for a, code in rows:
            record: dict[str, Any] = {
                "STUDYID": study,
                "USUBJID": f"{study}-{a.subject_id}",
                "SUBJID": a.subject_id,
                "SITEID": code,
                "ARMCD": a.arm,
                "ARM": labels.get(a.arm, a.arm),
                "RANDDT": a.randomized_at.date(),
                "RANDDTM": a.randomized_at.isoformat(),
                "RANDNO": a.randno,
            }
            for f in factors:
                record[f] = a.strata.get(f)
            records.append(record)
        columns = [
            "STUDYID", "USUBJID", "SUBJID", "SITEID", "ARMCD", "ARM", "RANDDT", "RANDDTM",
            "RANDNO", *factors,
        ]  # fmt: skip
        frame = pd.DataFrame(records, columns=columns)
        frame["RANDNO"] = frame["RANDNO"].astype("int64")
        frame["RANDDT"] = pd.to_datetime(frame["RANDDT"]).dt.date
        return frame

    def export_bytes(self, user: Principal | str, fmt: str = "csv") -> bytes:
        frame = self.export_frame(user, fmt)
        if fmt == "csv":
            out = frame.copy()
            out["RANDDT"] = out["RANDDT"].map(lambda d: d.isoformat())
            return out.to_csv(index=False, lineterminator="\n").encode("utf-8")
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()

    def audit_records(self, user: Principal, after: int = 0, limit: int = 500) -> dict[str, Any]:
        """Audit records with ``seq > after`` (admin and statistician)."""
        user.require("admin", "statistician")
        limit = max(1, min(int(limit), 5000))
        with read_session(self.engine) as session:
            records = list(
                session.execute(
                    select(AuditRecord)
                    .where(AuditRecord.seq > after)
                    .order_by(AuditRecord.seq)
                    .limit(limit)
                ).scalars()
            )
        out = [audit_to_dict(r) for r in records]
        return {"records": out, "next_after": out[-1]["seq"] if len(out) == limit else None}

    def trial_info(self, user: Principal | None = None) -> dict[str, Any]:
        """What a client needs to build a randomization form; the allocation algorithm is
        shown to admins and statisticians only (site users learn nothing about the list)."""
        spec = self.config.spec
        unblinded = user is not None and user.role in ("admin", "statistician")
        return {
            "spec_id": spec.trial.id,
            "title": spec.trial.title,
            "scheme": self.config.params.algorithm if unblinded else None,
            "blinded": self.config.blinded,
            "arms": [{"code": a.name, "label": a.label, "ratio": a.ratio} for a in spec.arms],
            "factors": [
                {"name": f.name, "label": f.label, "levels": list(f.levels)}
                for f in spec.stratification
            ],
            "eligibility_attributes": sorted({n for c in self._criteria for n in c.rule.names}),
        }

    def counts(self) -> dict[str, int]:
        """Row counts of the tables a request may write (used by tests: nothing written)."""
        tables = {
            "assignments": Assignment,
            "audit_log": AuditRecord,
            "idempotency_keys": IdempotencyKey,
        }
        with read_session(self.engine) as session:
            return {
                name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in tables.items()
            }


def _check_idempotency_key(key: str) -> None:
    if not (1 <= len(key) <= 200) or not key.isprintable():
        raise InputError(
            f"Idempotency-Key: {describe_value(key)} is not valid; use 1-200 printable "
            "characters (e.g. a UUID)",
            argument="Idempotency-Key",
            value=describe_value(key),
        )


def _replay(
    session: Session, user: Principal, key: str, digest: str
) -> RandomizationOutcome | None:
    row = (
        session.connection()
        .execute(sql.IDEMPOTENT_ANSWER, {"uid": user.user_id, "idem_key": key})
        .first()
    )
    if row is None:
        return None
    return _replayed(tuple(row), key, digest)


def _replayed(earlier: tuple[Any, ...], key: str, digest: str) -> RandomizationOutcome:
    """The stored answer under ``key``, or 409 when it was given to a different request."""
    request_digest, status_code, response = earlier
    if request_digest != digest:
        raise Conflict(
            f"Idempotency-Key: {key!r} was already used for a different request; use a new "
            "key for a new request (a retry must repeat the body exactly)",
            argument="Idempotency-Key",
            value=key,
        )
    return RandomizationOutcome(status_code, json.loads(json.dumps(response)), True)


def _is_integrity_error(exc: BaseException) -> bool:
    """A unique or foreign-key violation from SQLAlchemy, psycopg or sqlite3."""
    import sqlite3

    if isinstance(exc, (IntegrityError, sqlite3.IntegrityError)):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency of the service
        return False
    return isinstance(exc, psycopg.IntegrityError)


def _subject_exists(session: Session, subject_id: str) -> bool:
    found = session.connection().execute(sql.SUBJECT_EXISTS, {"sid": subject_id}).first()
    return found is not None


def _duplicate(subject_id: str) -> Conflict:
    return Conflict(
        f"subject_id: {subject_id!r} is already randomized in this trial; a subject is "
        "randomized once (subject ids are unique across sites)",
        argument="subject_id",
        value=subject_id,
    )


def _not_found(user: Principal, subject_id: str) -> NotFound:
    where = f" at your site {user.site!r}" if user.role == "site" else ""
    return NotFound(
        f"subject {subject_id!r}: no randomized subject with this id{where}",
        argument="subject_id",
        value=subject_id,
    )
