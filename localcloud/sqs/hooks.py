"""Puts SQS's answers (queues.py) into moto 5.2.5's ``SQSBackend``: strict CreateQueue, name reuse, short polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from localcloud import patching, profile
from localcloud.sqs import queues


@cache
def _deleted_recently_class() -> type[Exception]:
    """SQS's QueueDeletedRecently error, made on first use."""
    from moto.sqs.exceptions import SQSException

    class QueueDeletedRecently(SQSException):
        """The queue's name was freed less than 60 s ago."""

        code = "QueueDeletedRecently"
        message = queues.DELETED_RECENTLY

    return QueueDeletedRecently


def _deleted(backend: Any) -> dict[str, float]:
    """When each queue of this backend was deleted (kept on the backend, so a reset forgets it)."""
    deleted: dict[str, float] = backend.__dict__.setdefault("_workshop_deleted_at", {})
    return deleted


def _reported(queue: Any) -> dict[str, Any]:
    """A moto queue's attributes, with the RedriveAllowPolicy moto keeps but does not report."""
    reported = dict(queue.attributes)
    allow = getattr(queue, "redrive_allow_policy", None)
    if allow is not None and "RedriveAllowPolicy" not in reported:
        reported["RedriveAllowPolicy"] = allow
    return reported


def _create_queue(original: Callable[..., Any]) -> Callable[..., Any]:
    """CreateQueue with AWS's answers for an existing or a recently deleted name."""

    def create_queue(self: Any, name: str, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        from moto.sqs.exceptions import QueueAlreadyExists

        existing = self.queues.get(name)
        if existing is None:
            if queues.wait_before_reuse(_deleted(self).get(name), time.time()) > 0:
                raise _deleted_recently_class()()
        else:
            attributes = {k: v for k, v in kwargs.items() if k != "region"}
            differs = queues.different_attribute(_reported(existing), attributes)
            if differs:
                raise QueueAlreadyExists(
                    f"A queue already exists with the same name and a different value for attribute {differs}"
                )
            if tags and dict(tags) != dict(existing.tags or {}):
                raise QueueAlreadyExists("A queue already exists with the same name and different tags")
            return existing  # moto would compare the attributes again, in its own spelling
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
            count = queues.short_poll_share(
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
