"""Voice notes with a speech-to-text service configured (`STT_URL`): each provider's recording is
fetched the provider's way (Telegram's getFile and file download through `python-telegram-bot`;
Twilio's MediaUrl with the account's basic auth; Meta's attachment URL), sent to the service
(`connectors.speech.WhisperApi` against a fake of the OpenAI-compatible transcription API on
loopback), and its words go on as if typed: to the bot, or first to the safety net. Nothing made
out, the service failing, a recording too large or a media URL off Twilio's API: the person is
asked to write, and the bot is not asked. Without `STT_URL` the polite answer stays (the media
tests of each provider)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors import media
from tests.channels import test_meta as meta
from tests.channels import test_telegram as telegram
from tests.channels import test_twilio as twilio
from tests.channels.harness import gateway_settings, wait_until
from ventanilla.app import create_app
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.meta_graph import FakeGraphApi
from ventanilla.fakes.rasa import FakeRasa
from ventanilla.fakes.speech import FakeSpeechApi
from ventanilla.fakes.telegram_api import FakeTelegramApi
from ventanilla.fakes.twilio_api import FakeTwilioApi

QUESTION = "¿Dónde queda mi clínica familiar?"
EMERGENCY = "me duele mucho el pecho y no puedo respirar"
VOICE = b"OggS\x00\x02voz-de-ana"  # the fake service knows these bytes
OTHER_VOICE = b"OggS\x00\x02ruido"  # and not these


class Fakes:
    def __init__(self) -> None:
        self.speech = FakeSpeechApi()
        self.rasa = FakeRasa()
        self.telegram = FakeTelegramApi(telegram.TOKEN)
        self.twilio = FakeTwilioApi(twilio.SID, twilio.TOKEN)
        self.graph = FakeGraphApi(meta.PAGE_TOKEN)
        self.urls: dict[str, str] = {}


class Voice:
    """One gateway with Telegram, WhatsApp and Messenger on, and speech-to-text."""

    def __init__(self, fakes: Fakes, client: TestClient, db: Path) -> None:
        self.fakes = fakes
        self.telegram = telegram.Setup(client, fakes.telegram, fakes.rasa, db)
        self.twilio = twilio.Setup(client, fakes.twilio, fakes.rasa, db)
        self.meta = meta.Setup(client, fakes.graph, fakes.rasa, db)

    def telegram_voice(self, audio: bytes, update_id: int = 10006) -> list[Any]:
        update = telegram.fixture("message_voice", update_id)
        file_id = f"voz{update_id}"
        update["message"]["voice"]["file_id"] = file_id
        self.fakes.telegram.add_file(file_id, audio)
        assert self.telegram.post(update).status_code == 200
        return self.fakes.telegram.wait_for(1, telegram.CHAT)

    def whatsapp_voice(self, audio: bytes, url: str | None = None) -> list[Any]:
        post = twilio.fixture("whatsapp_audio")
        base = self.fakes.urls["twilio"]
        post["MediaUrl0"] = url or self.fakes.twilio.add_media(
            base, post["MessageSid"], audio, "audio/ogg"
        )
        assert self.twilio.post("whatsapp", post).status_code == 200
        return self.fakes.twilio.wait_for(1, twilio.PERSON["whatsapp"])


def voice_gateway(tmp_path: Path, **overrides: Any) -> Iterator[Voice]:
    fakes = Fakes()
    fakes.speech.hear(VOICE, QUESTION)
    with (
        serve(fakes.speech.app) as speech_url,
        serve(fakes.rasa.app) as rasa_url,
        serve(fakes.telegram.app) as telegram_url,
        serve(fakes.twilio.app) as twilio_url,
        serve(fakes.graph.app) as graph_url,
    ):
        fakes.urls = {"twilio": twilio_url, "graph": graph_url}
        settings = gateway_settings(
            tmp_path,
            rasa_url,
            stt_url=speech_url,
            stt_model="whisper-large-v3",
            telegram_bot_token=telegram.TOKEN,
            telegram_secret_token=telegram.SECRET,
            telegram_api_base=telegram_url,
            twilio_account_sid=twilio.SID,
            twilio_auth_token=twilio.TOKEN,
            twilio_whatsapp_from=twilio.WHATSAPP_FROM,
            twilio_api_base=twilio_url,
            meta_app_secret=meta.APP_SECRET,
            meta_verify_token=meta.VERIFY,
            meta_page_token=meta.PAGE_TOKEN,
            meta_graph_base=graph_url,
            **overrides,
        )
        with TestClient(create_app(settings)) as client:
            yield Voice(fakes, client, tmp_path / "ventanilla.db")


@pytest.fixture
def voice(tmp_path: Path) -> Iterator[Voice]:
    yield from voice_gateway(tmp_path)


def test_a_telegram_voice_note_is_transcribed_and_answered_as_typed(voice: Voice) -> None:
    sent = voice.telegram_voice(VOICE)
    assert sent[0]["text"] == f"Recibí: {QUESTION}"
    assert voice.fakes.rasa.messages() == [QUESTION]
    [request] = voice.fakes.speech.requests
    assert (request["model"], request["language"]) == ("whisper-large-v3", "es")
    assert request["file"] == ("audio.ogg", "audio/ogg", VOICE)
    # The transcript is the message's text: agents and transcripts read the words.
    assert ("user", None, QUESTION) in voice.telegram.stored()
    assert "getFile" in voice.fakes.telegram.methods()


def test_a_whatsapp_voice_note_is_fetched_with_the_accounts_credentials(voice: Voice) -> None:
    sent = voice.whatsapp_voice(VOICE)
    assert sent[0]["Body"] == f"Recibí: {QUESTION}"
    [authorization] = voice.fakes.twilio.media_requests
    assert authorization is not None and authorization.startswith("Basic ")
    assert voice.fakes.rasa.messages() == [QUESTION]


def test_a_messenger_voice_note_is_fetched_from_its_attachment_url(voice: Voice) -> None:
    delivery = meta.fixture("messenger_audio")
    url = voice.fakes.graph.add_attachment(
        voice.fakes.urls["graph"], "audioclip.mp4", VOICE, "audio/mp4"
    )
    delivery["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = url
    assert voice.meta.post(delivery).status_code == 200
    sent = voice.fakes.graph.wait_for(1, meta.PSID)
    assert sent[0]["text"] == f"Recibí: {QUESTION}"
    assert voice.fakes.speech.requests[0]["file"] == ("audio.m4a", "audio/mp4", VOICE)


def test_an_emergency_said_aloud_gets_911_first_without_the_bot(voice: Voice) -> None:
    voice.fakes.speech.hear(b"OggS-pecho", EMERGENCY)
    sent = voice.telegram_voice(b"OggS-pecho")
    assert "911" in sent[0]["text"]
    assert voice.fakes.rasa.messages() == []
    wait_until(lambda: ("user", None, EMERGENCY) in voice.telegram.stored())


@pytest.mark.parametrize("failure", ["nothing_heard", "service_down", "file_gone"])
def test_a_voice_note_that_cannot_be_made_out_asks_to_write(voice: Voice, failure: str) -> None:
    audio = VOICE
    if failure == "nothing_heard":
        audio = OTHER_VOICE
    elif failure == "service_down":
        voice.fakes.speech.fail_next(503)
    update = telegram.fixture("message_voice", 10007)
    if failure != "file_gone":
        voice.fakes.telegram.add_file("AwACAgEAAxkBAAE", audio)  # the fixture's file id
    assert voice.telegram.post(update).status_code == 200
    sent = voice.fakes.telegram.wait_for(1, telegram.CHAT)
    assert sent[0]["text"] == media.NOT_HEARD
    assert voice.fakes.rasa.messages() == []
    assert ("user", "/media:audio", "(envió un audio)") in voice.telegram.stored()


def test_credentials_never_go_to_a_media_url_off_twilios_api(voice: Voice) -> None:
    sent = voice.whatsapp_voice(VOICE, url="http://127.0.0.1:9/robado.ogg")
    assert sent[0]["Body"] == media.NOT_HEARD
    assert voice.fakes.twilio.media_requests == [] and voice.fakes.speech.requests == []


def test_a_recording_over_the_size_limit_is_not_transcribed(tmp_path: Path) -> None:
    for gateway in voice_gateway(tmp_path, stt_max_bytes=8):
        sent = gateway.whatsapp_voice(VOICE)  # 19 bytes
        assert sent[0]["Body"] == media.NOT_HEARD
        assert gateway.fakes.speech.requests == []


def test_the_fake_service_reads_the_form_it_is_sent() -> None:
    """The fake's own parsing, so the assertions above rest on something: a body built by
    httpx, as WhisperApi sends it."""
    import httpx

    fake = FakeSpeechApi()
    fake.hear(VOICE, "hola")
    request = httpx.Request(
        "POST", "http://x/v1/audio/transcriptions",
        files={"file": ("audio.ogg", VOICE, "audio/ogg")}, data={"model": "m", "language": "es"},
    )  # fmt: skip
    with TestClient(fake.app) as client:
        response = client.post(
            "/v1/audio/transcriptions", content=request.read(), headers=dict(request.headers)
        )
    assert json.loads(response.text) == {"text": "hola"}
    assert fake.requests[0]["file"] == ("audio.ogg", "audio/ogg", VOICE)
