"""Upload records: ``UPLOAD#<key>`` / ``~``. The send path and the thumbnail maker each update the record
atomically and read it back, so whichever comes second sees the other's part: a message sent before its
thumbnail was ready still gets the "attachment ready" update, and one sent after carries the preview."""

from __future__ import annotations

from typing import Any

from parley import table
from parley.aws import client
from parley.models import UploadRecord
from parley.ports import UploadRecordStore
from parley.stores.batch import batch_get
from parley.stores.codec import from_item, key, set_expression
from parley.stores.errors import translated

_FIELDS = {"conversation_id": "cid", "seq": "seq", "thumbnail_key": "thumb", "served_key": "served",
           "preview": "pv", "width": "w", "height": "h", "deleted_at": "del"}


def _record(object_key: str, item: dict[str, Any]) -> UploadRecord:
    return UploadRecord(key=object_key, **{name: item[attr] for name, attr in _FIELDS.items() if attr in item})


class DynamoUploadRecordStore(UploadRecordStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def update(self, object_key: str, **fields: object) -> UploadRecord:
        values = {_FIELDS[name]: value for name, value in fields.items() if value is not None}
        with translated():
            resp = client("dynamodb").update_item(
                TableName=self._table, Key=key(table.upload_pk(object_key), table.THROTTLE_SK),
                ReturnValues="ALL_NEW", **set_expression(values))
        return _record(object_key, from_item(resp["Attributes"]))

    def get_many(self, object_keys: list[str]) -> dict[str, UploadRecord]:
        found: dict[str, UploadRecord] = {}
        keys = [key(table.upload_pk(k), table.THROTTLE_SK) for k in dict.fromkeys(object_keys)]
        for item in batch_get(self._table, keys):
            object_key = str(item[table.PK])[len("UPLOAD#"):]
            found[object_key] = _record(object_key, item)
        return found
