"""SQS as AWS answers it: strict CreateQueue, the 60 s before a name is free again, short polling.

moto 5.2.5 compares the attributes of a CreateQueue for an existing queue but answers a generic
message and overwrites the queue's tags; it lets a deleted queue's name be reused at once; and
its short polling returns every available message. AWS:

- ``CreateQueue`` for an existing name returns its URL only if every attribute given matches, in
  any of AWS's spellings of the same value (``canonical``; an attribute the queue does not report,
  such as a standard queue's ``FifoQueue``, has its default): otherwise ``QueueAlreadyExists`` ("A queue already exists with the same name and a different
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

import json
from typing import Any

from localcloud import profile

NAME_REUSE_S = 60.0
# How SQS spells each kind of attribute value (CreateQueue's Attributes, all strings on the wire).
BOOLEAN_ATTRIBUTES = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
INTEGER_ATTRIBUTES = frozenset({"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                                "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout",
                                "KmsDataKeyReusePeriodSeconds"})  # fmt: skip
JSON_ATTRIBUTES = frozenset({"Policy", "RedrivePolicy", "RedriveAllowPolicy"})
# The values of attributes a queue has without reporting them (a standard queue's FIFO attributes, no KMS key,
# no policies): CreateQueue's documented defaults.
DEFAULTS: dict[str, str] = {
    "FifoQueue": "false",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
    "KmsDataKeyReusePeriodSeconds": "300",
    "KmsMasterKeyId": "",
    "Policy": "",
    "RedrivePolicy": "",
    "RedriveAllowPolicy": "",
}
DELETED_RECENTLY = (
    "You must wait 60 seconds after deleting a queue before you can create another with the same name."
)


def wait_before_reuse(deleted_at: float | None, now: float) -> float:
    """Seconds until a name deleted at deleted_at may name a new queue (0 when free)."""
    return 0.0 if deleted_at is None else max(0.0, deleted_at + NAME_REUSE_S - now)


def canonical(name: str, value: Any) -> str:
    """An attribute's value in one spelling: booleans lower-case, numbers as integers, JSON documents parsed.

    AWS compares values, not their spelling: ``"True"`` is ``"true"``, ``"05"`` is ``5``, and a
    ``RedrivePolicy`` is the same policy compact or spaced, in any key order, with
    ``maxReceiveCount`` a number or a string of one.
    """
    if value is None:
        return ""
    text = str(value).strip()
    if name in BOOLEAN_ATTRIBUTES:  # what the queue stores: true, or else false (moto reads "tru" as false)
        return "true" if text.lower() == "true" else "false"
    if name in INTEGER_ATTRIBUTES:
        try:
            return str(int(text))
        except ValueError:
            return text
    if name in JSON_ATTRIBUTES:
        try:
            document = json.loads(text) if isinstance(value, str) else value
        except ValueError:
            return text
        if not document:
            return ""
        if name == "RedrivePolicy" and isinstance(document, dict) and "maxReceiveCount" in document:
            try:
                document = {**document, "maxReceiveCount": int(str(document["maxReceiveCount"]))}
            except ValueError:
                pass
        return json.dumps(document, sort_keys=True, separators=(",", ":"))
    return text


def different_attribute(current: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """The first requested attribute whose value differs from the queue's (an attribute the queue does not
    report has its default), or None."""
    for name, value in wanted.items():
        if canonical(name, current.get(name, DEFAULTS.get(name))) != canonical(name, value):
            return name
    return None


def short_poll_share(current: profile.Profile, queue: str, available: int, limit: int) -> int:
    """How many of the available messages one short poll returns under the aws profile (0 to min(available, limit))."""
    return current.draw("sqs_short_poll", queue).randint(0, min(available, limit))
