"""SQS as AWS answers it: strict CreateQueue, the 60 s before a name is free again, short polling.

moto 5.2.5 compares the attributes of a CreateQueue for an existing queue but answers a generic
message and overwrites the queue's tags; it lets a deleted queue's name be reused at once; and
its short polling returns every available message. AWS:

- ``CreateQueue`` for an existing name returns its URL only if every attribute given matches:
  otherwise ``QueueAlreadyExists`` ("A queue already exists with the same name and a different
  value for attribute X"). Tags given for an existing queue must equal its tags (undocumented;
  reported by users: TagQueue adds tags). Always on.
- A name can be reused only 60 s after its queue was deleted: ``QueueDeletedRecently`` (query
  code ``AWS.SimpleQueueService.QueueDeletedRecently``). Always on, and not scaled: it is a rule,
  not a delay.
- Under the ``aws`` profile, short polling (no wait from the request or the queue) samples a
  subset of SQS's servers: it returns a random share of the available messages, possibly none,
  drawn from the profile's seed. Long polling returns what is there and waits when empty (moto
  does that already).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from moto.sqs.exceptions import QueueAlreadyExists, SQSException

from localcloud import patching, profile

NAME_REUSE_S = 60.0
DELETED_RECENTLY = (
    "You must wait 60 seconds after deleting a queue before you can create another with the same name."
)


class QueueDeletedRecently(SQSException):
    """The queue's name was freed less than 60 s ago."""

    code = "QueueDeletedRecently"
    message = DELETED_RECENTLY


def _deleted(backend: Any) -> dict[str, float]:
    """When each queue of this backend was deleted (kept on the backend, so a reset forgets it)."""
    deleted: dict[str, float] = backend.__dict__.setdefault("_workshop_deleted_at", {})
    return deleted


def wait_before_reuse(deleted_at: float | None, now: float) -> float:
    """Seconds until a name deleted at deleted_at may name a new queue (0 when free)."""
    return 0.0 if deleted_at is None else max(0.0, deleted_at + NAME_REUSE_S - now)


def different_attribute(current: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """The first requested attribute whose value differs from the queue's, or None."""
    for name, value in wanted.items():
        if str(current.get(name)) != str(value):
            return name
    return None


def short_poll_share(current: profile.Profile, queue: str, available: int, limit: int) -> int:
    """How many of the available messages one short poll returns under the aws profile (0 to min(available, limit))."""
    return current.draw("sqs_short_poll", queue).randint(0, min(available, limit))


def _create_queue(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateQueue with AWS's answers for an existing or a recently deleted name."""

    def create_queue(self: Any, name: str, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        existing = self.queues.get(name)
        if existing is None:
            if wait_before_reuse(_deleted(self).get(name), time.time()) > 0:
                raise QueueDeletedRecently()
        else:
            attributes = {k: v for k, v in kwargs.items() if k != "region"}
            differs = different_attribute(existing.attributes, attributes)
            if differs:
                raise QueueAlreadyExists(
                    f"A queue already exists with the same name and a different value for attribute {differs}"
                )
            if tags and dict(tags) != dict(existing.tags or {}):
                raise QueueAlreadyExists("A queue already exists with the same name and different tags")
        return original(self, name, tags, **kwargs)

    return create_queue


def _delete_queue(original: Callable[..., Any]) -> Callable[..., Any]:
    """DeleteQueue that remembers when the name was freed."""

    def delete_queue(self: Any, queue_name: str) -> None:
        original(self, queue_name)
        _deleted(self)[queue_name] = time.time()

    return delete_queue


def _receive_message(original: Callable[..., Any]) -> Callable[..., Any]:
    """ReceiveMessage whose short polling samples a share of the messages under the aws profile."""

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        current = profile.current()
        if current.aws and not wait_seconds_timeout:
            available = len(self.get_queue(queue_name).messages)
            count = short_poll_share(
                current, f"{self.account_id}/{self.region_name}/{queue_name}", available, count
            )
            if count == 0:
                return []
        return original(
            self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names
        )

    return receive_message


def install() -> None:
    """Hook strict CreateQueue, name reuse and short polling into moto's SQS (idempotent)."""
    from moto.sqs.models import SQSBackend

    patching.patch(SQSBackend, "create_queue", ["self", "name", "tags", "kwargs"], _create_queue)
    patching.patch(SQSBackend, "delete_queue", ["self", "queue_name"], _delete_queue)
    patching.patch(
        SQSBackend,
        "receive_message",
        [
            "self",
            "queue_name",
            "count",
            "wait_seconds_timeout",
            "visibility_timeout",
            "message_attribute_names",
        ],
        _receive_message,
    )
