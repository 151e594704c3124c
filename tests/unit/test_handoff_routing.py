from datetime import datetime, timedelta

from handoff.routing import Agent, Waiting, next_for, pick_agent, position, queue_order

T0 = datetime(2026, 11, 24, 9, 0)


def waiting(cid: int, priority: str, minutes_ago: int, campaign: str = "cita_medica") -> Waiting:
    return Waiting(cid, campaign, priority, T0 - timedelta(minutes=minutes_ago))


def agent(name: str, load: int, cap: int = 3, available: bool = True, campaigns=("cita_medica",),
          last: int | None = None) -> Agent:  # fmt: skip
    last_at = None if last is None else T0 - timedelta(minutes=last)
    return Agent(name, frozenset(campaigns), available, load, cap, last_at)


def test_level_first_then_longest_wait_and_waiting_never_crosses_a_level() -> None:
    entries = [
        waiting(1, "normal", 120),  # waited two hours, still after any high or urgent
        waiting(2, "high", 1),
        waiting(3, "urgent", 0),
        waiting(4, "high", 5),
        waiting(5, "normal", 3),
    ]
    assert [e.conversation_id for e in queue_order(entries)] == [3, 4, 2, 1, 5]


def test_position_counts_only_the_same_campaign() -> None:
    entries = [
        waiting(1, "normal", 10),
        waiting(2, "urgent", 1, campaign="salud_mental"),
        waiting(3, "normal", 5),
    ]
    assert position(entries, 3) == 2
    assert position(entries, 2) == 1
    assert position(entries, 99) is None


def test_least_loaded_available_skilled_agent_with_room_ties_to_longest_idle() -> None:
    agents = [
        agent("full", load=3, cap=3),
        agent("away", load=0, available=False),
        agent("other-campaign", load=0, campaigns=("omt_covid",)),
        agent("busy", load=2),
        agent("idle-10", load=1, last=10),
        agent("idle-60", load=1, last=60),
    ]
    chosen = pick_agent(agents, "cita_medica")
    assert chosen is not None and chosen.username == "idle-60"
    assert pick_agent([*agents, agent("never", load=1)], "cita_medica").username == "never"
    assert pick_agent(agents, "denuncias") is None


def test_take_next_gives_the_first_of_my_campaigns_only_when_i_have_room() -> None:
    entries = [waiting(1, "urgent", 1, campaign="salud_mental"), waiting(2, "normal", 9),
               waiting(3, "high", 2)]  # fmt: skip
    assert next_for(agent("ana", load=0), entries).conversation_id == 3
    assert next_for(agent("ana", load=3, cap=3), entries) is None
    assert next_for(agent("ana", load=0, available=False), entries) is None
    assert next_for(agent("ana", load=0, campaigns=("denuncias",)), entries) is None


def test_users_hear_their_new_place_only_when_it_changed_a_lot() -> None:
    from handoff.routing import worth_telling

    assert worth_telling(10, 5) and worth_telling(3, 1) and worth_telling(2, 1)
    assert not worth_telling(10, 6)  # a small move is not announced
    assert not worth_telling(4, 4) and not worth_telling(4, 5)  # no news, or worse
    assert not worth_telling(None, 1) and not worth_telling(3, None)
