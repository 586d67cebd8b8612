"""The dead-letter queue: list what failed and why, replay a message to the queue it came from."""
import json

import amqp

from shared.bus.broker import DEAD_LETTER_QUEUE, ConfirmingPublisher, connection_params, queue_arguments


def _messages(channel, limit=None):
    """Take every dead letter without acking it; they return to the queue when the channel closes."""
    taken = []
    while limit is None or len(taken) < limit:
        message = channel.basic_get(DEAD_LETTER_QUEUE, no_ack=False)
        if message is None:
            break
        taken.append(message)
    return taken


def _describe(message) -> dict:
    headers = message.application_headers or {}
    try:
        body = json.loads(message.body)
    except ValueError:  # not JSON at all (the stream archive parks such a message): shown as it came
        body = message.body.decode(errors="replace") if isinstance(message.body, bytes) else message.body
    # a quorum queue's delivery limit dead-letters by itself: its x-death header says where from
    death = (headers.get("x-death") or [{}])[0]
    limit_reached = death.get("reason") == "delivery_limit"
    return {
        "id": message.properties.get("message_id") or (body.get("event_id") if isinstance(body, dict) else None),
        "event_type": headers.get("x-pitlane-event-type") or (death.get("routing-keys") or [None])[0],
        "queue": headers.get("x-pitlane-queue") or death.get("queue"),
        "attempts": headers.get("x-pitlane-attempts") or (death.get("count") if limit_reached else None),
        "error": headers.get("x-pitlane-error") or ("delivered to consumers that never settled it, up to the"
                                                    " queue's delivery limit" if limit_reached else None),
        "failed_at": headers.get("x-pitlane-failed-at") or (str(death["time"]) if death.get("time") else None),
        "payload": body,
    }


def list_dead_letters(amqp_uri: str, limit: int = 100) -> list[dict]:
    return peek(amqp_uri, limit)[1]


def count(amqp_uri: str) -> int:
    return peek(amqp_uri, 0)[0]


def peek(amqp_uri: str, limit: int = 100) -> tuple[int, list[dict]]:
    """How many dead letters wait, and the oldest `limit` of them, over one connection."""
    with amqp.Connection(**connection_params(amqp_uri)) as conn:
        channel = conn.channel()
        _, waiting, _ = channel.queue_declare(DEAD_LETTER_QUEUE, durable=True, auto_delete=False,
                                              arguments=queue_arguments(dead_letters=False))
        found = [_describe(m) for m in _messages(channel, limit)]
        channel.close()  # unacked messages go back to the queue, in order
    return waiting, found


def replay(amqp_uri: str, message_id: str | None = None) -> list[str]:
    """Send dead letters (one by id, or all) back to the queue they failed on, attempts reset."""
    publisher = ConfirmingPublisher(amqp_uri)
    replayed = []
    try:
        with amqp.Connection(**connection_params(amqp_uri)) as conn:
            channel = conn.channel()
            for message in _messages(channel):
                info = _describe(message)
                if message_id and info["id"] != message_id:
                    continue
                headers = {k: v for k, v in (message.application_headers or {}).items()
                           if not k.startswith("x-pitlane-")}
                # Confirmed in the original queue before the dead letter is acked: never lost.
                publisher.publish([("", info["queue"], info["payload"], headers)])
                channel.basic_ack(message.delivery_tag)
                replayed.append(info["id"])
            channel.close()
    finally:
        publisher.close()
    return replayed
