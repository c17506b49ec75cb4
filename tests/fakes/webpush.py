"""A web push service on loopback (RFC 8030) that does what a real one checks: the VAPID
JWT (RFC 8292: ES256, signed by the key in `k=`, `aud` is this origin, not expired, a `sub`),
and keeps the payload, which a test decrypts as the browser would (RFC 8291, aes128gcm) with
the subscription's private key (`FakeBrowserSubscription`)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class VapidKeys:
    """A VAPID key pair in the forms the settings take."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public(self) -> str:
        return b64url(_public_point(self.private_key))

    @property
    def private(self) -> str:
        return b64url(self.private_key.private_numbers().private_value.to_bytes(32, "big"))


@dataclass
class FakeBrowserSubscription:
    """What a browser's PushManager.subscribe() makes: keys only the browser holds."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(_public_point(self.private_key))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


@dataclass
class PushReceived:
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]
    vapid_key: str


class VapidError(Exception):
    pass


def verify_vapid(authorization: str, *, audience: str) -> tuple[dict[str, Any], str]:
    """The JWT's claims and the signing key, or VapidError saying what is wrong."""
    if not authorization.lower().startswith("vapid "):
        raise VapidError("Authorization is not the vapid scheme")
    params = dict(
        part.strip().split("=", 1) for part in authorization[6:].split(",") if "=" in part
    )
    token, key = params.get("t", ""), params.get("k", "")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    except (ValueError, TypeError) as error:
        raise VapidError(f"malformed: {error}") from error
    if header.get("alg") != "ES256" or len(signature) != 64:
        raise VapidError("not ES256")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise VapidError("bad signature") from error
    if claims.get("aud") != audience:
        raise VapidError(f"aud {claims.get('aud')!r} is not {audience!r}")
    if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
        raise VapidError("expired")
    if claims["exp"] > time.time() + 24 * 3600:
        raise VapidError("exp more than 24 hours ahead")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidError("no sub")
    return claims, key


class FakePushService:
    """with FakePushService() as service: service.endpoint("abc") -> http://127.0.0.1:port/push/abc.
    `gone` holds paths answered 410 (an expired subscription)."""

    def __init__(self) -> None:
        self.received: list[PushReceived] = []
        self.refused: list[str] = []
        self.gone: set[str] = set()
        # The applicationServerKey the subscriptions were made with: a JWT signed by any
        # other key is refused, as a real push service does.
        self.expected_key: str | None = None
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path in service.gone:
                    self.send_response(410)
                    self.end_headers()
                    return
                try:
                    claims, key = verify_vapid(
                        self.headers.get("Authorization", ""), audience=service.origin
                    )
                    if service.expected_key and key != service.expected_key:
                        raise VapidError("signed by another key than the subscription's")
                    if self.headers.get("Content-Encoding") != "aes128gcm":
                        raise VapidError("payload is not aes128gcm")
                    if not self.headers.get("TTL"):
                        raise VapidError("no TTL")
                except VapidError as error:
                    service.refused.append(str(error))
                    self.send_response(403)
                    self.end_headers()
                    return
                service.received.append(
                    PushReceived(self.path, dict(self.headers), body, claims, key)
                )
                self.send_response(201)
                self.send_header("Location", f"{service.origin}/message/{len(service.received)}")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def __enter__(self) -> FakePushService:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
