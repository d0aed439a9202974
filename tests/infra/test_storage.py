"""The DynamoDB table is the one ``parley.table`` designs, and it survives mistakes."""

from __future__ import annotations

import pytest

from parley.table import TABLE
from tests.infra.synthesis import Synth

pytestmark = pytest.mark.infra


def the_table(synth: Synth) -> dict:
    (table,) = synth.of_type("AWS::DynamoDB::Table").values()
    return table


def test_table_has_the_keys_parley_table_declares(synth: Synth) -> None:
    # given the design the stores, the moto tests and the local stack create their table from
    design = TABLE.create_table_kwargs(table_name="unused")
    # when the stack is synthesized
    table = the_table(synth)["Properties"]
    # then the deployed table has the very same keys and billing mode
    assert table["KeySchema"] == design["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(design["AttributeDefinitions"], key=str)
    assert table["BillingMode"] == design["BillingMode"]


def test_expired_items_are_removed_through_the_ttl_attribute(synth: Synth) -> None:
    # stale connection records (missed $disconnect) expire through TTL
    assert the_table(synth)["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": TABLE.ttl_attribute, "Enabled": True}


def test_table_is_encrypted_and_recoverable_to_a_point_in_time(synth: Synth) -> None:
    table = the_table(synth)["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_deleting_or_replacing_the_stack_keeps_the_messages(synth: Synth) -> None:
    table = the_table(synth)
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_the_table_refuses_to_be_deleted_by_default(synth: Synth) -> None:
    # given the default deployment / then DeleteTable fails, from any tool, until protection is switched off
    assert the_table(synth)["Properties"]["DeletionProtectionEnabled"] is True


def test_deletion_protection_can_be_switched_off(new_account: Synth) -> None:
    # given -c tableDeletionProtection=false / then the table can be deleted (it is still kept with the stack)
    table = the_table(new_account)
    assert table["Properties"].get("DeletionProtectionEnabled", False) is False
    assert table["DeletionPolicy"] == "Retain"
