"""DynamoDB for the workshop: what the notebooks call, by job in the modules beside this one.

``tables`` (a table made or verified from a visible create_table spec), ``records`` (one record: a
conditional write, a consistent read, typed items as Python values), ``batches`` (BatchWriteItem with
its unprocessed items retried) and ``backfill`` (failed writes replayed from the function's logs).
The IAM wildcard check that 8.1 runs on the role's policies is helpers.iam's.
"""

from helpers.dynamodb.backfill import backfill_from_logs
from helpers.dynamodb.batches import BatchWriteError, batch_write
from helpers.dynamodb.records import plain
from helpers.dynamodb.tables import (
    TableMismatchError,
    ensure_continuous_backups,
    ensure_table,
    ensure_time_to_live,
)
from helpers.iam import wildcard_violations

__all__ = [
    "BatchWriteError",
    "TableMismatchError",
    "backfill_from_logs",
    "batch_write",
    "ensure_continuous_backups",
    "ensure_table",
    "ensure_time_to_live",
    "plain",
    "wildcard_violations",
]
