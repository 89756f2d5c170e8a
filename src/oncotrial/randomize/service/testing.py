"""A ready trial database for tests, benchmarks and demos.

``make_trial(directory)`` initialises a PALMIRA database (or any spec) with sites and one user
per role, and returns their tokens::

    trial = make_trial(tmp_path, sites=("S01", "S02"))
    client = TestClient(create_app(trial.db_url))
    client.post("/api/v1/randomizations", json=..., headers=trial.headers("S01"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oncotrial.randomize.service.core import RandomizationService
from oncotrial.randomize.service.trial import init_trial
from oncotrial.spec.loader import example_path

SITE_PASSWORD = "password-{site}"
"""Web password of the site user ``site_{site}`` made by :func:`make_trial`."""


@dataclass(frozen=True)
class TrialFixture:
    db_url: str
    spec_path: Path
    seed: int
    admin_token: str
    statistician_token: str
    site_tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        """Bearer header of ``"admin"``, ``"statistician"`` or a site code."""
        token = {"admin": self.admin_token, "statistician": self.statistician_token}.get(who)
        if token is None:
            token = self.site_tokens[who]
        return {"Authorization": f"Bearer {token}"}


def make_trial(
    directory: str | Path,
    *,
    spec: str | Path = "palmira",
    db_url: str | None = None,
    seed: int = 20190410,
    list_size: int = 30,
    sites: Sequence[str] = ("S01", "S02"),
    blinded: bool = False,
    scheme: str = "pbr",
) -> TrialFixture:
    """Initialise a trial database with ``sites``, an admin, a statistician and a site user
    per site (username ``site_<code>``, password ``password-<code>``)."""
    directory = Path(directory)
    spec_path = Path(spec) if Path(spec).suffix in (".yaml", ".yml") else example_path(str(spec))
    url = db_url or f"sqlite:///{directory / 'randomization.db'}"
    init = init_trial(
        spec_path, url, "admin", seed=seed, list_size=list_size, blinded=blinded, scheme=scheme
    )
    service = RandomizationService.open(url)
    try:
        service.create_user("admin", "stat", "statistician")
        stat_token, _ = service.issue_token("admin", "stat", "fixture")
        site_tokens = {}
        for code in sites:
            service.create_site("admin", code, f"Site {code}")
            name = f"site_{code}"
            service.create_user("admin", name, "site", code, SITE_PASSWORD.format(site=code))
            site_tokens[code], _ = service.issue_token("admin", name, "fixture")
    finally:
        service.close()
    return TrialFixture(url, spec_path, seed, init.admin_token, stat_token, site_tokens)
