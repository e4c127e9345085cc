"""Self-signed TLS certificates the simulators serve HTTPS with (stdlib ssl + cryptography)."""

import contextlib
import datetime
import hashlib
import ipaddress
import os
from pathlib import Path
import ssl

# Imported here, not when the first certificate is made: a first import under a
# test's frozen clock would bind cryptography to the fake datetime class.
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def create_certificate(
    directory: Path, host: str, stem: str, name: str = "Device"
) -> tuple[ssl.SSLContext, str]:
    """Write a self-signed certificate and key to ``directory``.

    The files are ``{stem}.crt`` and ``{stem}.key`` (the key owner-only); the
    subject is ``CN={name}, O={name} simulator``. It covers ``localhost``,
    127.0.0.1 and ``host``. Returns a server SSL context and the SHA-256
    fingerprint (hex) of the certificate.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{name} simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for address in {"127.0.0.1", host}:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            alt_names.append(x509.DNSName(address))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # created owner-only, so the key is never readable by others, not even briefly
    with contextlib.suppress(FileNotFoundError):
        key_path.unlink()
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()


def _covers(certificate: x509.Certificate, host: str) -> bool:
    """Whether the certificate's subject alternative names include ``host``."""
    try:
        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.lower() in (
            name.lower() for name in names.get_values_for_type(x509.DNSName)
        )
    return address in names.get_values_for_type(x509.IPAddress)


def load_certificate(
    directory: Path, host: str, stem: str
) -> tuple[ssl.SSLContext, str] | None:
    """Load ``{stem}.crt`` and ``{stem}.key`` from ``directory`` if usable.

    Usable: both files exist and parse, the key belongs to the certificate, the
    certificate is valid now (and for another day) and covers ``host`` and
    127.0.0.1. Returns a server SSL context and the SHA-256 fingerprint (hex),
    or None when the files are missing or not usable.
    """
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # raises SSLError when the key is unreadable or does not match
        context.load_cert_chain(cert_path, key_path)
    except OSError, ValueError, ssl.SSLError:
        return None
    now = datetime.datetime.now(datetime.UTC)
    if not (
        certificate.not_valid_before_utc <= now
        and now + datetime.timedelta(days=1) < certificate.not_valid_after_utc
    ):
        return None
    if not all(_covers(certificate, name) for name in {"127.0.0.1", host}):
        return None
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()


def reuse_or_create_certificate(
    directory: Path, host: str, stem: str, name: str = "Device"
) -> tuple[ssl.SSLContext, str]:
    """Return the usable certificate in ``directory``, or write a new one there.

    The directory is created (owner-only) when missing. See
    :func:`load_certificate` and :func:`create_certificate`.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    loaded = load_certificate(directory, host, stem)
    if loaded is not None:
        return loaded
    return create_certificate(directory, host, stem, name)


def colon_fingerprint(sha256_hex: str) -> str:
    """Write a hex fingerprint as ``AB:CD:...`` (as the config flows show it)."""
    text = sha256_hex.upper()
    return ":".join(text[index : index + 2] for index in range(0, len(text), 2))
