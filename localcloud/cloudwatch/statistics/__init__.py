"""CloudWatch statistics moto lacks: percentiles, exact-dimension queries and metric math.

What changes in moto 5.2.5 when ``hooks.install()`` runs:

- `GetMetricStatistics` answers `ExtendedStatistics` (p50, p99.9, ...) next to the plain
  statistics, and matches dimensions exactly (AWS: a metric is namespace + name + its exact
  set of dimensions; moto matched subsets and queries without dimensions saw everything).
- `GetMetricData` answers `MetricStat.Stat` percentiles (moto: HTTP 500), filters by namespace
  when dimensions are given (moto did not), and evaluates metric math expressions over query
  ids: `+ - * /`, parentheses, numbers, unary minus and `FILL(m, value)`. Time series are
  aligned by timestamp; a timestamp missing from one operand is missing from the result, and
  a division by zero drops that datapoint.
- Every backend call that reads or writes `metric_data` runs under `cloudwatch_lock`.
- Publication (aws profile): a datapoint, whoever puts it (PutMetricData, metric filters, the
  Lambda and SageMaker runtimes), is visible to GetMetricStatistics, GetMetricData, ListMetrics
  and alarm evaluation only `profile.delay("metric_publication", "<namespace>/<metric>")` after it
  was put; it keeps its own timestamp, so it lands in a past period, as in AWS. (AWS lists a new
  metric in ListMetrics up to 15 minutes late; here it appears with its first datapoint.)

Percentiles are computed only from individually published values (`Value`/`Values`), never
from statistic sets, by the nearest-rank method: the value at rank ceil(p/100 * n) of the
sorted samples. A period holding a statistic set has no percentile.

Periods: `GetMetricStatistics`/`GetMetricData` buckets start at StartTime rounded down to the
minute (to the period for high-resolution periods under 60 s) and step by Period.

The engine needs no moto: ``percentiles`` (names and the nearest rank), ``aggregation`` (a
metric's datapoints per period and their statistics), ``metric_math`` (GetMetricData's queries
and expressions as time series). ``hooks`` puts it into moto.
"""

from localcloud.cloudwatch.statistics.aggregation import (
    Bucket,
    Dimensions,
    MetricStore,
    bucket_origin,
    buckets,
    datapoints,
    dimension_key,
    naive_utc,
)
from localcloud.cloudwatch.statistics.metric_math import (
    ExpressionError,
    Series,
    combine,
    evaluate_expression,
    metric_series,
)
from localcloud.cloudwatch.statistics.percentiles import nearest_rank, percentile_of

__all__ = [
    "Bucket",
    "Dimensions",
    "ExpressionError",
    "MetricStore",
    "Series",
    "bucket_origin",
    "buckets",
    "combine",
    "datapoints",
    "dimension_key",
    "evaluate_expression",
    "metric_series",
    "naive_utc",
    "nearest_rank",
    "percentile_of",
]
