"""The API fuzz (ventanilla/fuzz.py) in `make test`: schemathesis over the OpenAPI document,
anonymous and as each role, against a gateway process; no server error, no other campaign's
data. `ventanilla fuzz --examples 25` is the longer run whose figures the README gives."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ventanilla.fuzz import CANARY, LEAK, ROLES, SERVER_ERROR, Probe, Tally, run_fuzz


def test_every_operation_as_every_role_gives_no_server_error_and_no_leak() -> None:
    tally = run_fuzz(examples=4)
    assert tally.operations >= 50
    assert set(tally.examples) == set(ROLES)
    assert min(tally.examples.values()) >= tally.operations  # every operation, every role
    assert tally.failures == Counter(), "\n".join(tally.samples)
    # It reached past the door: refusals, and answers with data.
    assert tally.statuses[401] and tally.statuses[403] and tally.statuses[200]


@dataclass
class FakeResponse:
    status_code: int
    text: str


@dataclass
class FakeCase:
    response: FakeResponse
    formatted_path: str = "/api/x/1"

    def call(self, **kwargs: Any) -> FakeResponse:
        return self.response

    def validate_response(self, response: FakeResponse, checks: list[Any]) -> None:
        raise AssertionError("undocumented")


def test_the_judge_counts_leaks_and_server_errors() -> None:
    tally = Tally()

    def judge(role: str, status: int, text: str, path: str = "/api/x/{id}") -> None:
        Probe(tally, "http://x", {}, role, "GET", path)(FakeCase(FakeResponse(status, text)))

    judge("agente", 200, f'{{"summary": "{CANARY}"}}')
    judge("admin", 200, f'{{"summary": "{CANARY}"}}')  # the admin may see every campaign
    judge("anónimo", 500, "Internal Server Error")
    judge("anónimo", 503, "{}", path="/health")  # by design: no action server runs here
    assert tally.failures == Counter({LEAK: 1, SERVER_ERROR: 1})
    assert tally.examples == Counter({"anónimo": 2, "agente": 1, "admin": 1})
    assert sum(tally.undocumented.values()) == 8  # two conformance checks per answer
