"""WhatsApp and SMS through Twilio, through the whole gateway (`create_app`): form posts signed
with the `twilio` library's own algorithm (`RequestValidator.compute_signature`), replies at a
fake Messages API on loopback reached by the `twilio` library itself, Rasa faked at the HTTP
layer. The posts are `fixtures/twilio/*.json`, the fields Twilio documents for each event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from connectors import media
from connectors.twilio.router import MAX_TEXT
from tests.channels.harness import Database, gateway_settings, wait_until
from ventanilla.app import create_app
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.rasa import LONG_PAYLOAD, FakeRasa, long_text
from ventanilla.fakes.twilio_api import FakeTwilioApi

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN = "12345678901234567890123456789012"
WHATSAPP_FROM = "whatsapp:+14155238886"
SMS_FROM = "+525500000000"
PUBLIC = "https://ventanilla.example.org"
PERSON = {"whatsapp": "whatsapp:+5215511112222", "sms": "+525511112222"}


def fixture(name: str, **fields: str) -> dict[str, str]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return {**data, **fields}


def text_post(channel: str, body: str, sid: str, sender: str | None = None) -> dict[str, str]:
    name = "whatsapp_text" if channel == "whatsapp" else "sms_text"
    return fixture(name, Body=body, MessageSid=sid, From=sender or PERSON[channel])


class Setup(Database):
    def __init__(self, client: TestClient, twilio: FakeTwilioApi, rasa: FakeRasa, db: Path):
        super().__init__(db)
        self.client = client
        self.twilio = twilio
        self.rasa = rasa

    def post(
        self, channel: str, params: dict[str, str], signature: str | None = "sign", url: str = ""
    ) -> Any:
        path = f"/webhooks/twilio/{channel}"
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if signature == "sign":  # as Twilio signs: our public URL of the webhook + the fields
            signature = RequestValidator(TOKEN).compute_signature(url or PUBLIC + path, params)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(path, content=urlencode(params), headers=headers)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    twilio, rasa = FakeTwilioApi(SID, TOKEN), FakeRasa()
    with serve(twilio.app) as twilio_url, serve(rasa.app) as rasa_url:
        settings = gateway_settings(
            tmp_path,
            rasa_url,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_whatsapp_from=WHATSAPP_FROM,
            twilio_sms_from=SMS_FROM,
            twilio_api_base=twilio_url,
        )
        with TestClient(create_app(settings)) as client:
            yield Setup(client, twilio, rasa, tmp_path / "ventanilla.db")


CHANNELS = ["whatsapp", "sms"]
FROM = {"whatsapp": WHATSAPP_FROM, "sms": SMS_FROM}


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_signed_message_is_answered_through_the_rest_api(setup: Setup, channel: str) -> None:
    params = fixture(f"{channel}_text")
    response = setup.post(channel, params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Response>" in response.text and "<Message>" not in response.text  # replies go later
    sent = setup.twilio.wait_for(1, PERSON[channel])
    assert sent[0]["From"] == FROM[channel]
    assert sent[0]["Body"] == f"Recibí: {params['Body']}"  # ¡, ¿, accents and ñ both ways
    assert setup.rasa.messages() == [params["Body"]]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("how", ["missing", "forged", "other_url", "tampered"])
def test_a_missing_or_wrong_signature_is_403_and_nothing_is_stored(
    setup: Setup, channel: str, how: str
) -> None:
    params = text_post(channel, "hola", "SM00000000000000000000000000000001")
    if how == "missing":
        response = setup.post(channel, params, signature=None)
    elif how == "forged":
        response = setup.post(channel, params, signature="bm90IGEgc2lnbmF0dXJl")
    elif how == "other_url":  # signed for somebody else's webhook
        response = setup.post(channel, params, url="https://otro.example.org/webhook")
    else:  # signed, then a field changed on the way
        signature = RequestValidator(TOKEN).compute_signature(
            f"{PUBLIC}/webhooks/twilio/{channel}", params
        )
        response = setup.post(channel, {**params, "Body": "otra cosa"}, signature=signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert setup.stored() == [] and setup.twilio.sent() == []


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_replayed_message_is_answered_once(setup: Setup, channel: str) -> None:
    params = text_post(channel, "¿cuál es mi clínica?", "SM00000000000000000000000000000002")
    assert [setup.post(channel, params).status_code for _ in range(3)] == [200, 200, 200]
    setup.twilio.wait_for(1, PERSON[channel])
    wait_until(lambda: setup.first_outbound_status() == "done")
    assert len(setup.twilio.sent(PERSON[channel])) == 1
    assert setup.rasa.messages() == ["¿cuál es mi clínica?"]


def test_a_post_that_is_not_a_twilio_message_is_400(setup: Setup) -> None:
    params = {"Body": "sin MessageSid ni From", "AccountSid": SID}
    response = setup.post("sms", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_message"
    assert setup.stored() == []


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("answer", ["2", " 2. ", "pension por cesantia", "PENSIÓN POR CESANTÍA"])
def test_buttons_are_numbered_and_a_number_or_the_words_choose_one(
    setup: Setup, channel: str, answer: str
) -> None:
    setup.post(channel, text_post(channel, "botones", "SM00000000000000000000000000000010"))
    sent = setup.twilio.wait_for(1, PERSON[channel])
    assert sent[0]["Body"] == (
        "¿Te refieres a A o a B?\n\n1. Sí\n2. Pensión por cesantía\n\nResponde 1 o 2."
    )
    setup.post(channel, text_post(channel, answer, "SM00000000000000000000000000000011"))
    sent = setup.twilio.wait_for(2, PERSON[channel])
    assert sent[1]["Body"] == f"Elegiste {LONG_PAYLOAD}"
    assert setup.rasa.messages() == ["botones", LONG_PAYLOAD]


def test_an_answer_that_picks_no_option_is_just_text(setup: Setup) -> None:
    setup.post("sms", text_post("sms", "botones", "SM00000000000000000000000000000020"))
    setup.twilio.wait_for(1, PERSON["sms"])
    setup.post("sms", text_post("sms", "3", "SM00000000000000000000000000000021"))
    setup.twilio.wait_for(2, PERSON["sms"])
    assert setup.rasa.messages() == ["botones", "3"]


def test_a_whatsapp_quick_reply_sends_its_payload(setup: Setup) -> None:
    setup.post("whatsapp", fixture("whatsapp_button"))
    sent = setup.twilio.wait_for(1, PERSON["whatsapp"])
    assert sent[0]["Body"] == "Elegiste /affirm"
    assert ("user", "/affirm", "Sí, confirmo") in setup.stored()


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_long_answer_is_split_at_twilios_limit_without_cutting_words(
    setup: Setup, channel: str
) -> None:
    setup.post(channel, text_post(channel, "largo", "SM00000000000000000000000000000030"))
    sent = setup.twilio.wait_for(6, PERSON[channel])
    wait_until(lambda: setup.first_outbound_status() == "done")
    parts = [m["Body"] for m in setup.twilio.sent(PERSON[channel])]
    assert all(len(part) <= MAX_TEXT for part in parts) and len(parts) == len(sent)
    assert " ".join(" ".join(parts).split()) == " ".join(long_text().split())
    words = set(long_text().split())
    assert all(set(part.split()) <= words for part in parts)


def test_a_long_answer_that_fails_half_way_sends_only_the_rest_on_retry(setup: Setup) -> None:
    """Parts one and two go out, the third gets a 503: the retry starts at the third, so the
    person reads every part once."""
    setup.twilio.fail_next(503, 20500, "Service Unavailable", after=2)
    setup.post("sms", text_post("sms", "largo", "SM00000000000000000000000000000031"))
    wait_until(lambda: setup.first_outbound_status() == "done")
    bodies = [m["Body"] for m in setup.twilio.sent(PERSON["sms"])]
    third = bodies[2]
    assert bodies.count(third) == 2  # refused once, then sent
    delivered = bodies[:2] + bodies[3:]
    assert len(set(delivered)) == len(delivered)  # no part twice
    assert " ".join(" ".join(delivered).split()) == " ".join(long_text().split())


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("whatsapp_image", media.Media.IMAGE),
        ("whatsapp_audio", media.Media.AUDIO),
        ("whatsapp_location", media.Media.LOCATION),
    ],
)
def test_media_gets_a_polite_answer_without_the_bot(
    setup: Setup, name: str, kind: media.Media
) -> None:
    setup.post("whatsapp", fixture(name))
    sent = setup.twilio.wait_for(1, PERSON["whatsapp"])
    assert sent[0]["Body"] == media.REPLIES[kind]
    assert setup.rasa.received == []


def test_an_empty_sms_is_told_why_and_not_stored(setup: Setup) -> None:
    setup.post("sms", text_post("sms", "   ", "SM00000000000000000000000000000040"))
    sent = setup.twilio.wait_for(1, PERSON["sms"])
    assert sent[0]["Body"] == "Escribe un mensaje antes de enviarlo."
    assert setup.stored() == []


def test_a_refusal_is_final_and_recorded_with_its_reason(setup: Setup) -> None:
    setup.twilio.fail_next(400, 63016, "Failed to send freeform message outside the window")
    setup.post("whatsapp", text_post("whatsapp", "hola", "SM00000000000000000000000000000050"))
    wait_until(lambda: setup.first_outbound_status() == "failed")
    _, _, error, _ = setup.outbound()[0]
    assert "63016" in error and "window" in error
    assert len(setup.twilio.sent(PERSON["whatsapp"])) == 1  # not tried again


def test_a_provider_error_is_retried_and_the_reply_arrives(setup: Setup) -> None:
    setup.twilio.fail_next(503, 20500, "Service Unavailable", times=2)
    setup.post("sms", text_post("sms", "hola", "SM00000000000000000000000000000060"))
    wait_until(lambda: setup.first_outbound_status() == "done")
    assert [m["Body"] for m in setup.twilio.sent(PERSON["sms"])] == ["Recibí: hola"] * 3


def test_a_burst_of_webhooks_over_many_numbers_is_answered_once_each_in_order(
    setup: Setup,
) -> None:
    numbers = [f"whatsapp:+52155{n:08d}" for n in range(10)]
    per_number = 4
    posts = [
        text_post("whatsapp", f"mensaje {k}", f"SM{i:032d}", number)
        for i, (k, number) in enumerate(
            (k, number) for k in range(per_number) for number in numbers
        )
    ]
    validator = RequestValidator(TOKEN)
    url = f"{PUBLIC}/webhooks/twilio/whatsapp"

    async def burst() -> list[int]:
        import httpx

        transport = httpx.ASGITransport(app=setup.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            requests = [
                client.post(
                    "/webhooks/twilio/whatsapp",
                    content=urlencode(p),
                    headers={
                        "content-type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": validator.compute_signature(url, p),
                    },
                )
                for p in posts + posts[::4]  # some delivered twice
            ]
            return [r.status_code for r in await asyncio.gather(*requests)]

    assert set(setup.client.portal.call(burst)) == {200}  # type: ignore[union-attr]
    for number in numbers:
        setup.twilio.wait_for(per_number, number)
    wait_until(lambda: all(row[1] == "done" for row in setup.outbound()))
    for number in numbers:
        accepted = setup.user_texts(number)
        assert sorted(accepted) == [f"mensaje {k}" for k in range(per_number)]
        assert [m["Body"] for m in setup.twilio.sent(number)] == [f"Recibí: {t}" for t in accepted]


def test_each_channel_is_off_without_its_sender(tmp_path: Path) -> None:
    settings = gateway_settings(
        tmp_path, "http://127.0.0.1:9", twilio_account_sid=SID, twilio_auth_token=TOKEN,
        twilio_sms_from=SMS_FROM,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        params = fixture("whatsapp_text")
        signature = RequestValidator(TOKEN).compute_signature(
            f"{PUBLIC}/webhooks/twilio/whatsapp", params
        )
        response = client.post(
            "/webhooks/twilio/whatsapp",
            content=urlencode(params),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "channel_off"
