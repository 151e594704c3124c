from actions.fallback import consecutive_misses, likeliest_emergency, suggestions


def user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def test_consecutive_misses_counts_only_the_latest_run_in_this_session() -> None:
    events = [
        user("nlu_fallback"),
        {"event": "session_started"},
        user("nlu_fallback"),
        user("greet"),
        {"event": "action", "name": "utter_main_menu"},
        user("nlu_fallback"),
        {"event": "action", "name": "action_fallback"},
        user("nlu_fallback"),
    ]
    assert consecutive_misses(events) == 2
    assert consecutive_misses(events[:6]) == 1
    assert consecutive_misses(events[:4]) == 0
    assert consecutive_misses([{"event": "session_started"}, user("nlu_fallback")]) == 1


def test_suggestions_offer_only_meaningful_intents_best_first() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "affirm", "confidence": 0.3},
        {"name": "book_appointment", "confidence": 0.25},
        {"name": "covid_symptoms", "confidence": 0.2},
        {"name": "request_human", "confidence": 0.1},
        {"name": "ask_question", "confidence": 0.06},
        {"name": "show_menu", "confidence": 0.01},
    ]
    assert suggestions(ranking) == [
        {"title": "Agendar una cita médica", "payload": "/book_appointment"},
        {"title": "Síntomas de COVID-19", "payload": "/covid_symptoms"},
        {"title": "Hablar con una persona", "payload": "/request_human"},
    ]
    assert suggestions([{"name": "show_menu", "confidence": 0.01}]) == []


def test_an_emergency_ranked_first_is_not_left_behind_a_question() -> None:
    assert (
        likeliest_emergency(
            [
                {"name": "nlu_fallback", "confidence": 0.6},
                {"name": "emergency_suicide", "confidence": 0.3},
            ]
        )
        == "emergency_suicide"
    )
    assert (
        likeliest_emergency(
            [
                {"name": "greet", "confidence": 0.4},
                {"name": "emergency_breathing", "confidence": 0.3},
            ]
        )
        is None
    )
