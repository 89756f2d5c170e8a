"""Contract test of the OpenAPI schema with schemathesis, in-process: no input gives a 5xx.

Each operation is called with the token of the role it is meant for (admin routes as admin,
unblinded routes as the statistician, the rest as a site user), so generated requests reach
the service code instead of stopping at 403.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from oncotrial.randomize.service import create_app
from oncotrial.randomize.service.testing import make_trial

ADMIN_PATHS = ("/api/v1/sites", "/api/v1/users")
STATISTICIAN_PATHS = ("/api/v1/allocation-list", "/api/v1/export", "/api/v1/audit")


@pytest.fixture(scope="module")
def contract_trial(tmp_path_factory):
    return make_trial(tmp_path_factory.mktemp("svc_contract"), list_size=60, sites=("S01",))


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _role(path: str) -> str:
    if path.startswith(ADMIN_PATHS):
        return "admin"
    if path.startswith(STATISTICIAN_PATHS):
        return "statistician"
    return "S01"


def _check_operation(operation, headers):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()


def test_no_server_errors(contract_trial):
    operations = _operations(create_app(contract_trial.db_url))
    assert len(operations) >= 15
    for operation in operations:
        _check_operation(operation, contract_trial.headers(_role(operation.path)))
