"""HTTP(S) requests with every failure mapped to the integration's errors.

aiohttp, TLS and JSON exceptions and unexpected HTTP statuses become the small
error family of `errors.py`; messages name the request (`label`, usually the
path), never a header, a body or a secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterator
import contextlib
from contextlib import contextmanager
import ipaddress
import ssl as ssl_module
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .errors import (
    CannotConnect,
    CertificateMismatch,
    DeviceBusy,
    EndpointGone,
    GatewayError,
    InvalidAuth,
    InvalidResponse,
    UntrustedCertificate,
)

type SslOption = ssl_module.SSLContext | bool | aiohttp.Fingerprint | None
"""aiohttp's `ssl=`: a context, verify on/off, a pinned certificate; None = verify."""


def ssl_value(option: SslOption) -> ssl_module.SSLContext | bool | aiohttp.Fingerprint:
    """Return aiohttp's `ssl=` value for an option (None means: verify)."""
    return True if option is None else option


@contextmanager
def mapped_errors(label: str) -> Iterator[None]:
    """Translate the transport exceptions raised inside into the integration's errors.

    The integration's own errors pass through unchanged.
    """
    try:
        yield
    except TimeoutError as err:
        raise CannotConnect(f"{label}: timed out") from err
    except aiohttp.ServerFingerprintMismatch as err:
        raise CertificateMismatch(f"{label}: the certificate changed") from err
    except aiohttp.ClientConnectorCertificateError as err:
        raise UntrustedCertificate(f"{label}: untrusted certificate") from err
    except aiohttp.ClientPayloadError as err:
        raise InvalidResponse(f"{label}: the answer was cut short") from err
    except aiohttp.ClientError as err:
        raise CannotConnect(f"{label}: {type(err).__name__}") from err
    except ValueError as err:
        raise InvalidResponse(f"{label}: not JSON") from err


def status_error(status: int, label: str) -> GatewayError:
    """Return the error for an unexpected HTTP status.

    401 → InvalidAuth, 503 → DeviceBusy, 404/410 → EndpointGone,
    400 → InvalidResponse, anything else → CannotConnect.
    """
    if status == 401:
        return InvalidAuth(f"{label}: rejected (401)")
    if status == 503:
        return DeviceBusy(f"{label}: device busy (503)")
    if status in (404, 410):
        return EndpointGone(f"{label}: HTTP {status}")
    if status == 400:
        return InvalidResponse(f"{label}: HTTP {status}")
    return CannotConnect(f"{label}: HTTP {status}")


async def read_json(response: aiohttp.ClientResponse) -> Any:
    """Return the body as JSON, whatever the content type says (ValueError if not)."""
    return await response.json(content_type=None)


async def read_nothing(response: aiohttp.ClientResponse) -> None:
    """Read and drop the body (an empty or irrelevant answer)."""
    await response.read()


async def request[T](
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    label: str,
    read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
    ok: Collection[int] = (200,),
    ssl: SslOption = None,
    client_timeout: aiohttp.ClientTimeout,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> T:
    """Send one request; return `read(response)` for an `ok` status; map every failure.

    Redirects are not followed (a device never sends one on purpose).
    """
    with mapped_errors(label):
        async with session.request(
            method,
            url,
            headers=headers,
            ssl=ssl_value(ssl),
            timeout=client_timeout,
            allow_redirects=False,
            **kwargs,
        ) as response:
            status = response.status
            if status in ok:
                return await read(response)
    raise status_error(status, label)


async def request_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    label: str,
    ssl: SslOption = None,
    client_timeout: aiohttp.ClientTimeout,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Send one request and return its JSON body (on 200); map every failure."""
    return await request(
        session,
        method,
        url,
        label=label,
        read=read_json,
        ssl=ssl,
        client_timeout=client_timeout,
        headers=headers,
        **kwargs,
    )


def bearer(token: str | None) -> dict[str, str] | None:
    """Return the Authorization header of a bearer token (None without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else None


def base_url(
    raw: str,
    *,
    schemes: Collection[str] = ("http", "https"),
    default_scheme: str = "https",
) -> str | None:
    """Turn what people type (an address, host:port, a copied URL) into a base URL.

    `scheme://host[:port]`, without path or trailing slash; an IPv6 address is
    put in brackets. Without a scheme `default_scheme` is used. None when no host
    can be read or the scheme is not one of `schemes`.
    """
    text = raw.strip()
    with contextlib.suppress(ValueError):  # a bare IPv6 address, no brackets
        text = f"[{ipaddress.IPv6Address(text)}]"
    if "://" not in text:
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}" + (f":{port}" if port else "")


__all__ = [
    "SslOption",
    "base_url",
    "bearer",
    "mapped_errors",
    "read_json",
    "read_nothing",
    "request",
    "request_json",
    "ssl_value",
    "status_error",
]
