"""Parley's CDK code: the ``Parley`` construct for a host app's stack, its typed props, and the repository's
own app (``infra/app.py``). ``from infra import Parley, AuthConfig``."""

from infra.construct import Parley
from infra.constructs.runtime import RuntimeOptions
from infra.constructs.websocket_api import CustomDomain
from infra.context import (
    AttachmentsConfig,
    AuthConfig,
    ConcurrencyConfig,
    ModerationConfig,
    PlatformApplication,
    PushConfig,
    ThrottleConfig,
)
from parley.config import AuthMode

__all__ = ["AttachmentsConfig", "AuthConfig", "AuthMode", "ConcurrencyConfig", "CustomDomain", "ModerationConfig",
           "Parley", "PlatformApplication", "PushConfig", "RuntimeOptions", "ThrottleConfig"]
