"""The trial as the service sees it: spec, strata, arms, eligibility; and its initialisation.

:func:`init_trial` writes everything a new database needs in one transaction: the trial row
(spec text and SHA-256, scheme, seed, list parameters and fingerprint), the allocation list
generated with the existing pure schemes (``pbr-v1`` / ``simple-v1``,
docs/RANDOMIZATION.md), a counter row per stratum, the first admin with a token, and the
first audit records.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from oncotrial.errors import InputError, SpecError
from oncotrial.randomize.params import ArmRatio, Factor, strata
from oncotrial.randomize.schemes import (
    AllocationList,
    BlockDesign,
    ListParams,
    SimpleDesign,
    generate_list,
    regenerate,
)
from oncotrial.randomize.service.audit import append_audit
from oncotrial.randomize.service.db import make_engine, migrate, read_session, write_session
from oncotrial.randomize.service.errors import Conflict, NotInitialized
from oncotrial.randomize.service.models import (
    ApiToken,
    ListEntry,
    StratumCounter,
    Trial,
    User,
    utcnow,
)
from oncotrial.randomize.service.security import new_token, token_digest
from oncotrial.results import Result
from oncotrial.screening import Criterion, compile_criteria
from oncotrial.spec.loader import load_spec, parse_spec
from oncotrial.spec.models import TrialSpec

SCHEMES = {"pbr": "pbr-v1", "simple": "simple-v1"}


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> TrialSpec:
    return parse_spec(text, filename="<stored spec>")


def parsed_spec(text: str, filename: str) -> TrialSpec:
    """The parsed spec of ``text`` (cached: parsing is slow and specs are immutable); errors
    name ``filename``."""
    try:
        return _parsed(text)
    except SpecError:
        return parse_spec(text, filename=filename)


@dataclass(frozen=True)
class TrialConfig:
    """What every request needs, read once from the database at start-up."""

    spec: TrialSpec
    spec_hash: str
    params: ListParams
    fingerprint: str
    blinded: bool

    @property
    def factors(self) -> tuple[Factor, ...]:
        return self.params.design.factors

    @property
    def arm_labels(self) -> dict[str, str]:
        return {a.name: a.label for a in self.spec.arms}

    @functools.cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return compile_criteria(self.spec.eligibility, self.spec.subject_attributes)

    def stratum_labels(self) -> list[str]:
        return [s.label for s in strata(self.factors)]


def design_from_spec(
    spec: TrialSpec, scheme: str = "pbr", block_sizes: tuple[int, ...] | None = None
) -> BlockDesign | SimpleDesign:
    """The list design of a spec: its arms and ratio, its stratification factors in order."""
    arms = ArmRatio(tuple(a.name for a in spec.arms), tuple(a.ratio for a in spec.arms))
    factors = tuple(Factor(f.name, tuple(f.levels)) for f in spec.stratification)
    if scheme == "pbr":
        sizes = block_sizes or (arms.total, 2 * arms.total)
        return BlockDesign(arms, factors, tuple(sizes))
    if scheme == "simple":
        return SimpleDesign(arms, factors)
    raise InputError(
        f"--scheme: {scheme!r} is not valid; choose from {sorted(SCHEMES)!r} (minimization "
        "is not offered by the service yet)",
        argument="scheme",
        value=scheme,
    )


def default_list_size(spec: TrialSpec) -> int:
    """Slots per stratum by default: the planned sample size (any stratum may take all)."""
    n = getattr(spec.design, "n", None) if spec.design is not None else None
    return int(n) if isinstance(n, int) and n > 0 else 200


@dataclass(frozen=True)
class InitResult(Result):
    """What ``oncotrial randomize init`` created; ``admin_token`` is shown only here."""

    db_url: str
    spec_id: str
    spec_hash: str
    scheme: str
    seed: int
    strata: int
    slots: int
    fingerprint: str
    admin: str
    admin_token: str

    def summary(self) -> str:
        return "\n".join(
            [
                f"Initialised trial {self.spec_id} in {self.db_url}",
                f"  list {self.scheme}, seed {self.seed}, {self.strata} strata, {self.slots} "
                f"slots, fingerprint {self.fingerprint}",
                f"  admin {self.admin!r}; API token (shown once, store it now):",
                f"    {self.admin_token}",
            ]
        )


def init_trial(
    spec_path: str | Path,
    db_url: str,
    admin: str,
    *,
    seed: int | None = None,
    list_size: int | None = None,
    scheme: str = "pbr",
    block_sizes: tuple[int, ...] | None = None,
    blinded: bool = False,
    admin_password: str | None = None,
) -> InitResult:
    """Create the schema, the trial, its allocation list and the first admin (with a token).

    ``seed`` defaults to a fresh random 63-bit integer (recorded in the trial row, visible to
    the statistician); ``list_size`` is the minimum number of slots per stratum.
    """
    from oncotrial.randomize.service.accounts import check_username, create_user_row

    path = Path(spec_path)
    if not path.is_file():
        load_spec(path)  # raises the SpecError that names the missing file
    text = path.read_text(encoding="utf-8")
    spec = parsed_spec(text, str(path))
    check_username(admin)
    if seed is None:
        seed = secrets.randbits(63)
    size = default_list_size(spec) if list_size is None else list_size
    design = design_from_spec(spec, scheme, block_sizes)
    allocation = generate_list(design, per_stratum=size, seed=seed)
    migrate(db_url)
    engine = make_engine(db_url)
    try:
        with write_session(engine) as session:
            if session.execute(select(func.count()).select_from(Trial)).scalar_one():
                raise Conflict(
                    f"--db: {db_url} already holds a trial; a database randomizes one trial "
                    "(use a new file or database)",
                    argument="db",
                    value=db_url,
                )
            now = utcnow()
            trial = Trial(
                id=1,
                spec_id=spec.trial.id,
                spec_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                spec_text=text,
                scheme=allocation.params.algorithm,
                seed=seed,
                list_params=allocation.params.to_dict(),
                list_fingerprint=allocation.fingerprint,
                blinded=blinded,
                next_randno=1,
                created_at=now,
            )
            session.add(trial)
            _write_list(session, allocation)
            append_audit(
                session,
                actor="system",
                action="init_trial",
                entity=f"trial:{spec.trial.id}",
                new={
                    "spec_id": spec.trial.id,
                    "spec_hash": trial.spec_hash,
                    "scheme": trial.scheme,
                    "list_params": trial.list_params,
                    "fingerprint": allocation.fingerprint,
                    "blinded": blinded,
                },
                ts=now,
            )
            user = create_user_row(session, "system", admin, "admin", None, admin_password)
            token = new_token()
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=token_digest(token),
                    label="init",
                    created_at=utcnow(),
                )
            )
            append_audit(
                session,
                actor="system",
                action="issue_token",
                entity=f"user:{admin}",
                new={"label": "init", "expires_at": None},
            )
    finally:
        engine.dispose()
    return InitResult(
        db_url=db_url,
        spec_id=spec.trial.id,
        spec_hash=trial.spec_hash,
        scheme=allocation.params.algorithm,
        seed=seed,
        strata=len(allocation.strata),
        slots=len(allocation.slots),
        fingerprint=allocation.fingerprint,
        admin=admin,
        admin_token=token,
    )


def _write_list(session: Any, allocation: AllocationList) -> None:
    labels = [s.label for s in allocation.strata]
    for s in allocation.strata:
        n = sum(1 for slot in allocation.slots if slot.stratum == s.index)
        session.add(StratumCounter(stratum=s.index, label=s.label, next_position=1, size=n))
    session.flush()
    session.bulk_insert_mappings(
        ListEntry,
        [
            {
                "stratum": slot.stratum,
                "stratum_label": labels[slot.stratum],
                "position": slot.randno,
                "block": slot.block,
                "block_size": slot.block_size,
                "arm": slot.arm,
            }
            for slot in allocation.slots
        ],
    )


def load_config(engine: Engine, spec_path: str | Path | None = None) -> TrialConfig:
    """The trial of the database; with ``spec_path``, check it is the spec used at init."""
    with read_session(engine) as session:
        trial = session.get(Trial, 1)
        if trial is None:
            raise NotInitialized(
                "this database holds no trial; run `oncotrial randomize init --spec SPEC "
                "--db URL --admin NAME` first"
            )
        params = ListParams.from_dict(trial.list_params)
        spec = parsed_spec(trial.spec_text, f"<spec of trial {trial.spec_id}>")
        if spec_path is not None:
            given = hashlib.sha256(Path(spec_path).read_bytes()).hexdigest()
            if given != trial.spec_hash:
                raise InputError(
                    f"--spec: {spec_path} (sha256 {given[:12]}...) is not the spec this "
                    f"database was initialised with ({trial.spec_id}, sha256 "
                    f"{trial.spec_hash[:12]}...); the stored spec is authoritative",
                    argument="spec",
                    value=str(spec_path),
                )
        return TrialConfig(
            spec=spec,
            spec_hash=trial.spec_hash,
            params=params,
            fingerprint=trial.list_fingerprint,
            blinded=bool(trial.blinded),
        )


def regenerate_list(config: TrialConfig) -> AllocationList:
    return regenerate(config.params)


def user_row(session: Any, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()
