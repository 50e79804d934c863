"""Approval tests decide over HTTP with the tests' own outcome for contracts (a real function
that moves the contract row by SQL), so they do not depend on the contracts package's rules;
`tests/approvals/test_approvals.py::test_contract_submit_end_to_end` uses the real one."""

import pytest

from app.composition import APPROVAL_OUTCOMES
from tests.approvals.approval_helpers import CONTRACT_OUTCOME


@pytest.fixture
def own_outcomes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(APPROVAL_OUTCOMES, "contract", CONTRACT_OUTCOME)
