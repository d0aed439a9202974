"""Reports: ``REPORT#<cid>`` / ``<seq>#<reporter>`` -- one per reporter and message."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Report
from parley.ports import ReportStore
from parley.stores.codec import to_item
from parley.stores.errors import error_code, translated


class DynamoReportStore(ReportStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def add(self, report: Report) -> bool:
        item = to_item({
            table.PK: table.report_pk(report.conversation_id),
            table.SK: f"{report.seq:0{table.SEQ_WIDTH}d}#{report.reporter_id}",
            "messageId": report.message_id, "reported": report.reported_user_id, "reporter": report.reporter_id,
            "reason": report.reason, "at": report.reported_at,
        })
        try:
            with translated():
                client("dynamodb").put_item(TableName=self._table, Item=item,
                                            ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
