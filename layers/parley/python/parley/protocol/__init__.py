"""The wire protocol: inbound frames (validated strictly) and outbound frames (camelCase JSON), one module
per feature (``parley.protocol.messages``, ``parley.protocol.presence``...).

A model is built when its module is imported, and building models is most of a cold start's cost: a handler
imports the modules of its own routes only. ``from parley.protocol import X`` still works everywhere (tests,
tools): it imports X's module when X is first asked for, and nothing else.

docs/protocol.md is the contract these models implement.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.protocol.attachments import (
        AttachmentReadyFrame,
        AttachmentUrl,
        AttachmentUrlsFrame,
        AttachmentUrlsRequest,
        RequestUploadRequest,
        UploadFrame,
    )
    from parley.protocol.base import (
        MAX_FRAME_BYTES,
        GroupName,
        Identifier,
        Inbound,
        MediaType,
        Outbound,
        UploadKey,
    )
    from parley.protocol.changes import (
        ChangedFrame,
        DeleteRequest,
        EditRequest,
        ReactRequest,
    )
    from parley.protocol.conversations import (
        ConversationFrame,
        ConversationInfo,
        ConversationsFrame,
        CreateGroupRequest,
        ListConversationsRequest,
        OpenDirectRequest,
    )
    from parley.protocol.devices import (
        DeviceFrame,
        PushToken,
        RegisterDeviceRequest,
        UnregisterDeviceRequest,
    )
    from parley.protocol.errors import (
        ErrorFrame,
        FrameRefs,
        PongFrame,
    )
    from parley.protocol.groups import (
        AddMembersRequest,
        LeaveRequest,
        RemoveMemberRequest,
        RenameGroupRequest,
        SetGroupSettingsRequest,
        SetRoleRequest,
    )
    from parley.protocol.keys import (
        DeviceKeys,
        DeviceRemovedFrame,
        GetKeysRequest,
        KeysChangedFrame,
        KeysFrame,
        KeysPublishedFrame,
        Prekey,
        PrekeyIn,
        PublishKeysRequest,
        RemoveDeviceRequest,
        UserKeys,
    )
    from parley.protocol.messages import (
        MAX_ATTACHMENTS,
        AckFrame,
        AttachmentIn,
        CompactAckFrame,
        CompactMessageFrame,
        HistoryFrame,
        HistoryRequest,
        MessageFrame,
        SendBody,
        SendRequest,
        ack_frame,
        message_frame,
        message_frames,
    )
    from parley.protocol.preferences import (
        MAX_MUTE_MS,
        ConversationPreferencesFrame,
        GetPreferencesRequest,
        PreferencesFrame,
        SetConversationPreferencesRequest,
        SetPreferencesRequest,
    )
    from parley.protocol.presence import (
        PresenceEntry,
        PresenceFrame,
        PresenceRequest,
        TypingFrame,
        TypingRequest,
    )
    from parley.protocol.safety import (
        BlockRequest,
        BlocksFrame,
        ListBlocksRequest,
        ReportedFrame,
        ReportRequest,
    )
    from parley.protocol.unread import (
        ReadRequest,
        ReceiptFrame,
        UnreadCountsFrame,
        UnreadCountsRequest,
        UnreadEntry,
        UnreadFrame,
    )

_FEATURES: dict[str, tuple[str, ...]] = {
    "base": ("GroupName", "Identifier", "Inbound", "MAX_FRAME_BYTES", "MediaType", "Outbound", "UploadKey"),
    "errors": ("ErrorFrame", "FrameRefs", "PongFrame"),
    "messages": ("AckFrame", "AttachmentIn", "CompactAckFrame", "CompactMessageFrame", "HistoryFrame",
                 "HistoryRequest", "MAX_ATTACHMENTS", "MessageFrame", "SendBody", "SendRequest", "ack_frame",
                 "message_frame", "message_frames"),
    "conversations": ("ConversationFrame", "ConversationInfo", "ConversationsFrame", "CreateGroupRequest",
                      "ListConversationsRequest", "OpenDirectRequest"),
    "groups": ("AddMembersRequest", "LeaveRequest", "RemoveMemberRequest", "RenameGroupRequest",
               "SetGroupSettingsRequest", "SetRoleRequest"),
    "presence": ("PresenceEntry", "PresenceFrame", "PresenceRequest", "TypingFrame", "TypingRequest"),
    "unread": ("ReadRequest", "ReceiptFrame", "UnreadCountsFrame", "UnreadCountsRequest", "UnreadEntry", "UnreadFrame"),
    "preferences": ("ConversationPreferencesFrame", "GetPreferencesRequest", "MAX_MUTE_MS", "PreferencesFrame",
                    "SetConversationPreferencesRequest", "SetPreferencesRequest"),
    "safety": ("BlockRequest", "BlocksFrame", "ListBlocksRequest", "ReportRequest", "ReportedFrame"),
    "devices": ("DeviceFrame", "PushToken", "RegisterDeviceRequest", "UnregisterDeviceRequest"),
    "changes": ("ChangedFrame", "DeleteRequest", "EditRequest", "ReactRequest"),
    "keys": ("DeviceKeys", "DeviceRemovedFrame", "GetKeysRequest", "KeysChangedFrame", "KeysFrame",
             "KeysPublishedFrame", "Prekey", "PrekeyIn", "PublishKeysRequest", "RemoveDeviceRequest", "UserKeys"),
    "attachments": ("AttachmentReadyFrame", "AttachmentUrl", "AttachmentUrlsFrame", "AttachmentUrlsRequest",
                    "RequestUploadRequest", "UploadFrame"),
}
_MODULES = {name: module for module, names in _FEATURES.items() for name in names}

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_FRAME_BYTES",
    "MAX_MUTE_MS",
    "AckFrame",
    "AddMembersRequest",
    "AttachmentIn",
    "AttachmentReadyFrame",
    "AttachmentUrl",
    "AttachmentUrlsFrame",
    "AttachmentUrlsRequest",
    "BlockRequest",
    "BlocksFrame",
    "ChangedFrame",
    "CompactAckFrame",
    "CompactMessageFrame",
    "ConversationFrame",
    "ConversationInfo",
    "ConversationPreferencesFrame",
    "ConversationsFrame",
    "CreateGroupRequest",
    "DeleteRequest",
    "DeviceFrame",
    "DeviceKeys",
    "DeviceRemovedFrame",
    "EditRequest",
    "ErrorFrame",
    "FrameRefs",
    "GetKeysRequest",
    "GetPreferencesRequest",
    "GroupName",
    "HistoryFrame",
    "HistoryRequest",
    "Identifier",
    "Inbound",
    "KeysChangedFrame",
    "KeysFrame",
    "KeysPublishedFrame",
    "LeaveRequest",
    "ListBlocksRequest",
    "ListConversationsRequest",
    "MediaType",
    "MessageFrame",
    "OpenDirectRequest",
    "Outbound",
    "PongFrame",
    "PreferencesFrame",
    "Prekey",
    "PrekeyIn",
    "PresenceEntry",
    "PresenceFrame",
    "PresenceRequest",
    "PublishKeysRequest",
    "PushToken",
    "ReactRequest",
    "ReadRequest",
    "ReceiptFrame",
    "RegisterDeviceRequest",
    "RemoveDeviceRequest",
    "RemoveMemberRequest",
    "RenameGroupRequest",
    "ReportRequest",
    "ReportedFrame",
    "RequestUploadRequest",
    "SendBody",
    "SendRequest",
    "SetConversationPreferencesRequest",
    "SetGroupSettingsRequest",
    "SetPreferencesRequest",
    "SetRoleRequest",
    "TypingFrame",
    "TypingRequest",
    "UnreadCountsFrame",
    "UnreadCountsRequest",
    "UnreadEntry",
    "UnreadFrame",
    "UnregisterDeviceRequest",
    "UploadFrame",
    "UploadKey",
    "UserKeys",
    "ack_frame",
    "message_frame",
    "message_frames",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"parley.protocol.{module}"), name)
