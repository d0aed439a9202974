"""What every frame model shares: the inbound and outbound bases and the identifier types.

docs/protocol.md is the contract these models implement."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

# Identifiers chosen by clients or the server: short, URL-safe.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


MAX_FRAME_BYTES = 32 * 1024  # one API Gateway frame; text is capped far lower by settings


class Inbound(BaseModel):
    # defer_build: a model is built when first used, not at import (a cold start builds only what it uses)
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, alias_generator=to_camel,
                              defer_build=True)

    action: str
    request_id: Identifier | None = None


UploadKey = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^u/[A-Za-z0-9_.:/-]+$")]


MediaType = Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$")]


class Outbound(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, defer_build=True)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), separators=(",", ":"),
                          ensure_ascii=False)
