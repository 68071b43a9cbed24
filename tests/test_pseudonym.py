"""Keyed pseudonyms: key from the environment or a private local key file, stable across runs."""

import stat

from orchestration.pseudonym import KEY_FILE_NAME, load_key, pseudonym


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
