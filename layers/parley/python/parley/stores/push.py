"""SNS mobile push (APNs and FCM through the deploying team's platform applications), and the ledger
of pushes already sent."""

from __future__ import annotations

import json
import re

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.errors import EndpointDisabledError
from parley.ports import PushGateway, PushLedger
from parley.stores.codec import key
from parley.stores.errors import error_code, translated

# SNS passes this attribute to APNs as the apns-collapse-id header: pushes with the same one show once.
APNS_COLLAPSE_ID = "AWS.SNS.MOBILE.APNS.COLLAPSE_ID"
_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:[^ ]+) already exists")


class SnsPushGateway(PushGateway):
    def ensure_endpoint(self, application_arn: str, token: str, user_id: str) -> str:
        sns = client("sns")
        try:
            arn: str = sns.create_platform_endpoint(PlatformApplicationArn=application_arn, Token=token,
                                                    CustomUserData=user_id)["EndpointArn"]
        except ClientError as exc:
            # SNS: the token already has an endpoint with other attributes (another user, or disabled)
            found = _EXISTING_ENDPOINT.search(str(exc.response.get("Error", {}).get("Message", "")))
            if error_code(exc) != "InvalidParameter" or not found:
                raise
            arn = found.group(1)
        # Re-enable (SNS disables an endpoint when the platform reports the token invalid) and re-own it.
        sns.set_endpoint_attributes(EndpointArn=arn, Attributes={
            "Token": token, "Enabled": "true", "CustomUserData": user_id})
        return arn

    def delete_endpoint(self, endpoint_arn: str) -> None:
        client("sns").delete_endpoint(EndpointArn=endpoint_arn)

    def publish(self, endpoint_arn: str, message: dict[str, str], collapse_id: str | None = None) -> None:
        attributes = {}
        if collapse_id and ":endpoint/APNS" in endpoint_arn:  # APNS and APNS_SANDBOX
            attributes[APNS_COLLAPSE_ID] = {"DataType": "String", "StringValue": collapse_id}
        try:
            client("sns").publish(TargetArn=endpoint_arn, MessageStructure="json",
                                  Message=json.dumps(message, separators=(",", ":")), MessageAttributes=attributes)
        except ClientError as exc:
            if error_code(exc) == "EndpointDisabled":
                raise EndpointDisabledError(endpoint_arn) from exc
            raise


class DynamoPushLedger(PushLedger):
    """One ledger item per message (``PUSHED#<messageId>`` / ``~``) holding the pushed devices' hashes:
    one read and one write per message, not one write per device."""

    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def pushed(self, message_id: str) -> set[str]:
        with translated():
            resp = client("dynamodb").get_item(TableName=self._table, ConsistentRead=True,
                                               Key=key(table.pushed_pk(message_id), table.THROTTLE_SK))
        return set(resp.get("Item", {}).get("devices", {}).get("SS", []))

    def record(self, message_id: str, token_hashes: set[str], expires_at: int) -> None:
        if not token_hashes:
            return
        with translated():
            client("dynamodb").update_item(
                TableName=self._table, Key=key(table.pushed_pk(message_id), table.THROTTLE_SK),
                UpdateExpression="ADD devices :d SET #ttl = :exp",
                ExpressionAttributeNames={"#ttl": table.TTL_ATTRIBUTE},
                ExpressionAttributeValues={":d": {"SS": sorted(token_hashes)}, ":exp": {"N": str(expires_at)}})
