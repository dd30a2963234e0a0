"""Many items at once: BatchWriteItem in batches of 25 by a few threads, unprocessed items retried."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.dynamodb.records import RETRYABLE, Item
from helpers.waiters import backoff

BATCH_SIZE = 25  # BatchWriteItem's limit
WRITE_ATTEMPTS = 8


class BatchWriteError(RuntimeError):
    """Some items stayed unprocessed after every retry; they are on .unprocessed."""

    def __init__(self, message: str, unprocessed: list[Item]) -> None:
        super().__init__(message)
        self.unprocessed = unprocessed


def _write_batch(
    ddb: Any, table: str, items: list[Item], max_attempts: int, sleep: Callable[[float], None]
) -> tuple[int, int, list[Item]]:
    """One BatchWriteItem of up to 25 items, retried while items are unprocessed or the table throttles:
    (requests made, retries, items still unwritten)."""
    pending = [{"PutRequest": {"Item": item}} for item in items]
    requests = retries = 0
    for attempt in range(max_attempts):
        requests += 1
        try:
            answer = ddb.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
        except ClientError as exc:
            if errors.code(exc) not in RETRYABLE:
                raise
        if not pending:
            break
        if attempt + 1 < max_attempts:
            retries += 1
            sleep(backoff(attempt))
    return requests, retries, [request["PutRequest"]["Item"] for request in pending]


def batch_write(
    table: str,
    items: list[Item],
    client: Any = None,
    *,
    workers: int = 1,
    on_written: Callable[[int], object] | None = None,
    max_attempts: int = WRITE_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Write typed items in batches of 25 by `workers` threads, retrying UnprocessedItems with bounded
    backoff; return a summary (items, batches requested, retries).

    AWS's BatchWriteItem reference: "If DynamoDB returns any unprocessed items, you should retry the
    batch operation on those items. However, we strongly recommend that you use an exponential backoff
    algorithm."

    `on_written(count)` is called, in the caller's thread, after each batch (a progress bar's update).
    When a batch is still unprocessed after `max_attempts`, the batches not yet started are cancelled
    and BatchWriteError carries every item not written.
    """
    ddb = session.use_client(client, "dynamodb", pool=workers)
    batches = [items[start : start + BATCH_SIZE] for start in range(0, len(items), BATCH_SIZE)]
    summary = {"items": len(items), "batches": 0, "retries": 0}
    unwritten: list[Item] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {
            pool.submit(_write_batch, ddb, table, batch, max_attempts, sleep): batch for batch in batches
        }
        try:
            for future in as_completed(futures):
                if future.cancelled():
                    unwritten += futures[future]
                    continue
                requests, retries, left = future.result()
                summary["batches"] += requests
                summary["retries"] += retries
                if on_written is not None:
                    on_written(len(futures[future]) - len(left))
                if left:
                    unwritten += left
                    for other in futures:
                        other.cancel()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    if unwritten:
        raise BatchWriteError(
            f"{len(unwritten)} of {len(items)} items were not written to {table} after {max_attempts} "
            "attempts (throttled). Fix: wait a minute, then run batch_write again with error.unprocessed.",
            unwritten,
        )
    return summary
