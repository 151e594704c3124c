from collections import Counter

from core.campaigns import CAMPAIGNS
from ventanilla.bench.load import staff_accounts
from ventanilla.bench.overhead import WAYS, compare, default_rounds, round_order, summarize


def test_rounds_alternate_in_abba_pairs() -> None:
    assert round_order(3) == ["bare", "gateway", "gateway", "bare", "bare", "gateway"]
    order = round_order(20)
    assert Counter(order) == {way: 20 for way in WAYS}
    # Each way is as often first of its pair as second: order effects and drift weigh alike.
    assert sum(i for i, way in enumerate(order) if way == "bare") == sum(
        i for i, way in enumerate(order) if way == "gateway"
    )
    assert round_order(0) == []


def test_default_rounds_give_each_level_about_the_same_turns() -> None:
    assert [default_rounds(users) for users in (1, 8, 50)] == [40, 5, 4]


def test_ratios_are_gateway_over_bare_and_throughput_bare_over_gateway() -> None:
    bare = summarize("bare", 8, [100.0] * 19 + [200.0], errors=0, wall=2.0)
    gateway = summarize("gateway", 8, [121.0] * 19 + [240.0], errors=1, wall=2.5)
    assert (bare.p50_ms, bare.p95_ms, bare.turns_per_s) == (100.0, 100.0, 10.0)
    assert gateway.turns_per_s == 8.0
    ratios = compare(bare, gateway)
    assert ratios.users == 8
    assert ratios.p50 == 1.21
    assert ratios.throughput == 1.25  # above 1: the gateway answers fewer turns per second


def test_forty_streams_are_thirty_agents_and_ten_supervisors() -> None:
    accounts = staff_accounts(40)
    assert len({username for username, _, _ in accounts}) == 40
    roles = Counter(role for _, role, _ in accounts)
    assert roles == {"agent": 30, "supervisor": 10}
    agent_campaigns = Counter(c for _, role, cs in accounts if role == "agent" for c in cs)
    assert len(agent_campaigns) == 3 and set(agent_campaigns.values()) == {10}
    assert all(set(cs) <= set(CAMPAIGNS) for _, _, cs in accounts)
    assert staff_accounts(0) == []
