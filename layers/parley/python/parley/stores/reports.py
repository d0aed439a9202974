"""Reports: ``REPORT#<cid>`` / ``<seq>#<reporter>`` -- one per reporter and message, in the index as
``REPORTS#open`` until resolved, then ``REPORTS#resolved`` (``parley.table``)."""

from __future__ import annotations

from typing import Any, Literal

from botocore.exceptions import ClientError

from parley import table
from parley.aws import client
from parley.models import Report, ReportStatus, Resolution, ReviewedReport
from parley.ports import ReportStore
from parley.stores.batch import transact_unless_first_fails
from parley.stores.codec import from_item, key, to_item
from parley.stores.errors import error_code, translated
from parley.stores.pages import decode_cursor, encode_cursor

_INDEX_KEYS = (table.PK, table.SK, table.INDEX.partition_key, table.INDEX.sort_key)
_PARTITIONS = {ReportStatus.OPEN: table.IX_REPORTS_OPEN, ReportStatus.RESOLVED: table.IX_REPORTS_RESOLVED}


def _reviewed(item: dict[str, Any]) -> ReviewedReport:
    conversation_id = str(item[table.PK])[len("REPORT#"):]
    seq_part, _, reporter = str(item[table.SK]).partition("#")
    resolution = item.get("resolution")
    report = Report(conversation_id=conversation_id, seq=int(seq_part), message_id=str(item["messageId"]),
                    reported_user_id=str(item["reported"]), reporter_id=str(item.get("reporter", reporter)),
                    reason=item.get("reason"), text="", reported_at=int(item["at"]))
    return ReviewedReport(report=report, status=ReportStatus.RESOLVED if resolution else ReportStatus.OPEN,
                          resolution=Resolution(resolution) if resolution else None,
                          resolved_by=item.get("resolvedBy"),
                          resolved_at=int(item["resolvedAt"]) if "resolvedAt" in item else None,
                          note=item.get("note"))


def _ref_sk(report: Report) -> str:
    return table.report_index_sk(report.reported_at, report.conversation_id, report.seq, report.reporter_id)


def _ref_report(item: dict[str, Any]) -> Report:
    _at, conversation_id, seq, _reporter = str(item[table.SK]).split("#", 3)
    return Report(conversation_id=conversation_id, seq=int(seq), message_id=str(item["messageId"]),
                  reported_user_id=str(item["reported"]), reporter_id=str(item["reporter"]),
                  reason=item.get("reason"), text="", reported_at=int(item["at"]))


class DynamoReportStore(ReportStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def add(self, report: Report) -> bool:
        """The report and its two references (reports received by the reported user, made by the reporter), in
        one transaction: a report is counted exactly when it is stored."""
        item = to_item({
            table.PK: table.report_pk(report.conversation_id),
            table.SK: table.report_sk(report.seq, report.reporter_id),
            table.INDEX.partition_key: table.IX_REPORTS_OPEN,
            table.INDEX.sort_key: table.report_index_sk(report.reported_at, report.conversation_id, report.seq,
                                                        report.reporter_id),
            "messageId": report.message_id, "reported": report.reported_user_id, "reporter": report.reporter_id,
            "reason": report.reason, "at": report.reported_at,  # never the text: deleting the message deletes it
        })
        refs = [to_item({table.PK: table.report_ref_pk(role, user), table.SK: _ref_sk(report),
                         "reported": report.reported_user_id, "reporter": report.reporter_id,
                         "reason": report.reason, "messageId": report.message_id, "at": report.reported_at})
                for role, user in (("reported", report.reported_user_id), ("reporter", report.reporter_id))]
        return transact_unless_first_fails([
            {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
            *({"Put": {"TableName": self._table, "Item": ref}} for ref in refs)])

    def involving(self, user_id: str, role: Literal["reported", "reporter"],
                  limit: int) -> tuple[int, list[Report]]:
        pk = table.report_ref_pk(role, user_id)
        values = to_item({":pk": pk})
        recent: list[Report] = []
        if limit > 0:
            with translated():
                resp = client("dynamodb").query(TableName=self._table, KeyConditionExpression="pk = :pk",
                                                ExpressionAttributeValues=values, ScanIndexForward=False, Limit=limit)
            recent = [_ref_report(from_item(i)) for i in resp.get("Items", [])]
        request: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": "pk = :pk",
                                   "ExpressionAttributeValues": values, "Select": "COUNT"}
        count = 0
        while True:
            with translated():
                resp = client("dynamodb").query(**request)
            count += int(resp.get("Count", 0))
            if "LastEvaluatedKey" not in resp:
                return count, recent
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def of_conversation(self, conversation_id: str, limit: int) -> list[ReviewedReport]:
        with translated():
            resp = client("dynamodb").query(
                TableName=self._table, KeyConditionExpression="pk = :pk", ScanIndexForward=False, Limit=limit,
                ExpressionAttributeValues=to_item({":pk": table.report_pk(conversation_id)}))
        return [_reviewed(from_item(i)) for i in resp.get("Items", [])]

    def get(self, conversation_id: str, seq: int, reporter_id: str) -> ReviewedReport | None:
        with translated():
            resp = client("dynamodb").get_item(
                TableName=self._table, ConsistentRead=True,
                Key=key(table.report_pk(conversation_id), table.report_sk(seq, reporter_id)))
        return _reviewed(from_item(resp["Item"])) if "Item" in resp else None

    def of_message(self, conversation_id: str, seq: int) -> list[ReviewedReport]:
        request: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :seq)",
            "ExpressionAttributeValues": to_item({":pk": table.report_pk(conversation_id),
                                                  ":seq": f"{seq:0{table.SEQ_WIDTH}d}#"})}
        found: list[ReviewedReport] = []
        while True:
            with translated():
                resp = client("dynamodb").query(**request)
            found.extend(_reviewed(from_item(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return found
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def page(self, status: ReportStatus, limit: int, cursor: str | None) -> tuple[list[ReviewedReport], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table, "IndexName": table.INDEX.name, "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": "ix = :ix", "ExpressionAttributeValues": to_item({":ix": _PARTITIONS[status]})}
        start = decode_cursor(cursor, _INDEX_KEYS)
        if start is not None:
            request["ExclusiveStartKey"] = start
        with translated():
            resp = client("dynamodb").query(**request)
        return [_reviewed(from_item(i)) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))

    def resolve(self, report: Report, resolution: Resolution, by: str, at: int, note: str | None) -> bool:
        values: dict[str, Any] = {":resolved": table.IX_REPORTS_RESOLVED, ":ixs": table.report_index_sk(
            at, report.conversation_id, report.seq, report.reporter_id), ":resolution": resolution.value,
            ":by": by, ":at": at}
        update = "SET ix = :resolved, ixs = :ixs, resolution = :resolution, resolvedBy = :by, resolvedAt = :at"
        if note is not None:
            values[":note"] = note
            update += ", note = :note"
        try:
            with translated():
                client("dynamodb").update_item(
                    TableName=self._table, Key=key(table.report_pk(report.conversation_id),
                                                   table.report_sk(report.seq, report.reporter_id)),
                    UpdateExpression=update,
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(resolution)",
                    ExpressionAttributeValues=to_item(values))
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
