"""Customer events on SQS (moto's server): blue writes v1, green v2, each consumer reads both;
what neither can read goes to the dead-letter queue with the reason, and the consumer goes on."""

from __future__ import annotations

import json

import pytest

from app.events import Consumer
from app.services import publisher
from app.shapes import event_registry
from expandcontract.state import (
    CompatibilityMode,
    MessageType,
    Registry,
    check_message_compatibility,
)
from tests.state.support import drain

ADDRESS = "1 Main St, Springfield, IL, 62701"
STRUCTURED = {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}


def _consume(consumer: Consumer) -> None:
    while consumer.poll_once(wait_seconds=0):
        pass


@pytest.fixture
def consumers(state_services):
    sqs = state_services.client("sqs")
    return {
        release: Consumer(release, sqs, state_services.queue_url, state_services.dlq_url)
        for release in ("blue", "green")
    }


def test_each_release_reads_the_others_events(upgrade, state_app, state_services, consumers):
    upgrade("expand@head")
    upgrade("migrate@head")
    blue, green = state_app("blue"), state_app("green")
    created = blue.post(
        "/api/customers", json={"name": "Ada", "email": "a@e.com", "address": ADDRESS}
    )
    customer_id = created.json()["id"]
    green.put(f"/api/customers/{customer_id}", json={"name": "Ada L"})
    for live in (blue, green):
        events = publisher_of(live)
        events.flush()
        assert events.stats.published == 1 and events.stats.errors == 0

    sqs = state_services.client("sqs")
    bodies = [json.loads(m["Body"]) for m in drain(sqs, state_services.queue_url)]
    by_type = {b["type"]: b for b in bodies}
    assert by_type["customer.created"]["schema_version"] == 1
    assert by_type["customer.created"]["payload"]["address"] == ADDRESS
    assert by_type["customer.updated"]["schema_version"] == 2
    assert by_type["customer.updated"]["payload"]["address"] == STRUCTURED

    # Every message read by both consumers (as after a rollback, when blue reads green's).
    for consumer in consumers.values():
        for body in bodies:
            sqs.send_message(QueueUrl=state_services.queue_url, MessageBody=json.dumps(body))
        _consume(consumer)
        assert dict(consumer.stats.consumed) == {"blue": 1, "green": 1}
        assert not consumer.stats.unreadable
    assert drain(sqs, state_services.dlq_url) == []


BAD = {
    "missing_schema_version": {"type": "customer.created", "payload": {"id": 1}},
    "unknown_schema_version": {"type": "customer.created", "schema_version": 9, "payload": {}},
    "malformed": {"type": "customer.created", "schema_version": 1, "payload": {"id": "x"}},
    "unknown_type": {"type": "order.placed", "schema_version": 1, "payload": {}},
}


def test_unreadable_messages_are_dead_lettered_with_the_reason(state_services, consumers):
    sqs = state_services.client("sqs")
    drain(sqs, state_services.queue_url)
    drain(sqs, state_services.dlq_url)
    bodies = [json.dumps(b) for b in BAD.values()] + ["not json", "[1, 2]"]
    good = event_registry("blue").encode(
        "customer.created", {"id": 5, "name": "B", "email": "b@e.com", "address": None}
    )
    for body in [*bodies, good]:
        sqs.send_message(QueueUrl=state_services.queue_url, MessageBody=body)
    green = consumers["green"]
    _consume(green)

    assert green.stats.consumed == {"blue": 1}  # the good one, after all the bad ones
    assert sum(green.stats.unreadable.values()) == len(bodies) == green.stats.dead_lettered
    dead = drain(sqs, state_services.dlq_url)
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)
    assert reasons == sorted([*BAD, "malformed", "malformed"])
    assert sorted(m["Body"] for m in dead) == sorted(bodies)  # nothing lost, bodies intact
    assert drain(sqs, state_services.queue_url) == []


def test_naive_unversioned_events_are_unreadable_across_releases(
    upgrade, state_app, state_services
):
    upgrade("expand@head")
    upgrade("migrate@head")
    blue = state_app("blue", STATE_FORMAT="unversioned")
    blue.post("/api/customers", json={"name": "Ada", "email": "a@e.com", "address": ADDRESS})
    publisher_of(blue).flush()
    sqs = state_services.client("sqs")
    green = Consumer("green", sqs, state_services.queue_url, None, versioned=False)
    _consume(green)
    assert green.stats.unreadable == {"malformed": 1}
    assert green.stats.dropped == 1  # the naive consumer loses it


def test_the_reference_registries_are_fully_compatible():
    verdict = check_message_compatibility(event_registry("blue"), event_registry("green"))
    assert verdict.compatible, verdict.problems
    assert verdict.checked == 2 * (3 + 2)  # every example of both types, both directions


def test_an_incompatible_change_fails_the_check():
    """Green v2 requires a field blue's v1 never carried, with no step that supplies it."""
    from app.shapes import CUSTOMER_V1, CUSTOMER_V2, EXAMPLES_V1, EXAMPLES_V2, v1_to_v2, v2_to_v1

    stricter = {**CUSTOMER_V2, "required": [*CUSTOMER_V2["required"], "country"]}
    examples = [{**e, "country": "US"} for e in EXAMPLES_V2]
    green = Registry("green")
    green.add(
        MessageType("customer.created", current=2)
        .version(1, CUSTOMER_V1, examples=EXAMPLES_V1)
        .version(2, stricter, examples=examples, upgrade=v1_to_v2, downgrade=v2_to_v1)
    )
    blue = Registry("blue")
    blue.add(
        MessageType("customer.created", current=1).version(1, CUSTOMER_V1, examples=EXAMPLES_V1)
    )

    backward = check_message_compatibility(blue, green, CompatibilityMode.BACKWARD)
    assert not backward.compatible
    assert "country" in backward.problems[0]
    forward = check_message_compatibility(blue, green, CompatibilityMode.FORWARD)
    assert not forward.compatible  # blue does not know v2 at all
    assert "schema_version 2 is not known" in forward.problems[0]


def publisher_of(live):
    with live.app.app_context():
        events = publisher()
    assert events is not None
    return events
