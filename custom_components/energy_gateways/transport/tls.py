"""Trust on first use for devices with a self-signed TLS certificate.

A LAN gateway rarely has a certificate a public authority signed. Instead of
turning verification off, the user is shown the certificate's SHA-256
fingerprint once and trusts exactly that certificate; aiohttp then refuses any
other one (`aiohttp.Fingerprint`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from urllib.parse import urlsplit

import aiohttp

from .errors import CannotConnect

CONNECT_TIMEOUT = 10.0


def fingerprint_option(sha256_hex: str) -> aiohttp.Fingerprint:
    """Return aiohttp's `ssl=` value that accepts only this certificate."""
    return aiohttp.Fingerprint(bytes.fromhex(sha256_hex))


def format_fingerprint(sha256_hex: str) -> str:
    """Show a fingerprint the way browsers do: AB:CD:…, upper case."""
    digits = sha256_hex.upper()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


async def async_certificate_sha256(url: str) -> str:
    """Connect to an https URL without verifying and return its certificate's hash.

    Only the hash is read; nothing is sent over the connection.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    # Nothing is verified here on purpose: the hash is shown to the user, who
    # decides. No CA bundle is loaded, so creating the context does not block.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            _, writer = await asyncio.open_connection(host, port, ssl=context)
    except (OSError, TimeoutError) as err:
        raise CannotConnect(f"{host}:{port}: {type(err).__name__}") from err
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        certificate = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(1):
                await writer.wait_closed()
    if not certificate:
        raise CannotConnect(f"{host}:{port}: no certificate")
    return hashlib.sha256(certificate).hexdigest()
