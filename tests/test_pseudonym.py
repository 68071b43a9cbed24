"""Keyed pseudonyms: key from the environment or a private local key file, stable across runs."""

import random
import stat
import sys

import duckdb
import pytest

from orchestration.pseudonym import KEY_FILE_NAME, PYTHON_WHITESPACE, load_key, pseudonym, register


def test_local_key_file_is_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("CPWH_PSEUDONYM_KEY", raising=False)
    first = load_key(tmp_path)
    mode = stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode)
    assert mode == 0o600
    assert load_key(tmp_path) == first and len(first) == 64


def test_environment_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", "from-the-environment")
    assert load_key(tmp_path) == b"from-the-environment"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_pseudonyms_depend_on_key_and_country():
    a = pseudonym(b"k1", "BGD", "123")
    assert a == pseudonym(b"k1", "BGD", "123")
    assert a != pseudonym(b"k2", "BGD", "123") and a != pseudonym(b"k1", "KEN", "123")
    assert len(a) == 64 and "123" not in a


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"y" * 65, "ключ-🔑".encode()])
def test_sql_pseudonym_is_the_python_hmac_of_the_stripped_id(key):
    """DuckDB's cpwh_pseudonym (a macro over sha256) gives pseudonym(key, country, id.strip()) for any
    text, keys shorter and longer than a block, and Unicode whitespace that SQL's trim() keeps."""
    rnd = random.Random(3)
    chars = ["a", "0", "é", "中", "😀", ":", "'", "$", "\\", " ", "\t", "\n", "\u3000", "\xa0", "\x1c", "\x85"]
    ids = ["".join(rnd.choice(chars) for _ in range(rnd.randint(0, 10))) for _ in range(500)] + [None, "", " "]
    con = duckdb.connect()
    register(con, key)
    got = [con.execute("select cpwh_pseudonym(?, ?)", ["BGD", i]).fetchone()[0] for i in ids]
    assert got == [None if i is None else pseudonym(key, "BGD", i.strip()) for i in ids]
    cursor = con.cursor()
    with pytest.raises(duckdb.CatalogException):  # temporary: a connection's own, never in the file
        cursor.execute("select cpwh_pseudonym('BGD', '1')")


def test_the_written_out_whitespace_is_what_python_strips():
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) == PYTHON_WHITESPACE
