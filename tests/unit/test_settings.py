from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings


def test_defaults_are_derived_from_ports_and_var_dir(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, port=8123, rasa_port=5111, action_port=5222, var_dir=tmp_path
    )
    assert settings.public_url == "http://localhost:8123"
    assert settings.rasa_url == "http://127.0.0.1:5111"
    assert settings.action_server_url == "http://127.0.0.1:5222/webhook"
    assert settings.action_server_health_url == "http://127.0.0.1:5222/health"
    assert settings.database_url == f"sqlite:///{tmp_path / 'ventanilla.db'}"
    assert settings.models_dir == tmp_path / "models"
    assert settings.privacy_notice_url == "http://localhost:8123/privacidad"


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_PUBLIC_URL", "https://chat.example.org/")
    monkeypatch.setenv("VENTANILLA_ALLOWED_ORIGINS", '["https://www.example.org"]')
    monkeypatch.setenv("VENTANILLA_MAX_MESSAGE_CHARS", "500")
    settings = Settings(_env_file=None)
    assert settings.public_url == "https://chat.example.org"
    assert settings.privacy_notice_url == "https://chat.example.org/privacidad"
    assert settings.allowed_origins == ["https://www.example.org"]
    assert settings.max_message_chars == 500


SITES = ["https://www.imss.gob.mx"]


def test_production_refuses_an_open_rest_channel() -> None:
    with pytest.raises(ValidationError, match="VENTANILLA_API_KEY"):
        Settings(_env_file=None, environment="production", allowed_origins=SITES)
    production = Settings(
        _env_file=None, environment="production", api_key="s3cret", allowed_origins=SITES
    )
    assert production.api_key is not None


def test_production_wants_the_web_chats_sites_named_and_hides_the_api_docs() -> None:
    with pytest.raises(ValidationError, match="VENTANILLA_ALLOWED_ORIGINS"):
        Settings(_env_file=None, environment="production", api_key="s3cret")
    production = Settings(
        _env_file=None, environment="production", api_key="s3cret", allowed_origins=SITES
    )
    assert production.api_docs is False
    assert Settings(_env_file=None).api_docs is True  # development
    shown = Settings(
        _env_file=None, environment="production", api_key="k", allowed_origins=SITES, api_docs=True
    )
    assert shown.api_docs is True
