"""Secret keys kept outside the database: the audit chain's HMAC key, the key that seals pictures.

A key is 32 random bytes, written as hex text. It comes from the environment
(`VIGIE_AUDIT_KEY`, `VIGIE_MEDIA_KEY`: 64 hex digits) or from a file
`<key folder>/<name>.key`, created at first use readable by the service's user
only (0600, in a 0700 folder). The key folder is `$VIGIE_KEY_DIR`, else
`keys/` in the data folder. Someone who can write the database but cannot read
the key can neither forge an audit entry nor read a sealed picture; keep the
key folder off the database's backups (or back it up apart).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

from vigie.errors import VigieError

KEY_DIR_ENV = "VIGIE_KEY_DIR"
KEY_BYTES = 32
_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


class KeyFileError(VigieError):
    """A key that cannot be read or is malformed (names the file or variable)."""


def key_dir(data_dir: str | Path) -> Path:
    """Where key files live: $VIGIE_KEY_DIR, else <data folder>/keys."""
    return Path(os.environ.get(KEY_DIR_ENV) or Path(data_dir) / "keys")


def _parse(text: str, where: str) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) < KEY_BYTES:
        raise KeyFileError(f"{where}: a key must be at least {KEY_BYTES * 2} hex digits")
    return raw


def _create(path: Path) -> None:
    """Write a new key file, 0600, unless one appeared meanwhile (another process won: keep theirs)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(KEY_BYTES) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if the file exists: never replaces a key
        except FileExistsError:
            pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_key(data_dir: str | Path, name: str, env: str, create: bool = True) -> bytes | None:
    """The key `name`: from $`env`, else from its file (made at first use when `create`).

    None when there is no key and `create` is false."""
    value = os.environ.get(env, "").strip()
    if value:
        return _parse(value, f"${env}")
    path = key_dir(data_dir) / f"{name}.key"
    cache_key = (str(path.resolve()), name)
    with _lock:
        if cache_key in _cache and path.exists():
            return _cache[cache_key]
        if not path.exists():
            if not create:
                return None
            _create(path)
        try:
            text = path.read_text(encoding="ascii")
        except OSError as exc:
            raise KeyFileError(
                f"the {name} key file {path.name} cannot be read ({exc.strerror}): run this as the service's user"
            ) from None
        key = _parse(text, f"the {name} key file {path.name}")
        _cache[cache_key] = key
        return key


# --- pictures at rest ------------------------------------------------------------------------------
MEDIA_ENV = "VIGIE_MEDIA_KEY"
# A Fernet token is version byte 0x80 then a 64-bit big-endian time: its first 5 bytes are these until
# 2106. Kept as bytes (not Fernet's base64 text) a token is 57 to 73 bytes longer than its picture; as
# text it would be a third larger, which matters for the synopsis tubes (hundreds of kB a track).
_TOKEN = b"\x80\x00\x00\x00\x00"
_TOKEN_TEXT = b"gAAAAA"  # the same, base64: thumbnails sealed by the first version of this code


class MediaBox:
    """Seals pictures at rest as Fernet tokens (AES-128-CBC, then HMAC-SHA-256 over version, time, IV
    and ciphertext; the `cryptography` package's primitives) under the media key, kept outside the
    database like the audit key.

    The token is Fernet's, byte for byte, kept as bytes rather than base64 text, and made and checked
    here from the same primitives as `cryptography.fernet` (signing key: the key's first 16 bytes,
    encryption key: the next 16): a third fewer bytes, and three times faster to open than through
    base64 (a synopsis opens every tube of its period). base64 of a sealed picture is a Fernet token.

    Only the store's picture gateway (vigie.store.pictures) uses it. `open` also takes a picture
    stored in the clear by an earlier version (a JPEG, a PNG, a tube), so that a store can be sealed
    in place (Pictures.seal_plain) while it serves, and Fernet's text tokens (the first sealed
    thumbnails)."""

    def __init__(self, key: bytes) -> None:
        key = bytes(key[:KEY_BYTES])
        self._key = key
        self._sign, self._encrypt = key[:16], key[16:]

    @classmethod
    def of(cls, data_dir: str | Path) -> "MediaBox":
        """The box of a data folder: $VIGIE_MEDIA_KEY, else keys/media.key (made 0600 at first use)."""
        return cls(load_key(data_dir, "media", MEDIA_ENV))

    @staticmethod
    def is_sealed(blob: bytes | None) -> bool:
        """Whether `blob` is a sealed picture (a Fernet token, as bytes or as text)."""
        head = bytes(blob[:6]) if blob else b""
        return head.startswith(_TOKEN) or head == _TOKEN_TEXT

    def seal(self, picture: bytes) -> bytes:
        # lazy: `import vigie` stays light
        from cryptography.hazmat.primitives import hashes, hmac, padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(bytes(picture)) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._encrypt), modes.CBC(iv)).encryptor()
        body = b"\x80" + int(time.time()).to_bytes(8, "big") + iv + encryptor.update(padded) + encryptor.finalize()
        mac = hmac.HMAC(self._sign, hashes.SHA256())
        mac.update(body)
        return body + mac.finalize()

    def open(self, blob: bytes) -> bytes:
        """The picture; raises KeyFileError when it was sealed under another key (or altered)."""
        blob = bytes(blob)
        if not self.is_sealed(blob):
            return blob
        if blob.startswith(_TOKEN_TEXT):
            return self._open_text(blob)
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, hmac, padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        mac = hmac.HMAC(self._sign, hashes.SHA256())
        mac.update(blob[:-32])
        try:
            if len(blob) < 1 + 8 + 16 + 16 + 32 or (len(blob) - 57) % 16:
                raise InvalidSignature
            mac.verify(blob[-32:])  # constant time; before anything is decrypted
        except InvalidSignature:
            raise self._refused() from None
        decryptor = Cipher(algorithms.AES(self._encrypt), modes.CBC(blob[9:25])).decryptor()
        padded = decryptor.update(blob[25:-32]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise self._refused() from None

    def _open_text(self, token: bytes) -> bytes:
        import base64

        from cryptography.fernet import Fernet, InvalidToken

        try:
            return Fernet(base64.urlsafe_b64encode(self._key)).decrypt(token)
        except InvalidToken:
            raise self._refused() from None

    @staticmethod
    def _refused() -> KeyFileError:
        return KeyFileError("a sealed picture cannot be opened: the media key is not the one it was sealed with")
