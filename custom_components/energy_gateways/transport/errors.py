"""The error classes every device client raises.

Clients translate transport exceptions (aiohttp, JSON, timeouts) into these, so the
Home Assistant side only ever handles this small family.
"""


class GatewayError(Exception):
    """Base class of every error a device client raises."""


class CannotConnect(GatewayError):
    """The device did not answer, or the connection broke."""


class DeviceBusy(CannotConnect):
    """The device answered 503 or similar: try again later (e.g. while rebooting)."""


class InvalidResponse(GatewayError):
    """The device answered, but not with what the API document describes."""


class EndpointGone(InvalidResponse):
    """The device answered 404/410 for an endpoint it offered before (new firmware)."""


class InvalidAuth(GatewayError):
    """The credentials or token were rejected."""


class TransportUnsupported(GatewayError):
    """The device refused this transport (e.g. no WebSocket endpoint): try the next one."""


class Rejected(GatewayError):
    """The device refused a write (HTTP 400 or success: false); str() is its reason."""


class Forbidden(InvalidAuth):
    """The credentials are valid but lack the permission (HTTP 403)."""


class UntrustedCertificate(CannotConnect):
    """The device's TLS certificate is not signed by an authority we trust."""


class CertificateMismatch(CannotConnect):
    """The device's TLS certificate is not the one the user chose to trust."""


class InvalidHost(CannotConnect):
    """What was typed as the device's address is not a host name, address or URL."""
