"""The secrets the simulators know or hand out, so tests can prove none leaks.

Every simulator calls `remember()` with each secret it is configured with or
issues: account passwords, login and OTA tokens, one-time codes, WiFi
passwords a client sends it, e-mail addresses that count as secrets. The test
suite's autouse secrets watch reads `known()` after each test and fails it when
any of them shows up in a log line, a diagnostics dump, an exception message or
a state attribute.
"""

_MIN_LENGTH = 6
"""Shorter values (a PIN of four digits) would match unrelated text by chance."""

_known: set[str] = set()


def remember(secret: str | None) -> None:
    """Add a secret (ignored when empty or too short to tell from noise)."""
    if secret is not None and len(secret) >= _MIN_LENGTH:
        _known.add(secret)


def known() -> frozenset[str]:
    """Every secret remembered since the last `forget_all()`."""
    return frozenset(_known)


def forget_all() -> None:
    """Start a new test with no secrets known."""
    _known.clear()
