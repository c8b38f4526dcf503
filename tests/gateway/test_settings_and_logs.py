"""Settings sources, secret references and masked logs."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.logs import configure_logging, mask
from gateway.secrets import SecretError, resolve_secret
from gateway.settings import load_settings


def test_defaults_need_no_file(monkeypatch):
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert (settings.host, settings.port, settings.scale_out) == ("127.0.0.1", 8080, False)


def test_file_then_environment(tmp_path, monkeypatch):
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "port: 9000\nredis_url: redis://127.0.0.1:6379/0\n"
        "destinations:\n  qa:\n    url: http://127.0.0.1:1/x\n    secret: env:QA_SECRET\n"
        "routing:\n  departments:\n    quality: [qa]\n"
    )
    monkeypatch.setenv("GATEWAY_PORT", "9100")
    settings = load_settings(config)
    assert settings.port == 9100  # the environment wins over the file
    assert settings.scale_out
    assert settings.routing.departments == {"quality": ["qa"]}


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="env:NAME or file"):
        load_settings(destinations={"x": {"url": "http://a", "secret": "plaintext-secret"}})
    with pytest.raises(ValueError, match="not configured"):
        load_settings(routing={"default": ["nowhere"]})


def test_secret_references(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_TOKEN", "t0ken")
    secret_file = tmp_path / "token"
    secret_file.write_text("from-file\n")
    assert resolve_secret("env:MY_TOKEN") == "t0ken"
    assert resolve_secret(f"file:{secret_file}") == "from-file"
    with pytest.raises(SecretError):
        resolve_secret("env:NOT_SET_ANYWHERE")
    with pytest.raises(SecretError):
        resolve_secret(f"file:{tmp_path}/nope")


def test_personal_data_is_masked_in_messages_and_fields(capsys):
    assert mask("call 13812345678 or wang@example.com") == "call ***78 or w***@example.com"
    configure_logging("INFO")
    try:
        logging.getLogger("test").info(
            "complaint from %s", "li.lei@example.org", extra={"phone": "+86 138 1234 5678"}
        )
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        logging.getLogger().handlers.clear()
    assert "li.lei" not in line["message"] and line["phone"] == "***78"
