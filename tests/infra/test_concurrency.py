"""Reserved concurrency (docs/deploying.md, "Concurrency"): the handshake keeps executions of its own while
other routes are flooded, the flood-prone routes cannot take the whole account, and a new account with a
low concurrency limit can switch reservations off."""

from __future__ import annotations

import pytest

from infra import constants
from infra.constructs.functions import deployed_functions
from parley import routes
from tests.infra.synthesis import Synth

pytestmark = pytest.mark.infra

DEFAULTS = {function: default for function, (_, default) in constants.RESERVED_CONCURRENCY.items()}


def reserved(synth: Synth) -> dict[str, int]:
    """Function name -> its ReservedConcurrentExecutions, for the functions that have one."""
    found = {}
    for handler in deployed_functions():
        executions = synth.resource(f"Functions/{handler}")["Properties"].get("ReservedConcurrentExecutions")
        if executions is not None:
            found[handler] = executions
    return found


def test_the_handshake_has_headroom_and_flood_prone_routes_are_capped_by_default(synth: Synth) -> None:
    # given the default deployment / then $connect's authorizer and connect keep 50 executions each, and
    # typing, ping/$default and presence may run at most 50, 20 and 20 at once
    assert reserved(synth) == DEFAULTS == {routes.AUTHORIZER: 50, "connect": 50, "typing": 50, "default": 20,
                                           "presence": 20}
    # and send, history and the rest share the account's unreserved executions, uncapped


def test_each_reservation_can_be_changed_or_switched_off(configured: Synth) -> None:
    # given -c connectConcurrency=80 -c typingConcurrency=10 -c presenceConcurrency=off
    expected = {**DEFAULTS, "connect": 80, "typing": 10}
    del expected["presence"]
    # then those three change, presence draws on the unreserved executions, and the others keep their default
    assert reserved(configured) == expected


def test_a_new_account_can_deploy_without_any_reservation(new_account: Synth) -> None:
    # given -c reservedConcurrency=false (an account whose concurrency limit leaves nothing to reserve)
    # then no function reserves anything, so the deployment cannot fail on the account's limit
    assert reserved(new_account) == {}
