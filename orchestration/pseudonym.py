"""Keyed pseudonyms for case ids: HMAC-SHA256 of ``<country>:<id>`` with a secret key.

The key comes from ``CPWH_PSEUDONYM_KEY``; without it, a random key is created once in
``$CPWH_HOME/pseudonym.key`` (owner-only permissions) and reused, so pseudonyms are stable across
runs. The key is never logged. A dbt-duckdb plugin (``transform/dbt_plugins/cpwh_pseudonym.py``) registers
``cpwh_pseudonym(country, id)`` on dbt's connections, so the SQL that replaces ids lives in dbt. The Parquet raw
layer for Spark (``ingest/lake.py``) registers the same function where it writes the raw rows, so
both engines give the same pseudonyms and Spark never holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENVIRONMENT_VARIABLE = "CPWH_PSEUDONYM_KEY"
KEY_FILE_NAME = "pseudonym.key"


def load_key(home: Path | None = None) -> bytes:
    configured = os.environ.get(KEY_ENVIRONMENT_VARIABLE)
    if configured:
        return configured.encode("utf-8")
    home = Path(home or os.environ.get("CPWH_HOME") or "data")
    path = home / KEY_FILE_NAME
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonym(key: bytes, country: str, record_id: str) -> str:
    return hmac.new(key, f"{country}:{record_id}".encode(), hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    """A short check value of the key (a keyed hash of a constant): tells files written with another
    key apart without revealing anything about it."""
    return hmac.new(key, b"cpwh key check", hashlib.sha256).hexdigest()[:12]


HMAC_BLOCK_BYTES = 64  # SHA-256's block size


def _hmac_keys(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer keys (RFC 2104): the key padded to a block, XOR 0x36 and XOR 0x5c."""
    if len(key) > HMAC_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# Every character Python's ``str.strip()`` removes, so that SQL strips an id as Python does. Written
# out: deriving it scans every code point (half a second in each dbt process); a test derives it.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def register(conn, key: bytes) -> None:
    """``cpwh_pseudonym(country, id)`` on a DuckDB connection (null for a null id): ``pseudonym`` of
    the stripped id, as a temporary SQL macro over DuckDB's sha256. On one thread it costs what a
    Python function did (about 1.7 µs an id); unlike Python, it runs on all of DuckDB's threads and
    never takes the interpreter's lock from dbt's other thread.

    A temporary macro belongs to its connection (each cursor registers it again) and is never written
    to the database file; the SQL text that holds the derived keys goes to DuckDB only, never to a
    file or log, and no dbt model names anything but ``cpwh_pseudonym``."""
    inner, outer = _hmac_keys(key)
    conn.execute(
        "create or replace temp macro cpwh_pseudonym(country, record_id) as sha256("
        f"unhex('{outer.hex()}') || unhex(sha256(unhex('{inner.hex()}')"
        " || encode(country || ':' || trim(record_id, $whitespace$" + PYTHON_WHITESPACE + "$whitespace$)))))"
    )
