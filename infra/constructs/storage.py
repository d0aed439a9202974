"""The DynamoDB table, built from Parley's one table design (``parley.table.TABLE``)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from parley.table import TABLE

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 deletion_protection: bool | None = None) -> None:
        """``removal_policy``: whether the table outlives the stack (RETAIN, the default) or goes with it
        (DESTROY, for dev stages). ``deletion_protection`` follows it unless given."""
        super().__init__(scope, construct_id)
        # The key types come from the same definition the tests and the local stack create tables from.
        definition = TABLE.create_table_kwargs(table_name="parley")
        key_types = {a["AttributeName"]: _ATTRIBUTE_TYPES[a["AttributeType"]]
                     for a in definition["AttributeDefinitions"]}
        self.table = dynamodb.Table(
            self, "Table",
            partition_key=dynamodb.Attribute(name=TABLE.partition_key, type=key_types[TABLE.partition_key]),
            sort_key=dynamodb.Attribute(name=TABLE.sort_key, type=key_types[TABLE.sort_key]),
            time_to_live_attribute=TABLE.ttl_attribute,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # By default conversations and messages outlive any one deployment of the stack, and DeleteTable is
            # refused (by any tool, the console included) until deletion protection is switched off.
            removal_policy=removal_policy,
            deletion_protection=(removal_policy is RemovalPolicy.RETAIN if deletion_protection is None
                                 else deletion_protection),
        )
        self.table.add_global_secondary_index(
            index_name=TABLE.index.name,
            partition_key=dynamodb.Attribute(name=TABLE.index.partition_key,
                                             type=key_types[TABLE.index.partition_key]),
            sort_key=dynamodb.Attribute(name=TABLE.index.sort_key, type=key_types[TABLE.index.sort_key]),
            projection_type=dynamodb.ProjectionType.ALL,
        )
