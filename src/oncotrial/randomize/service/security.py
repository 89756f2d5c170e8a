"""Passwords and API tokens.

* Passwords: scrypt (RFC 7914) via :func:`hashlib.scrypt` with a random 16-byte salt,
  ``N = 2**14, r = 8, p = 1`` (the interactive-login parameters of RFC 7914 section 2), stored
  as ``scrypt$N$r$p$salt_hex$key_hex`` and compared in constant time.
* API tokens: 32 random bytes (:func:`secrets.token_urlsafe`) prefixed ``ot_``; only
  their SHA-256 is stored, so a database dump reveals no usable token. A token is shown once,
  when issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
TOKEN_PREFIX = "ot_"


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$key`` for ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_DKLEN
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the stored scrypt hash (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt_hex, key_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        key = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(key_hex) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(key.hex(), key_hex)


def new_token() -> str:
    """A fresh random API token (shown once; store only :func:`token_digest`)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a token: what the ``api_tokens`` table stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
