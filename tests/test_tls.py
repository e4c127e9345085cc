"""Reading a device's certificate fingerprint for trust on first use."""

from __future__ import annotations

import hashlib
import ssl

from aiohttp import web
import pytest

from custom_components.energy_gateways.transport.errors import CannotConnect
from custom_components.energy_gateways.transport.tls import (
    async_certificate_sha256,
    fingerprint_option,
    format_fingerprint,
)
from simulators.gavazzi_ems import EmsSimulator


async def test_fingerprint_of_a_self_signed_certificate(socket_enabled: None) -> None:
    """The hash read over the wire is the hash of the certificate served."""
    simulator = EmsSimulator()
    await simulator.start(host="127.0.0.1", port=0, tls=True)
    try:
        assert simulator.certificate_path is not None
        pem = simulator.certificate_path.read_text()
        expected = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
        assert await async_certificate_sha256(simulator.url) == expected
    finally:
        await simulator.stop()


async def test_closed_port_cannot_connect(socket_enabled: None) -> None:
    """Nobody listening is a CannotConnect, not an OSError."""
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await runner.cleanup()
    with pytest.raises(CannotConnect):
        await async_certificate_sha256(f"https://127.0.0.1:{port}")


def test_fingerprint_formats() -> None:
    """Shown as colon-separated upper-case pairs; pinned as raw bytes."""
    digest = "ab" * 32
    assert format_fingerprint(digest) == ":".join(["AB"] * 32)
    assert fingerprint_option(digest).fingerprint == bytes.fromhex(digest)
