"""The emergency safety layer: does a message say that someone's life is in danger right now?

The gateway asks it about every typed message before the bot sees it (`core.ports.SafetyNet`), in
any state, form and channel; the action server asks it again when the intent classifier alone
thinks a message is an emergency (`judge`). A miss is the worst failure of the product, so the
layer is tuned for recall first, then precision:

1. The text is normalized per clause: lower case, no accents, repeated letters collapsed, chat
   spellings ("kiero", "q", "xq") spelled out, and words one or two typos away from the words
   the patterns need corrected (`rapidfuzz`).
2. Figures of speech ("me muero de risa", "el trámite me está matando", "pecho de pollo") and
   questions about a topic ("¿qué es el código infarto?") are taken out of the text.
3. What is left is matched against each kind's patterns, a negated mention ("no me duele el
   pecho") does not count, and an oximeter reading under 90 % (in digits or words, read by
   `triage.parsing.saturation`) is severe breathing trouble.

Measured by `ventanilla bench emergency` on a labelled phrase set (tests/emergency/phrases.tsv).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from core.protocol import EMERGENCY_INTENTS, EmergencyKind, Reply
from core.text import fold_accents
from triage.parsing import LOW_SATURATION, saturation

K = EmergencyKind

# ---------------------------------------------------------------- what people are told first

LINEA_DE_LA_VIDA = "800 911 2000"

MESSAGES: dict[EmergencyKind, str] = {
    K.INFARTO: (
        "Lo que describes puede ser un infarto. Llama al 911 ahora o ve a urgencias de inmediato; "
        "no manejes tú. Mientras llega la ayuda, quédate en reposo y no estés solo o sola. "
        "Te comunico también con el equipo de Código Infarto."
    ),
    K.SUICIDIO: (
        "Gracias por decírmelo. Lo que sientes importa y no tienes que pasarlo a solas. "
        "Si estás en peligro ahora, llama al 911. Puedes hablar ahora mismo con la Línea de la "
        f"Vida, {LINEA_DE_LA_VIDA}: es gratuita y atiende las 24 horas. Si puedes, busca a "
        "alguien de confianza para que te acompañe. Te comunico también con una persona del "
        "equipo de salud mental."
    ),
    K.RESPIRACION: (
        "Lo que describes puede ser una emergencia: una dificultad grave para respirar o una "
        "oxigenación menor a 90 % necesita atención ahora. Llama al 911 o ve a urgencias de "
        "inmediato. Te comunico también con un médico."
    ),
    K.INCONSCIENTE: (
        "Esto puede ser una emergencia. Llama al 911 ahora. Si la persona no despierta o no "
        "responde, no la dejes sola, acuéstala de lado si respira y no le des nada de comer ni "
        "de beber. Te comunico también con una persona del Instituto."
    ),
}


def replies(kind: EmergencyKind) -> list[Reply]:
    """The first message of an emergency, marked with its kind."""
    return [Reply(text=MESSAGES[kind], buttons=[], alert=str(kind))]


# ---------------------------------------------------------------- normalization

# Chat spellings, word by word.
SPELLINGS = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "xk": "porque",
    "pk": "porque",
    "x": "por",
    "d": "de",
    "toy": "estoy",
    "tas": "estas",
    "sta": "esta",
    "aki": "aqui",
    "ps": "pues",
    "tb": "tambien",
    "pexo": "pecho",
    "pecjo": "pecho",
    "corazn": "corazon",
    "kiero": "quiero",
}
# Words the patterns need, which a typo should not hide. A token one typo away (two for long
# ones) from one of them is read as it, unless it is a common word of its own.
KEYWORDS = re.findall(
    r"\w+",
    "pecho corazon infarto cardiaco respirar respiro respira respirando despertar despierta "
    "despierto suicidar suicidarme suicidio matarme morirme morir muerto muerta pastillas "
    "saturacion oxigenacion oxigeno oximetro inconsciente convulsion convulsiona convulsionando "
    "desmayo desmaye desmayado desmayada ahogando ahogo asfixia asfixiando morados morado "
    "moradas labios quitarme ahorcarme colgarme venas azotea aventarme conocimiento reacciona "
    "despedida despedirme aguanto izquierdo opresion presion dolor duele vivir viviendo "
    "existir",
)
NOT_TYPOS = frozenset(
    re.findall(
        r"\w+",
        "ahora hecho techo derecho dicho mucho lecho pecha morir matar muero mueren muere "
        "presiona presente dolar dolores dueles duelo duela viviendo vivire vivira volver "
        "despues despacio despide despido desayuno desmayar moral morada morenas moreno labio "
        "aguante aguanta aguantar aguanto ayuno reacciono reaccion existe existen existio "
        "suicida oxigena respire respiren quitarle quitarse colgar colgado vender venda vena "
        "pechos pecado corazones matarte morirse muertos muertas",
    )
)


@cache
def _corrected(token: str) -> str:
    if len(token) < 5 or token in NOT_TYPOS or token in KEYWORDS or not token.isalpha():
        return token
    # A typo rarely hits the first letter; words that differ there are other words
    # ("esperando" is not "respirando").
    candidates = [k for k in KEYWORDS if k[0] == token[0]]
    limit = 1 if len(token) < 10 else 2
    match = process.extractOne(token, candidates, scorer=Levenshtein.distance, score_cutoff=limit)
    return match[0] if match else token


def _words(clause: str) -> str:
    clause = re.sub(r"(.)\1{2,}", r"\1", clause)  # "ayudaaaa", "morirrr"
    clause = re.sub(r"(?<=\d)\s*%", " %", clause)
    clause = re.sub(r"k(?=[ei])", "qu", clause)  # "kiero", "aki"
    tokens = [SPELLINGS.get(t, t) for t in re.findall(r"[a-z0-9%]+", clause)]
    return " ".join(_corrected(t) for t in tokens)


# A goodbye with thanks is the end of a chat, not of a life (it spans clauses).
THANKS = re.compile(r"\b(?:gracias|resolvieron|ayudaron|atendieron)\b")


def clauses(text: str) -> list[str]:
    """The message's clauses, normalized (see the module's docstring)."""
    folded = fold_accents(text.lower())
    if THANKS.search(folded):
        folded = re.sub(r"\bdespedirme\b", " ", folded)
    parts = re.split(r"[.,;:!¡?¿\n()]+|\by luego\b|\bpero\b", folded)
    return [w for w in (_words(p) for p in parts) if w]


# ---------------------------------------------------------------- what does not count

PERSON = (
    r"(?:papa|mama|hij[oa]|bebe|nin[oa]|espos[oa]|marido|abuel[oa]|abuelit[oa]|ti[oa]|"
    r"herman[oa]|prim[oa]|amig[oa]|novi[oa]|senor|senora|paciente|vecin[oa]|suegr[oa]|"
    r"pareja|compa\w*|jefe|persona|alguien)"
)
DEVICE = (
    r"(?:pagina|app|aplicacion|sistema|telefono|celular|computadora|compu|boton|liga|link|"
    r"portal|linea|chat|bot|servidor|correo|internet|red|impresora|tele|television|carro|coche)"
)
FIGURES = [
    # "me muero de risa", "muerta de hambre", "me quiero morir de la vergüenza"
    r"\b(?:mor\w*|muer\w*|mata\w*|desmay\w*|ahog\w*|infart\w*) de (?:la |el )?(?:risa|hambre|"
    r"sueno|calor|frio|ganas|aburrimiento|pena|verguenza|nervios|envidia|curiosidad|cansancio|"
    r"flojera|amor|emocion|gusto|celos|sed|coraje|tristeza|alegria|estres|tedio|sustos?)\b",
    r"\bahog\w* en (?:deudas|trabajo|papeles|tramites|problemas|un vaso de agua)\b",
    # "el trámite me está matando", "me mata esta fila", "me matan los precios"
    r"\b(?:me|nos) (?:esta|estan|estas) matando\b",
    r"\bme matan? (?:el|la|los|las|esta|este|estos|estas|tanto|cada|con)\b",
    r"\b(?:muy|bien|super|tan) matad[oa]\b",
    r"\bcasi (?:me|le) (?:da|dio|daba) (?:un |el )?(?:infarto|paro|ataque|patatus|soponcio)\b",
    r"\bataque de (?:risa|nervios|celos|hambre|tos|estornudos)\b",
    r"\b(?:pecho|pechuga) de (?:pollo|res|pavo|cerdo)\b",
    r"\bpechugas?\b",
    rf"\b{DEVICE}(?: \w+){{0,4}} (?:no )?(?:responde|reacciona|despierta|se mueve|carga|sirve|"
    r"respira)\b",
    r"\bmuert[oa]s? (?:de cansancio|de sueno)\b",
    r"\b(?:la|una) vida (?:laboral|profesional|escolar)\b",
    # a pet, not a person
    r"\b(?:perr\w*|gat\w*|mascota|animalito|pajarito|hamster|conejo|perico|pez)\b(?: \w+){0,3}"
    r" (?:no )?(?:despierta|reacciona|respira|se mueve|se desmayo|convulsiona\w*)\b",
    # fainting long ago, for paperwork: "me desmayé la semana pasada"
    r"\b(?:me|se) (?:desmaye|desmayo|desvanecio|privo|convulsiono)(?: \w+){0,3} (?:la semana "
    r"pasada|el mes pasado|el ano pasado|hace (?:\d+|un|una|dos|tres|unos|unas|varios|varias) "
    r"(?:dia|dias|semana|semanas|mes|meses|ano|anos))\b",
    # a part of the body said to be fine: "me dijo que mi corazón está bien"
    r"\b(?:corazon|pecho|pulmones|oxigenacion|saturacion|respiracion)(?: \w+)? (?:esta|estan|"
    r"salio|salieron|sale|salen|quedo) (?:bien|normal|normales|sano|perfecto|excelente)\b",
    # a past event, for paperwork: "tuve un infarto hace dos años"
    r"\b(?:tuve|tuvo|le dio|me dio|sufri|sufrio) (?:un |una )?(?:infarto|paro cardiaco|ataque "
    r"al corazon|preinfarto|embolia)(?: \w+){0,4} (?:hace (?:\d+|un|una|dos|tres|unos|unas|"
    r"varios|varias|muchos) (?:ano|anos|mes|meses|semana|semanas)|el ano pasado|en \d{4})\b",
    r"\b(?:incapacidad|pension|constancia|certificado|rehabilitacion|tramite|pago|formato|"
    r"seguro|cita|consulta) (?:por|de|del|despues del?) (?:un |una |mi |su )?(?:infarto|"
    r"suicidio|intento de suicidio|paro)\b",
    # wanting to leave a queue or the chat, not life
    r"\bya no quiero (?:esperar|hacer|seguir esperando|seguir con|seguir en|el|la|los|las|"
    r"que|nada|mas)\b",
]
# A question about a topic, or a request for information about it, with nobody in it.
TOPIC_REQUEST = re.compile(
    r"\b(?:informacion|info|informes|saber|platicame|hablame|explicame|explicar|significa|"
    r"definicion|requisitos) (?:sobre|acerca|de|del|que es|que significa|como)\b(?! mi\b| nada de)"
    r"|\b(?:si alguien|si a alguien|en caso de|si una persona|cuando alguien)\b"
    r"|\b(?:programa|campana|protocolo|estadisticas|prevencion|prevenir|taller|curso|platica|"
    r"conferencia|tarea|examen|exposicion|investigacion|clase|pelicula|serie|libro|cancion|"
    r"noticia)\b"
)
QUESTION_START = re.compile(
    r"^(?:que|como|cual|cuales|cuanto|cuantos|donde|cuando|quien|quienes|para que|por que|"
    r"existe|hay|tienen|tiene el|el imss|ustedes|es cierto|es verdad)\b"
)
PERSONAL = re.compile(
    r"\b(?:me|mi|mis|tengo|estoy|siento|quiero|voy|le|les|su|sus|se|nos|tiene|esta|estan|"
    rf"puedo|puede|ayuda|ayudame|ayudenme|auxilio|urgente|hago|hacemos|yo|{PERSON})\b"
)
NEGATION = re.compile(
    r"\b(?:no|sin|nunca|ni|tampoco)(?: (?:tengo|tiene|siento|siente|hay|presento|presenta|me|"
    r"le|te|he|ha|tenido|sentido|mucho|ningun|ninguna|el|la|un|una|dolor|de)){0,3} $"
)


def _strip_figures(clause: str) -> str:
    for pattern in FIGURES:
        clause = re.sub(pattern, " ", clause)
    return re.sub(r"\s+", " ", clause).strip()


def looks_like_question(text: str) -> bool:
    """Asked as a question ("¿…?", or opening with a question word)."""
    parts = clauses(text)
    return "?" in text or "¿" in text or bool(parts and QUESTION_START.match(parts[0]))


def _topic_only(text: str, clause_list: list[str]) -> bool:
    """A question about a topic, or a request for information, about nobody in danger."""
    asked = "?" in text or "¿" in text or bool(QUESTION_START.match(clause_list[0]))
    joined = " ".join(clause_list)
    if PERSONAL.search(joined):
        informing = TOPIC_REQUEST.search(joined)
        return bool(informing) and not _first_person_danger(joined)
    return asked or bool(TOPIC_REQUEST.search(joined))


def _first_person_danger(text: str) -> bool:
    return bool(
        re.search(
            r"\b(?:me|le|se) (?:esta|estan|estoy)? ?(?:dando|duele|quiero|quiere|voy|va|falta)\b"
            r"|\bno (?:puedo|puede) respirar\b|\bquiero (?:morir|matarme|suicidarme)",
            text,
        )
    )


# ---------------------------------------------------------------- what counts

PATTERNS: dict[EmergencyKind, list[str]] = {
    K.INFARTO: [
        r"\b(?:dolor|dolores|presion|opresion|punzadas?|piquetes?|ardor|peso|piedra|apreton|"
        r"molestia)(?: \w+){0,2} (?:en|de|del|sobre) (?:el |mi |su |la )?(?:pecho|torax|corazon)\b",
        r"\b(?:me|le|te|nos|les) (?:duele|duelen|dolia|dolio|esta doliendo|arde|aprieta|"
        r"aprietan|oprime|oprimen|pesa|punza|"
        r"quema|truena|molesta|pisa|pisara|aplasta|aplastara)(?: \w+)?(?: \w+)? (?:el|mi|su) "
        r"(?:pecho|corazon|torax)\b",
        r"\b(?:pecho|corazon) (?:me|le) (?:duele|arde|aprieta|oprime|punza|quema)\b",
        r"\b(?:infartos?|infartando|infartad[oa]|preinfarto|ataque (?:al|del) corazon|ataque "
        r"cardiaco|paro cardiaco|paro cardio\w*|angina de pecho|dolor toracico)\b",
        r"\b(?:duele|dormido|entumido|adormecido|hormigue\w*|entume\w*|no siento)(?: \w+){0,2}"
        r" brazo izquierdo\b",
        r"\bbrazo izquierdo (?:\w+ )?(?:dormido|entumido|adormecido|me duele|le duele|no lo "
        r"siento|hormiguea)\b",
        r"\bsud\w* frio\b",
        r"\b(?:se|me) (?:agarra|agarro|toca|tocaba|aprieta) el pecho\b",
        r"\b(?:siento|siente|sientes|sintio) (?:\w+ ){0,6}(?:el |mi |su )?pecho\b",
        r"\bel corazon (?:me |le )?(?:late|va|esta) (?:muy )?(?:raro|rapidisimo|muy rapido|a mil)"
        r"(?: \w+){0,3} (?:pecho|desmay\w*|mare\w*)\b",
    ],
    K.RESPIRACION: [
        r"\bno (?:puedo|puede|pueden|podia|pudo|logro|logra|alcanzo|alcanza) (?:a )?respirar\b"
        r"(?! (?:bien )?por la nariz)",
        r"\bno respira\b",
        r"\b(?:me|le|nos) (?:cuesta|cuestan)(?: mucho| muchisimo| trabajo| bastante)? "
        r"respirar\b",
        r"\b(?:dificultad|trabajo|esfuerzo)(?: \w+)? para respirar\b",
        r"\bno (?:me|le|nos) (?:entra|llega|pasa|alcanza) (?:el )?aire\b",
        r"\b(?:me|le|nos) falta(?:ba)?(?: mucho| muchisimo| demasiado| bastante| tanto)? "
        r"(?:el )?aire\b(?! (?:\w+ )?(?:poco|poquito|poquitito|tantito))",
        r"\b(?:mucha |grave |severa )falta de aire\b|\bfalta de aire (?:grave|severa|fuerte)\b",
        r"\bsin poder respirar\b|\bsin aire\b",
        r"\b(?:me|se|te|nos) (?:estoy |esta |estas |estamos )?(?:ahog|asfixi)\w*\b",
        r"\b(?:ahogando|asfixiando)\b",
        r"\b(?:labios|boca|cara|unas|dedos|piel|lengua)(?: \w+)? (?:morad|azul)\w*\b",
        r"\b(?:poniendo|puso|pusieron|ponen|pone|pongo|volvio|estoy|esta|se ve) (?:\w+ )?"
        r"(?:morad[oa]|azul)(?:es|s)?\b",
        r"\brespira (?:muy )?(?:raro|feo|rapido|con dificultad|con mucho esfuerzo|entrecortado"
        r"|como pescado)\b",
        r"\b(?:se|me) (?:atraganto|atraganta|esta atragantando|estoy atragantando)\b",
        r"\b(?:oxigenacion|saturacion|oxigeno) (?:muy )?baj[ao]\b",
        r"\bbaj[ao] (?:la |el )?(?:oxigenacion|saturacion|oxigeno)\b",
    ],
    K.INCONSCIENTE: [
        r"\bno (?:lo|la|le|los|las) (?:puedo|podemos|pude|pudimos|logro|logramos|hemos podido)"
        r" despertar\b",
        r"\bno (?:puedo|podemos|pude|pudimos|logro|logramos) despertar(?:lo|la|le)?"
        rf"(?: a (?:mi |su |el |la |los )?{PERSON}|lo|la)\b",
        rf"\b{PERSON} (?:no )?(?:despierta|reacciona|responde|se mueve)\b",
        r"\bno (?:despierta|reacciona|se mueve)\b",
        r"\bno responde (?:a nada|cuando le|aunque le|al hablarle|ni|y)\b",
        r"\b(?:se|me) (?:desmayo|desmaye|desmaya|desvanecio|desvanece|privo|desplomo)\b",
        r"\b(?:desmayad[oa]|inconsciente|desvanecid[oa])\b",
        r"\b(?:perdio|perdi|pierde|esta perdiendo) (?:el conocimiento|la conciencia|el sentido)\b",
        r"\bconvuls\w*|\bataque epileptico\b|\bespuma (?:en|por) la boca\b",
        r"\b(?:esta|se puso|anda|lo veo|la veo) (?:muy )?(?:confundid[oa]|desorientad[oa])\b",
        r"\bse (?:cayo|desplomo) y no (?:se levanta|reacciona|responde|despierta|se mueve)\b",
        r"\bno (?:lo|la) (?:puedo|podemos) (?:mantener|tener) despiert[oa]\b",
    ],
    K.SUICIDIO: [
        r"\b(?:quiero|quisiera|deseo|pienso|pensando en|pensado en|ganas de|voy a|planeo|"
        r"prefiero|necesito|deberia) (?:me )?(?:matarme|suicidarme|morirme|quitarme la vida|"
        r"desaparecer para siempre|hacerme dano|lastimarme|cortarme|matar|suicidar|dejar de"
        r" existir|dejar de vivir|no despertar)\b",
        r"\b(?:quiero|quisiera|deseo|ganas de|pienso en|pensando en|prefiero) morir\b",
        r"\b(?:me|se) (?:quiero|quiere|voy|va) (?:a )?(?:matar|suicidar|quitar la vida)\b",
        r"\b(?:me|se) (?:quiero|quiere) morir\b",  # "me voy a morir" is fear: the classifier's
        r"\bsuicid\w*|\bmatarme\b|\bmorirme\b|\bquitarme la vida\b|\bquitarse la vida\b",
        r"\b(?:ya )?no (?:quiero|deseo) (?:vivir|seguir viviendo|seguir aqui|estar aqui|"
        r"existir|despertar|seguir con vida|seguir asi)\b",
        r"\b(?:ya )?no puedo (?:vivir|seguir viviendo|seguir con vida)\b",
        r"^(?:y )?(?:ya )?no (?:aguanto|soporto)(?: mas)?(?: la vida| vivir| mi vida| con mi "
        r"vida| con esta vida| con todo| con esto| esta vida)?$",
        r"^(?:y )?ya no puedo mas(?: con mi vida| con la vida| con todo| con esto)?$",
        r"\b(?:acabar|terminar) con (?:mi vida|todo de una vez|todo esto|todo|mi existencia)\b",
        r"\b(?:mejor|preferiria|prefiero|ojala) (?:estar |estuviera )?(?:muert[oa]|morirme|"
        r"morir|me muriera)\b",
        r"\b(?:desearia|ojala|quisiera) (?:no haber nacido|no despertar|ya no despertar|"
        r"dormirme y no despertar|no existir|desaparecer)\b",
        r"\bno (?:vale|tiene) (?:la pena|caso|sentido) (?:vivir|seguir)\b",
        r"\bno le (?:veo|encuentro) (?:sentido|caso) a (?:la|mi) vida\b",
        r"\b(?:nadie|ninguno) (?:me )?(?:extranaria|va a extranar|me echaria de menos|notaria)\b",
        r"\b(?:todos|mi familia|ellos) (?:estarian|estaria|estaran|estara) mejor sin mi\b",
        r"\bmejor si (?:yo )?(?:no existiera|no estuviera|no hubiera nacido|me muriera|me muero)\b",
        r"\b(?:no tengo|sin|perdi las) ganas de (?:vivir|seguir viviendo|seguir)\b",
        r"\bsoy una carga\b|\bcarta de despedida\b",
        r"\b(?:quiero|vengo a|solo queria|queria) despedirme\b",
        r"\b(?:tome|me tome|trague|me trague|se tomo|tomo|se trago|me acabo de tomar|se acaba de "
        r"tomar) (?:muchas|todas las|todas mis|un monton de|varias|un frasco de|toda la caja de|"
        r"bastantes|demasiadas|como \d+|\d+) (?:pastillas|pildoras|tabletas|medicinas|"
        r"medicamentos|capsulas|grageas)\b",
        r"\b(?:tome|me tome|trague|tomo|se tomo|voy a tomar|me voy a tomar|voy a tomarme|quiero "
        r"tomar|me voy a beber|voy a beber)(?: \w+){0,2} (?:veneno|raticida|cloro|insecticida|"
        r"matarratas)\b",
        r"\b(?:me|se) (?:corte|corto|esta cortando|estoy cortando) (?:las venas|las munecas|los "
        r"brazos)\b|\bcortarme (?:las venas|las munecas)\b",
        r"\b(?:voy a|me voy a|quiero|estoy por|pienso) (?:saltar|aventarme|tirarme|lanzarme)\b",
        r"\b(?:me|se) (?:voy|va|quiero|quiere) a (?:aventar|tirar|lanzar)(?: \w+){0,3} (?:vias|"
        r"puente|azotea|edificio|balcon|ventana|metro|tren|carros|coches|trailer|precipicio|"
        r"barranco|rio|presa|techo|segundo piso|tercer piso)\b",
        r"\b(?:me|se) (?:voy|va|quiero|quiere) a (?:aventar|colgar|ahorcar|cortar)(?! (?:el|la|"
        r"los|las|un|una|mi|su|a|al|para|de)\b)",
        r"\b(?:estoy|esta)(?: parad[oa]| sentad[oa]| subid[oa])? (?:en|arriba de|sobre) "
        r"(?:la azotea|el puente|la orilla|las vias|el borde|la cornisa)\b",
        r"\b(?:ahorcarme|colgarme|ahorcarse|dispararme|pegarme un tiro|darme un tiro)\b",
        # Saying goodbye for good, and the means at hand: warning signs of their own.
        r"\b(?:es|sera) mi ultim[oa] (?:dia|noche)(?: de vida| en este mundo| aqui)?$",
        r"\bya no (?:van|vas|vamos) a saber (?:nada )?de mi\b|\badios para siempre\b",
        r"\bme (?:las|los|la|lo) voy a tomar tod[oa]s\b|\btomarmel[ao]s tod[ao]s\b",
        r"\b(?:ya )?(?:me canse|estoy cansad[oa]) de vivir\b|\bno quiero seguir\b$",
    ],
}
# Words of the emergencies' vocabulary: with one, the classifier's opinion counts (see `judge`).
CUES = re.compile(
    r"\b(?:pecho|corazon|infart\w*|respir\w*|aire|ahog\w*|asfixi\w*|mor\w*|muer\w*|mat\w*|"
    r"suicid\w*|vida|vivir|pastillas|desmay\w*|despert\w*|despierta|consciente|inconsciente|"
    r"convuls\w*|satur\w*|oxigen\w*|morad\w*|azul\w*|aguanto|despedir\w*|cortar\w*|saltar|"
    r"desaparec\w*|desaparez\w*|estorbo|carga|reacciona|dano)\b"
)


@cache
def _compiled() -> dict[EmergencyKind, list[re.Pattern[str]]]:
    return {kind: [re.compile(p) for p in patterns] for kind, patterns in PATTERNS.items()}


@dataclass(frozen=True)
class Verdict:
    kind: EmergencyKind | None  # the emergency the message surely says
    dismissed: bool  # only a figure of speech or a question about a topic was found
    cue: bool  # words of an emergency are there (the classifier may decide)


def _said(kind: EmergencyKind, clause: str) -> bool:
    for pattern in _compiled()[kind]:
        for match in pattern.finditer(clause):
            if not NEGATION.search(clause[: match.start()]):
                return True
    return False


def detect(text: str) -> Verdict:
    """What the safety layer reads in one message."""
    raw = clauses(text)
    if not raw:
        return Verdict(None, False, False)
    cue = any(CUES.search(c) for c in raw)
    kept = [c for c in (_strip_figures(c) for c in raw) if c]
    figures = len(kept) < len(raw) or kept != raw
    # A low oximeter reading is never a figure of speech nor a topic ("saturación de 78, ¿qué
    # hago?").
    for clause in kept:
        reading = saturation(clause)
        if reading is not None and reading < LOW_SATURATION:
            return Verdict(K.RESPIRACION, False, True)
    if _topic_only(text, kept or raw):
        return Verdict(None, True, cue)
    for kind in (K.SUICIDIO, K.INFARTO, K.RESPIRACION, K.INCONSCIENTE):
        if any(_said(kind, clause) for clause in kept):
            return Verdict(kind, False, True)
    return Verdict(None, figures and not any(CUES.search(c) for c in kept), cue)


def judge(text: str, intent: str | None, confidence: float) -> EmergencyKind | None:
    """The safety layer and the intent classifier together: the layer's emergency wins; a
    figure of speech or a topic question is never one; otherwise the classifier's emergency
    counts when it is confident, and more so when the message has no emergency's words."""
    verdict = detect(text)
    if verdict.kind is not None:
        return verdict.kind
    kind = EMERGENCY_INTENTS.get(intent or "")
    if kind is None or verdict.dismissed:
        return None
    threshold = CLASSIFIER_THRESHOLD if verdict.cue else CLASSIFIER_THRESHOLD_WITHOUT_CUE
    return kind if confidence >= threshold else None


# Chosen on the dev half of tests/emergency/phrases.tsv with the trained classifier
# (`ventanilla bench emergency`).
CLASSIFIER_THRESHOLD = 0.6
CLASSIFIER_THRESHOLD_WITHOUT_CUE = 0.85


class SafetyLayer:
    """`core.ports.SafetyNet` for the gateway."""

    def emergency(self, text: str) -> EmergencyKind | None:
        return detect(text).kind

    def replies(self, kind: EmergencyKind) -> list[Reply]:
        return replies(kind)
