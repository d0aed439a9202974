"""Reports: ``REPORT#<cid>`` / ``<seq>#<reporter>`` -- one per reporter and message."""

from __future__ import annotations

from parley import table
from parley.models import Report
from parley.ports import ReportStore
from parley.stores.codec import to_item
from parley.stores.errors import put_if_absent


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
        return put_if_absent(self._table, item)
