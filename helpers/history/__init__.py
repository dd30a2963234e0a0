"""Inference history (chapter 8.4): load records from DynamoDB into pandas, seed a demo history,
find latency regressions and error bursts, and export (reconciling with CloudWatch is in
helpers.reconciliation).

The loaded frame has one column per record attribute:

- ``timestamp``: tz-aware UTC datetimes; rows are sorted by it.
- numbers: ``float64`` for measurements (``prediction``, ``latencyMs``, ``modelLatencyMs``), pandas'
  nullable ``Int64`` for integers (``inputBytes``, ``predictedLabel``, ``expiresAt``), so a missing
  attribute is NaN / <NA> and the column keeps its type. Never ``Decimal``.
- flags: nullable ``boolean``. Text: pandas ``str``. ``status``, ``variantName``, ``modelVersion``
  and ``eventSource`` are categoricals.
- ``features`` (a list of numbers) is spread into float64 columns ``f0``, ``f1``, ``f2``, ``f3``
  (more if a record carries more; NaN where a record has fewer or none): numeric columns are what
  pandas analyses fast (drift per feature), and the model takes four features. A list element
  that is not a number becomes NaN.
- attributes outside the schema (hand-written items, older handlers) are kept, typed from what
  they hold.

Shaped like awswrangler's ``wr.dynamodb``: this module is the public API; its private modules do
the work: ``_arrow`` (DynamoDB JSON -> Arrow -> typed frame), ``_load`` (Query in time slices, Scan
in segments, paging), ``_seed`` (the demo history, written by helpers.dynamodb.batch_write),
``_analysis`` (regressions, bursts, summary) and ``_export`` (CSV, Parquet).
"""

from helpers.history._analysis import error_bursts, latency_regressions, summary
from helpers.history._export import to_csv, to_parquet
from helpers.history._load import as_utc, load
from helpers.history._seed import seed

# What the notebooks and the other helpers call; the parts the tests and benchmarks measure are in the modules.
__all__ = [
    "as_utc",
    "error_bursts",
    "latency_regressions",
    "load",
    "seed",
    "summary",
    "to_csv",
    "to_parquet",
]
