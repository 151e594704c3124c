"""Training the Rasa model, only when its inputs changed.

The model's file name carries a fingerprint of everything Rasa trains on (config.yml, bot/,
nlu_data/): an existing file with the current fingerprint is up to date.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings, get_settings

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
TRAINING_DATA = [PROJECT_ROOT / "nlu_data", PROJECT_ROOT / "bot" / "data"]
# Custom NLU components are code Rasa trains with: a change to them needs a new model too.
COMPONENTS = PROJECT_ROOT / "bot" / "components"
REQUIREMENTS = PROJECT_ROOT / "requirements" / "rasa.txt"


def _inputs() -> list[Path]:
    files = [CONFIG, DOMAIN, REQUIREMENTS]
    for folder in [*TRAINING_DATA, COMPONENTS]:
        if folder.is_dir():
            files.extend(
                p for p in folder.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".py"}
            )
    return sorted(p for p in files if p.exists())


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _inputs():
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    assert settings.models_dir is not None
    return settings.models_dir / f"ventanilla-{fingerprint()}.tar.gz"


def rasa_executable(settings: Settings) -> Path:
    rasa = settings.rasa_venv / "bin" / "rasa"
    if not rasa.exists():
        raise SystemExit(
            f"No encontré Rasa en {settings.rasa_venv}. Ejecuta primero `make setup` "
            "(crea el entorno .venv-rasa con Python 3.10)."
        )
    return rasa


def rasa_env(settings: Settings) -> dict[str, str]:
    """The environment of every Rasa process: project on the path, endpoints filled in."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
            "VENTANILLA_ACTION_SERVER_URL": str(settings.action_server_url),
            "VENTANILLA_RASA_TRACKER_DB": str(settings.rasa_tracker_db),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


def ensure_model(force: bool = False, settings: Settings | None = None) -> Path:
    """The path of an up-to-date trained model, training one if needed."""
    settings = settings or get_settings()
    target = model_path(settings)
    if target.exists() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log_path = settings.var_dir / "logs" / "train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"Entrenando el modelo de Rasa ({target.name}); bitácora en {log_path}…",
        file=sys.stderr,
        flush=True,
    )
    command = [
        str(rasa_executable(settings)),
        "train",
        "--config", str(CONFIG),
        "--domain", str(DOMAIN),
        "--data", *(str(p) for p in TRAINING_DATA),
        "--out", str(target.parent),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        "--force",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        result = subprocess.run(
            command, cwd=PROJECT_ROOT, env=rasa_env(settings), stdout=log, stderr=subprocess.STDOUT
        )
    if result.returncode != 0 or not target.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"El entrenamiento de Rasa falló (código {result.returncode}).")
    for old in target.parent.glob("ventanilla-*.tar.gz"):
        if old != target:
            old.unlink()
    return target
