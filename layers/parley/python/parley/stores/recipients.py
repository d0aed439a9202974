"""What the push notifier reads of a message's recipients: each one's ``USER#<uid>`` / ``~PROFILE`` (settings,
devices, badge) and ``USER#<uid>`` / ``MEMBER#<cid>`` (read position, mute) items, in one eventually
consistent BatchGetItem: two items per recipient, however many conversations they are in."""

from __future__ import annotations

from parley import table
from parley.models import Membership, Profile, Recipient
from parley.ports import RecipientStore
from parley.stores.batch import batch_get
from parley.stores.codec import key
from parley.stores.conversations import membership_from_item
from parley.stores.profiles import profile_from_item


class DynamoRecipientStore(RecipientStore):
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def get_many(self, user_ids: list[str], conversation_id: str) -> dict[str, Recipient]:
        users = list(dict.fromkeys(user_ids))
        keys = [k for uid in users for k in (key(table.user_pk(uid), table.PROFILE_SK),
                                                 key(table.user_pk(uid), table.member_sk(conversation_id)))]
        profiles: dict[str, Profile] = {}
        memberships: dict[str, Membership] = {}
        for item in batch_get(self._table, keys):  # 100 keys per call: 50 recipients
            uid = str(item[table.PK])[len("USER#"):]
            if item[table.SK] == table.PROFILE_SK:
                profiles[uid] = profile_from_item(uid, item)
            else:
                memberships[uid] = membership_from_item(uid, item)
        return {uid: Recipient(profile=profiles.get(uid) or profile_from_item(uid, None),
                               membership=memberships.get(uid)) for uid in users}
