"""Other agencies' procedures (knowledge_base/agencies.yml): the table, which questions are theirs,
and the answer that says whose they are instead of a wrong article.

Mixed questions follow the rule written at the top of agencies.yml: a question about one of the
Instituto's own topics (semanas cotizadas, NSS, incapacidad, pensión, alta con el patrón …) stays
with the Instituto even when it names an agency as its setting; an agency named as the place of a
shared word (cita, trámite, alta, crédito) is the agency's; the ISSSTE keeps its own pensions,
leaves and clinics unless the IMSS is named too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from core.settings import PROJECT_ROOT
from knowledge_base import agencies
from knowledge_base.agencies import INSTITUTE, AgenciesError, fold

DOMAIN = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
TABLE = agencies.load()

# As people type them: no accents, typos, several per agency.
THEIRS = [
    # SAT
    ("¿Cómo saco mi RFC con homoclave?", "sat"),
    ("como saco mi rfc", "sat"),
    ("necesito mi constancia de situacion fiscal", "sat"),
    ("como descargo mi constancia fiscal", "sat"),
    ("kiero hacer mi declarasion anual", "sat"),
    ("se me vencio la efirma como la renuevo", "sat"),
    ("cuando me depositan mi saldo a favor", "sat"),
    ("como me doy de alta en el sat", "sat"),
    ("olvide mi contraseña del SAT", "sat"),
    ("como hago una factura", "sat"),
    # INE
    ("¿cómo saco mi credencial del INE?", "ine"),
    ("perdi mi ine como la repongo", "ine"),
    ("donde renuevo mi credencial para votar", "ine"),
    ("cambio de domicilio en la credencial de elector", "ine"),
    ("horario del modulo del ine", "ine"),
    ("mi credencial de elector ya vencio que hago", "ine"),
    # SRE
    ("¿cómo tramito mi pasaporte?", "sre"),
    ("cita para pasaporte", "sre"),
    ("cuanto cuesta el pasaporte por 6 años", "sre"),
    ("como saco la matricula consular", "sre"),
    ("quiero renovar mi pasaprote", "sre"),
    ("quiero sacar la doble nacionalidad para mi hijo", "sre"),
    # Infonavit
    ("¿cómo tramito mi crédito Infonavit?", "infonavit"),
    ("cuantos puntos tengo en infonavit", "infonavit"),
    ("como saco mi dinero de la subcuenta de vivienda", "infonavit"),
    ("quiero un credito para una casa", "infonavit"),
    ("infonabit no me deja registrarme", "infonavit"),
    ("como pago mi credito hipotecario", "infonavit"),
    ("¿el imss me da credito para vivienda?", "infonavit"),
    # ISSSTE
    ("como saco cita en el issste", "issste"),
    ("donde queda la clinica del issste", "issste"),
    ("como tramito mi pension del issste", "issste"),
    ("como pido un prestamo personal del isste", "issste"),
    ("mi incapacidad del issste no me la pagan", "issste"),
    ("soy maestra y tengo issste a que edad me jubilo", "issste"),
    # FOVISSSTE
    ("como pido mi credito fovissste", "fovissste"),
    ("cuantos puntos necesito para el fovisste", "fovissste"),
    ("tengo credito de vivienda del issste y quiero saber mi saldo", "fovissste"),
    ("fovissste tradicional requisitos", "fovissste"),
    # AFORE
    ("en que afore estoy", "afore"),
    ("como me cambio de afore", "afore"),
    ("quiero hacer el retiro por desempleo", "afore"),
    ("como saco mi estado de cuenta de la afore", "afore"),
    ("como hago aportaciones voluntarias", "afore"),
    ("numero de la consar", "afore"),
    ("¿puedo sacar dinero de mi afore por desempleo?", "afore"),
    # CFE
    ("me llego muy caro el recibo de luz", "cfe"),
    ("donde pago la luz", "cfe"),
    ("se fue la luz en mi colonia a quien le reporto", "cfe"),
    ("como cambio el contrato de luz a mi nombre", "cfe"),
    ("telefono de la cfe", "cfe"),
    # Registro civil
    ("como saco mi acta de nacimiento", "registro_civil"),
    ("necesito una copia certificada del acta de matrimonio", "registro_civil"),
    ("acta de defuncion de mi papa donde la tramito", "registro_civil"),
    ("mi acta de nacimiento tiene un error en el apellido", "registro_civil"),
    ("donde saco actas en linea", "registro_civil"),
    ("cuanto cuesta el tramite de divorcio", "registro_civil"),
    # SEP
    ("como saco mi cedula profesional", "sep"),
    ("perdi mi certificado de secundaria", "sep"),
    ("cuando pagan la beca benito juarez", "sep"),
    # Added from the misses of the dev half of tests/kb/eval.tsv (phrased differently here).
    ("por que me llego tarifa dac en el recibo", "cfe"),
    ("como hago un registro extemporaneo de nacimiento", "registro_civil"),
    ("ya me aceptaron en jovenes construyendo el futuro, cuando depositan", "bienestar"),
    ("la gasolinera no me dio litros completos", "profeco"),
    ("la aerolinea no me quiere devolver mi dinero", "profeco"),
    ("inscripcion a la primaria 2025", "sep"),
    ("revalidacion de estudios del extranjero", "sep"),
    ("necesito mi titulo profesional", "sep"),
    # Bienestar
    ("donde cobro la pension del bienestar", "bienestar"),
    ("como me registro a la pension de adultos mayores", "bienestar"),
    ("cuando depositan la pension bienestar", "bienestar"),
    ("perdi mi tarjeta del banco del bienestar", "bienestar"),
    ("como me inscribo en mujeres bienestar", "bienestar"),
    ("hay pension para personas con discapacidad", "bienestar"),
    ("cuando pagan adultos mayores", "bienestar"),
    # PROFECO
    ("quiero poner una queja en profeco", "profeco"),
    ("no me quieren hacer valida la garantia de mi refri", "profeco"),
    ("la tienda no me respeta el precio exhibido", "profeco"),
    ("compre en linea y nunca me llego el pedido", "profeco"),
    ("telefono de la profeco", "profeco"),
    # the state or the municipality
    ("como saco mi licencia de manejo", "estado_municipio"),
    ("donde pago el predial", "estado_municipio"),
    ("tengo una multa de transito como la pago", "estado_municipio"),
    ("donde saco placas para mi moto", "estado_municipio"),
    ("se me vencio la licencia de conducir", "estado_municipio"),
    ("cuando me toca la verificacion del carro", "estado_municipio"),
    ("pago de tenencia 2025", "estado_municipio"),
    ("se llevaron mi carro al corralon", "estado_municipio"),
    ("me llego muy caro el recibo del agua", "estado_municipio"),
    ("como pago el agua", "estado_municipio"),
]

# The Instituto's questions that share words with the agencies: they must reach the knowledge base.
OURS = [
    "¿cómo saco mi pensión del imss?",
    "mi afore dice que tengo pocas semanas cotizadas en el imss",
    "como saco mi dinero de la afore si no me alcanza para pension",
    "la pension la paga el imss o la afore?",
    "¿cuántas semanas necesito para pensionarme en la afore?",
    "no junte semanas puedo retirar mi afore",
    "quiero pensionarme con modalidad 40 y mi afore",
    "¿qué es la ley 97 y qué tiene que ver mi afore?",
    "necesito mi nss para tramitar mi credito infonavit",
    "tengo dos nss y el infonavit no encuentra mis aportaciones",
    "el sat me pide mi nss, donde lo consigo",
    "como saco mi constancia de semanas cotizadas para el infonavit",
    "¿cómo pago las cuotas del infonavit de mi trabajadora del hogar?",
    "¿mi patrón tiene que darme de alta en el imss y en el infonavit?",
    "mi patron no me dio de alta en el imss",
    "trabajo en una tienda y no me dieron de alta en el seguro",
    "trabajo en una tienda departamental, ¿cuántas semanas cotizadas llevo?",
    "¿la cfe me tiene que dar de alta en el imss?",
    "di a luz, como cobro mi incapacidad por maternidad",
    "¿qué documentos necesito para la pensión por viudez, piden acta de matrimonio?",
    "que papeles piden para registrar a mi esposa como beneficiaria, el acta de matrimonio?",
    "necesito mi acta de nacimiento para sacar mi nss?",
    "¿cómo solicito la ayuda para gastos de funeral? ya tengo el acta de defuncion",
    "como hago el registro patronal si ya tengo mi rfc y e.firma",
    "no puedo entrar al escritorio virtual del imss con mi efirma",
    "me piden la opinion de cumplimiento del imss para facturar al gobierno",
    "¿puedo cobrar mi pensión del imss y la del bienestar?",
    "tengo pension del imss puedo recibir tambien la del bienestar",
    "¿la pensión por invalidez del imss la pagan en el banco del bienestar?",
    "me cambie del issste al imss como junto mis semanas",
    "¿puedo poner una queja del imss en profeco?",
    "¿puedo usar mi ine para tramitar mi incapacidad?",
    "¿con mi credencial para votar puedo sacar cita en mi umf?",
    "¿dónde está mi clínica? ya cambié mi domicilio en la credencial para votar",
    "¿cómo cambio mi domicilio en el imss? ya lo cambié en el ine",
    "¿cómo compruebo supervivencia en el consulado si vivo en estados unidos?",
    "¿las guarderías del imss son de la sep?",
    "me pusieron una multa del imss por no pagar cuotas",
    "me sacaron placas de torax en la clinica y no me dieron resultados",
    "como pido la licencia de paternidad",
    "me accidenté camino al trabajo en el carro, ¿es accidente de trayecto?",
    "tengo una fractura, ¿cómo tramito mi incapacidad?",
    "estoy haciendo el tramite de mi pension",
    "¿mi hijo de prepa tiene seguro del imss?",
    "¿el seguro facultativo de la universidad es del imss?",
    "me corrieron del trabajo ¿sigo teniendo servicio médico?",
    "me piden mi numero de seguridad social en la escuela de mi hijo",
    "me atienden en el imss bienestar si no tengo seguro",
    # The Instituto named with a shared word ("registro"): its article on the Pensión del
    # Bienestar answers (pension-del-bienestar-no-es-imss).
    "como me registro a la pension del bienestar en el imss",
    "¿hay vacuna de la influenza para adultos mayores?",
    "¿cuánta agua debo tomar si tengo covid?",
    # nobody's: not the Instituto's, not an agency of the table either
    "receta de enchiladas",
    "¿cómo se hace el pozole?",
]


@pytest.mark.parametrize(("question", "agency"), THEIRS)
def test_another_agencys_question_is_sent_there(question: str, agency: str) -> None:
    found = agencies.match(question)
    assert found is not None and found.id == agency, (question, agencies.matcher().find(question))


@pytest.mark.parametrize("question", OURS)
def test_the_institutes_question_is_not_claimed_by_an_agency(question: str) -> None:
    assert agencies.match(question) is None, (question, agencies.matcher().find(question))


def test_the_table_is_large_enough_to_mean_something() -> None:
    assert len(THEIRS) >= 60 and len(OURS) >= 40
    for agency in TABLE.agencies:
        assert sum(1 for _, a in THEIRS if a == agency.id) >= 4, agency.id


def test_every_agency_says_what_it_handles_and_where_to_go() -> None:
    expected = {
        "sat", "ine", "sre", "infonavit", "issste", "fovissste", "afore", "cfe",
        "registro_civil", "sep", "bienestar", "profeco", "estado_municipio",
    }  # fmt: skip
    assert {a.id for a in TABLE.agencies} == expected
    for agency in TABLE.agencies:
        assert agency.handles.endswith("."), agency.id
        assert agency.contact.website or agency.contact.note, agency.id
        assert agency.contact.verify, f"{agency.id}: an editor has not confirmed the contact yet"
        text = agency.contact.text()
        assert text and "{" not in text, agency.id


def test_the_boundary_notes_examples_go_where_the_notes_say() -> None:
    assert TABLE.boundaries
    for boundary in TABLE.boundaries:
        found = agencies.match(boundary.example)
        assert (found.id if found else INSTITUTE) == boundary.goes_to, boundary.example


def test_words_of_the_institutes_articles_are_not_read_as_typos_of_an_agency() -> None:
    """A real word one letter from an agency's word ("fractura" / "factura") must stay itself:
    every word of the shipped articles and the NLU data is tried (phrases that need a context
    word, such as "verificar" with "carro", are safe without it)."""
    matcher = agencies.matcher()
    lone = matcher.lone_agency_words()
    texts = [*(PROJECT_ROOT / "knowledge_base" / "articles").glob("*.md")]
    texts += [*(PROJECT_ROOT / "nlu_data").glob("*.yml")]
    words = {w for path in texts for w in fold(path.read_text(encoding="utf-8")).split()}
    wrong = {w: matcher.canonical(w) for w in words if matcher.canonical(w) != w}
    assert {w: c for w, c in wrong.items() if c in lone} == {}


def _broken(change: Any) -> dict[str, Any]:
    data = yaml.safe_load(agencies.FILE.read_text(encoding="utf-8"))
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["agencies"][0].pop("handles"), "agency 'sat'"),
        (lambda d: d["agencies"][2]["contact"].pop("website"), "agency 'sre'"),
        (lambda d: d["agencies"][1]["contact"].update(website="www.ine.mx"), "agency 'ine'"),
        (lambda d: d["agencies"][3].update(phrases=[]), "agency 'infonavit'"),
        (lambda d: d["agencies"][4].update(colour="azul"), "agency 'issste'"),
        (lambda d: d["agencies"][5].pop("id"), "agency number 6"),
        (lambda d: d["agencies"][6]["phrases"].append("pasaporte"), "agency 'sre'"),
        (lambda d: d["agencies"][7]["phrases"].append("pensión"), "institute topics"),
        (lambda d: d["agencies"].append(d["agencies"][0]), "agency 'sat' appears twice"),
        (lambda d: d["boundaries"][0].update(goes_to="nasa"), "'nasa'"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_entry(change: Any, named: str) -> None:
    with pytest.raises(AgenciesError, match=named):
        agencies.parse(_broken(change))


def test_the_shipped_file_loads_from_its_path(tmp_path: Path) -> None:
    copy = tmp_path / "agencies.yml"
    copy.write_text(agencies.FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert agencies.load(copy) == TABLE


# ------------------------------------------------------------------ the action


class NoSearch:
    """Stands for knowledge_base.answers.Answers: searching or recording is a failure here."""

    def best(self, question: str, campaign: str | None = None) -> Any:
        raise AssertionError(f"the knowledge base was searched for {question!r}")

    def record_unanswered(self, *args: Any) -> None:
        raise AssertionError("recorded as unanswered")


class NothingFound:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.unanswered: list[str] = []

    def best(self, question: str, campaign: str | None = None) -> tuple[None, float]:
        self.asked.append(question)
        return None, 0.1

    def record_unanswered(self, question: str, campaign: str | None, score: float) -> None:
        self.unanswered.append(question)


def tracker(text: str) -> Tracker:
    message = {"text": text, "intent": {"name": "ask_question", "confidence": 0.9}}
    return Tracker(
        sender_id="c1",
        slots={"kb_article": "semanas-cotizadas", "campaign": None},
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.asyncio
async def test_another_agencys_question_is_answered_with_that_agency_not_an_article(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(knowledge, "answers", NoSearch)
    dispatcher = CollectingDispatcher()
    events = await knowledge.ActionAnswerQuestion().run(
        dispatcher, tracker("¿cómo tramito mi pasaporte?"), DOMAIN
    )
    [message] = dispatcher.messages
    sre = TABLE.agency("sre")
    assert message["response"] == "utter_kb_other_agency"
    assert message["agency"] == sre.called and message["handles"] == sre.handles
    assert message["contact"] == sre.contact.text() == "https://www.gob.mx/sre"
    assert events == [SlotSet("kb_article", None), SlotSet("kb_question", None)]
    # The response fills every blank with what the action sends, and offers the way on.
    [variant] = DOMAIN["responses"]["utter_kb_other_agency"]
    filled = variant["text"].format(**{k: message[k] for k in ("agency", "handles", "contact")})
    assert filled.startswith("Eso lo atiende la SRE (Secretaría de Relaciones Exteriores), no")
    assert [b["payload"] for b in variant["buttons"]] == ["/ask_question", "/show_menu"]


@pytest.mark.asyncio
async def test_the_institutes_question_still_goes_to_the_knowledge_base(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub = NothingFound()
    monkeypatch.setattr(knowledge, "answers", lambda: stub)
    dispatcher = CollectingDispatcher()
    question = "mi afore dice que tengo pocas semanas cotizadas en el imss"
    await knowledge.ActionAnswerQuestion().run(dispatcher, tracker(question), DOMAIN)
    assert stub.asked == [question] and stub.unanswered == [question]
    assert dispatcher.messages[0]["response"] == "utter_kb_no_answer"


def test_a_contact_with_phones_reads_as_a_sentence() -> None:
    assert TABLE.agency("cfe").contact.text() == "https://www.cfe.mx o por teléfono al 071 (CFE)"
    assert TABLE.agency("estado_municipio").contact.text().startswith("la página de internet")


@pytest.mark.asyncio
async def test_out_of_scope_says_whose_an_agencys_question_is_and_gives_chatter_the_menu() -> None:
    dispatcher = CollectingDispatcher()
    await knowledge.ActionOutOfScope().run(dispatcher, tracker("quiero sacar mi rfc"), DOMAIN)
    [message] = dispatcher.messages
    assert message["response"] == "utter_kb_other_agency" and "SAT" in message["agency"]
    dispatcher = CollectingDispatcher()
    await knowledge.ActionOutOfScope().run(
        dispatcher, tracker("¿quién ganó el partido ayer?"), DOMAIN
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope", "utter_main_menu"]
