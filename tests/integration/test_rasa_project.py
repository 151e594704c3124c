"""Rasa's own checks of the project: data validation and conversation tests on the trained model."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, get_settings
from ventanilla.training import CONFIG, DOMAIN, TRAINING_DATA, ensure_model, rasa_env

pytestmark = pytest.mark.integration


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    settings = get_settings()
    return subprocess.run(
        [str(settings.rasa_venv / "bin" / "rasa"), *args],
        cwd=PROJECT_ROOT,
        env=rasa_env(settings),
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_rasa_data_validate() -> None:
    result = rasa(
        "data", "validate", "--fail-on-warnings",
        "--config", str(CONFIG), "--domain", str(DOMAIN),
        "--data", *(str(p) for p in TRAINING_DATA),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_conversation_tests_pass(tmp_path: Path) -> None:
    model = ensure_model()
    result = rasa(
        "test", "core",
        "--model", str(model),
        "--stories", str(PROJECT_ROOT / "tests" / "conversations"),
        "--out", str(tmp_path),
        "--fail-on-prediction-errors",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
