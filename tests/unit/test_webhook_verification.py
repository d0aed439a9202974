"""The webhook verification example of docs/events.md, run as written: it accepts what SNS signs (signature
version 2) for the right topic, and refuses a tampered message, a foreign certificate host, version 1 and
another topic."""

from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
TOPIC = "arn:aws:sns:us-east-1:123456789012:Parley-ModerationTopic"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"


def example() -> dict[str, Any]:
    text = DOC.read_text()
    found = re.search(r"<!-- webhook-verification-example -->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/events.md lost its verification example"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(DOC), "exec"), namespace)  # our own document's code, run as written
    return namespace


class Signer:
    """Plays SNS: a key, its certificate, and messages signed as SNS signs them (SignatureVersion 2)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.datetime.now(datetime.UTC)
        cert = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key()) \
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)) \
            .sign(self.key, hashes.SHA256())
        self.pem = cert.public_bytes(serialization.Encoding.PEM)
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pem

    def sign(self, body: dict[str, str], fields: tuple[str, ...]) -> dict[str, str]:
        signed = "".join(f"{k}\n{body[k]}\n" for k in fields if k in body)
        signature = self.key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {**body, "SignatureVersion": "2", "SigningCertURL": CERT_URL,
                "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
def verify() -> Callable[..., bool]:
    verify_sns_message: Callable[..., bool] = example()["verify_sns_message"]
    return verify_sns_message


@pytest.fixture
def sns() -> Signer:
    return Signer()


def notification(sns: Signer) -> dict[str, str]:
    return sns.sign({"Type": "Notification", "MessageId": "m-1", "TopicArn": TOPIC,
                     "Message": '{"type":"user.banned","version":1,"userId":"mallory"}',
                     "Timestamp": "2026-12-01T12:00:00.000Z"}, example()["SIGNED_FIELDS"]["Notification"])


def test_a_notification_signed_by_sns_for_the_topic_is_accepted(verify: Callable[..., bool], sns: Signer) -> None:
    assert verify(notification(sns), TOPIC, fetch=sns.fetch) is True
    assert sns.fetched == [CERT_URL]


def test_a_subscription_confirmation_is_verified_over_its_own_fields(verify: Callable[..., bool],
                                                                    sns: Signer) -> None:
    fields = example()["SIGNED_FIELDS"]["SubscriptionConfirmation"]
    body = sns.sign({"Type": "SubscriptionConfirmation", "MessageId": "m-2", "TopicArn": TOPIC, "Token": "t",
                     "Message": "You have chosen to subscribe", "Timestamp": "2026-12-01T12:00:00.000Z",
                     "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"}, fields)
    assert verify(body, TOPIC, fetch=sns.fetch) is True
    assert verify({**body, "SubscribeURL": "https://evil.example/"}, TOPIC, fetch=sns.fetch) is False


@pytest.mark.parametrize("change", [
    {"Message": '{"type":"user.banned","version":1,"userId":"alice"}'},  # tampered
    {"SignatureVersion": "1"},
    {"TopicArn": "arn:aws:sns:us-east-1:123456789012:someone-else"},
    {"SigningCertURL": "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem"},
    {"SigningCertURL": "http://sns.us-east-1.amazonaws.com/cert.pem"},
    {"SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.txt"},
    {"Signature": "not base64!"},
    {"Type": "Whatever"},
])
def test_anything_else_is_refused(verify: Callable[..., bool], sns: Signer, change: dict[str, str]) -> None:
    assert verify({**notification(sns), **change}, TOPIC, fetch=sns.fetch) is False


def test_a_certificate_from_a_foreign_host_is_never_fetched(verify: Callable[..., bool], sns: Signer) -> None:
    verify({**notification(sns), "SigningCertURL": "https://attacker.example/sns.pem"}, TOPIC, fetch=sns.fetch)
    assert sns.fetched == []
