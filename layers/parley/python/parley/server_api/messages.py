"""``POST /v1/conversations/{conversationId}/messages``: a system message, sent by the app itself or by one of
its named bots. It is stored, delivered, counted unread and pushed like a member's message
(``MessagingService.post_system``), and a resend with the same ``clientMsgId`` is recognised, not stored twice."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field, StringConstraints

from parley.audit import audit_targets
from parley.models import MessageBody
from parley.server_api.base import ApiModel, delivered
from parley.user_ids import BOT_NAME_PATTERN, SYSTEM_SENDER, bot_sender
from parley.wiring import services

router = APIGatewayHttpRouter()

ConversationId = Annotated[str, Path(min_length=1, max_length=64, description="A conversation's id.")]


class SystemMessageRequest(ApiModel):
    client_msg_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = \
        Field(description="Your id for this message: a retry with the same one is recognised, not stored twice.")
    text: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="At most `PARLEY_MAX_TEXT_BYTES` bytes of UTF-8 (else `text_too_long`).")
    bot: Annotated[str, StringConstraints(pattern=BOT_NAME_PATTERN)] | None = Field(
        default=None, description="Sent by this named bot (sender `#bot:<name>`); absent: by the system "
                                  "(sender `#system`).")
    last_seq: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="As in the chat protocol's `send`: the newest seq you knew of when you first "
                                  "sent this clientMsgId; a resend is then recognised however late.")


class SystemMessageResponse(ApiModel):
    conversation_id: str
    seq: int
    message_id: str
    sender_id: str = Field(description="`#system` or `#bot:<name>`.")
    sent_at: int
    client_msg_id: str
    duplicate: bool = Field(description="True: a resend of a message already stored; nothing new was stored.")


@router.post("/v1/conversations/<conversationId>/messages", summary="Post a system message",
             tags=["system messages"])
def post_system_message(conversationId: ConversationId, request: SystemMessageRequest) -> SystemMessageResponse:
    audit_targets(conversation_id=conversationId)
    sender = bot_sender(request.bot) if request.bot else SYSTEM_SENDER
    sent = services().messaging.post_system(sender, conversationId, request.client_msg_id,
                                            MessageBody(text=request.text), last_seq=request.last_seq)
    delivered(sent, router.lambda_context)
    m = sent.message
    audit_targets(message=f"{conversationId}#{m.seq}")
    return SystemMessageResponse(conversation_id=conversationId, seq=m.seq, message_id=m.message_id,
                                 sender_id=m.sender_id, sent_at=m.sent_at, client_msg_id=m.client_msg_id,
                                 duplicate=sent.duplicate)
