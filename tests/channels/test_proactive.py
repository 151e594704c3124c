"""`POST /api/proactive/messages`: notices the institute starts, on the person's channel, within
WhatsApp's and Messenger's 24-hour window as text and outside it only as an approved template
(through the whole gateway; Twilio, Telegram and Meta faked on loopback)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from tests.channels.harness import Database, gateway_settings, wait_until
from ventanilla.app import create_app
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.meta_graph import FakeGraphApi
from ventanilla.fakes.rasa import FakeRasa
from ventanilla.fakes.telegram_api import FakeTelegramApi
from ventanilla.fakes.twilio_api import FakeTwilioApi

SID, TOKEN = "AC" + "a" * 32, "1" * 32
TEMPLATE = "HX" + "b" * 32
PUBLIC = "https://ventanilla.example.org"
PERSON = "whatsapp:+5215511112222"
API_KEY = "clave-de-integrador"


class Setup(Database):
    def __init__(self, client: TestClient, twilio: FakeTwilioApi, telegram: FakeTelegramApi,
                 graph: FakeGraphApi, db: Path) -> None:  # fmt: skip
        super().__init__(db)
        self.client, self.twilio, self.telegram, self.graph = client, twilio, telegram, graph

    def notice(self, channel: str, recipient: str, text: str, key: str | None = API_KEY) -> Any:
        headers = {"X-API-Key": key} if key else {}
        return self.client.post(
            "/api/proactive/messages",
            json={"channel": channel, "recipient": recipient, "text": text},
            headers=headers,
        )

    def whatsapp_from_person(self, text: str, sid: str) -> None:
        params = {"MessageSid": sid, "AccountSid": SID, "From": PERSON,
                  "To": "whatsapp:+14155238886", "Body": text, "NumMedia": "0"}  # fmt: skip
        url = f"{PUBLIC}/webhooks/twilio/whatsapp"
        response = self.client.post(
            "/webhooks/twilio/whatsapp",
            content=urlencode(params),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params),
            },
        )
        assert response.status_code == 200

    def age_last_user_message(self, hours: float) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute(
                "UPDATE messages SET created_at = datetime(created_at, ?) WHERE author = 'user'",
                (f"-{hours} hours",),
            )


def make_setup(tmp_path: Path, **extra: Any) -> Iterator[Setup]:
    twilio, telegram, graph, rasa = (
        FakeTwilioApi(SID, TOKEN), FakeTelegramApi("1:t"), FakeGraphApi("page"), FakeRasa()
    )  # fmt: skip
    with (
        serve(twilio.app) as twilio_url,
        serve(telegram.app) as telegram_url,
        serve(graph.app) as graph_url,
        serve(rasa.app) as rasa_url,
    ):
        settings = gateway_settings(
            tmp_path,
            rasa_url,
            api_key=API_KEY,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_whatsapp_from="whatsapp:+14155238886",
            twilio_api_base=twilio_url,
            telegram_bot_token="1:t",
            telegram_secret_token="s",
            telegram_api_base=telegram_url,
            meta_app_secret="a",
            meta_verify_token="v",
            meta_page_token="page",
            meta_graph_base=graph_url,
            **extra,
        )
        with TestClient(create_app(settings)) as client:
            yield Setup(client, twilio, telegram, graph, tmp_path / "ventanilla.db")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    yield from make_setup(tmp_path, twilio_whatsapp_template=TEMPLATE)


def test_inside_the_window_a_notice_goes_as_text(setup: Setup) -> None:
    setup.whatsapp_from_person("hola", "SM" + "1" * 32)
    setup.twilio.wait_for(1, PERSON)
    response = setup.notice("whatsapp", PERSON, "Mañana 9:00 es tu cita en la UMF 20.")
    assert response.status_code == 202
    assert response.json()["template"] is None and response.json()["status"] == "pending"
    sent = setup.twilio.wait_for(2, PERSON)
    assert sent[1]["Body"] == "Mañana 9:00 es tu cita en la UMF 20."
    assert "ContentSid" not in sent[1]


@pytest.mark.parametrize("hours", [24.5, None])  # wrote long ago, or never
def test_outside_the_window_a_notice_goes_as_the_approved_template(
    setup: Setup, hours: float | None
) -> None:
    if hours is not None:
        setup.whatsapp_from_person("hola", "SM" + "2" * 32)
        setup.twilio.wait_for(1, PERSON)
        setup.age_last_user_message(hours)
    response = setup.notice("whatsapp", PERSON, "Tu cita es mañana a las 9:00.")
    assert response.status_code == 202 and response.json()["template"] == TEMPLATE
    sent = setup.twilio.wait_for(2 if hours else 1, PERSON)[-1]
    assert sent["ContentSid"] == TEMPLATE and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {"1": "Tu cita es mañana a las 9:00."}


def test_outside_the_window_without_a_template_it_is_refused_and_not_stored(
    tmp_path: Path,
) -> None:
    for setup in make_setup(tmp_path):  # no TWILIO_WHATSAPP_TEMPLATE
        response = setup.notice("whatsapp", PERSON, "Tu cita es mañana.")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "outside_window"
        assert "24 horas" in response.json()["error"]["message"]
        assert setup.stored() == [] and setup.twilio.sent() == []


def test_messenger_outside_its_window_is_refused(setup: Setup) -> None:
    response = setup.notice("messenger", "6900000000000001", "Aviso")
    assert response.status_code == 409 and response.json()["error"]["code"] == "outside_window"
    assert setup.graph.sent() == []


def test_a_channel_without_a_window_just_sends(setup: Setup) -> None:
    response = setup.notice("telegram", "5550002", "Recuerda tu cita de mañana.")
    assert response.status_code == 202
    assert setup.telegram.wait_for(1, 5550002)[0]["text"] == "Recuerda tu cita de mañana."
    wait_until(lambda: setup.first_outbound_status() == "done")


@pytest.mark.parametrize(
    ("channel", "key", "text", "status", "code"),
    [
        ("fax", API_KEY, "hola", 404, "unknown_channel"),
        ("sms", API_KEY, "hola", 409, "channel_off"),  # TWILIO_SMS_FROM not set
        ("telegram", None, "hola", 401, "unauthorized"),
        ("telegram", "otra", "hola", 401, "unauthorized"),
        ("telegram", API_KEY, "   ", 400, "empty_message"),
        ("telegram", API_KEY, "a" * 5000, 400, "message_too_long"),
    ],
)
def test_bad_notices_are_refused_with_the_reason_and_nothing_is_stored(
    setup: Setup, channel: str, key: str | None, text: str, status: int, code: str
) -> None:
    response = setup.notice(channel, "5550003", text, key=key)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert setup.stored() == []
