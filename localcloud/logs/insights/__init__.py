"""CloudWatch Logs Insights: StartQuery runs the query over the stored log events, as AWS documents it.

moto 5.2.5 reads only `fields`, `sort` and `limit` (ignoring `filter`, `stats` and `parse`).
This package is an engine for the subset of the query language a workshop uses; see "CloudWatch
Logs Insights language query syntax", "Supported logs and discovered fields" and "Sample queries"
(CloudWatch Logs User Guide). GetQueryResults answers rows of {field, value} and the query's
statistics; a query that does not parse is refused by StartQuery with MalformedQueryException
(HTTP 400).

Where things are: `lexer` (tokens), `values` (what values mean: numbers, text, comparisons, times),
`parser` (commands and expressions), `functions` (scalar functions and stats aggregates),
`discovery` (the fields of an event), `evaluator` (running a parsed query), `errors`
(QuerySyntaxError). None of them imports moto; `hooks` is the moto glue (moto's
`moto.logs.models.execute_query` and `LogQuery.to_result_json`), installed by the local cloud.

Emulated: commands fields, display, filter, stats ... by, sort, limit, parse (glob and regex
with named groups); `#` comments; the system fields @timestamp, @message, @logStream, @log,
@ingestionTime, @ptr; JSON fields (nested as a.b, arrays as a.0.b; the first JSON fragment of a
line, as for Lambda logs); Lambda START/END/REPORT fields (@type, @requestId, @duration,
@billedDuration, @memorySize, @maxMemoryUsed in bytes, @initDuration).

Fidelity notes:
- Queries complete at once (status Complete on the first GetQueryResults), over the events
  searchable so far (localcloud.logs.ingestion: under the aws profile, after the ingestion delay).
- Without `sort`, event rows come newest first and stats groups in the order their newest event
  was met; `sort` without asc/desc sorts descending (the documentation names no default).
- Comparisons with a missing field are false; numbers (and numeric strings) compare numerically.
- count_distinct is exact; pct is nearest-rank (the rule of CloudWatch's metric percentiles,
  localcloud.cloudwatch.statistics.nearest_rank); stddev is the sample standard deviation.
- Not emulated: dedup, unnest, pattern, diff, anomaly, lookup, join, SOURCE, filterIndex,
  datetime functions other than bin, IP functions, jsonParse, parse's logfmt/CSV/multi modes,
  VPC flow log and Route 53 field discovery.
"""

from localcloud.logs.insights.discovery import discover, event_record, flatten
from localcloud.logs.insights.errors import QuerySyntaxError
from localcloud.logs.insights.evaluator import Results, natural_key, query_results, run, sort_rows
from localcloud.logs.insights.functions import AGGREGATE_FUNCTIONS, AGGREGATES, SCALAR_FUNCTIONS
from localcloud.logs.insights.lexer import Token, tokenize
from localcloud.logs.insights.parser import DEFAULT_LIMIT, MAX_LIMIT, Command, Query, parse_query
from localcloud.logs.insights.values import Record, Stamp, compare, format_time, to_number, to_text

__all__ = [
    "AGGREGATES",
    "AGGREGATE_FUNCTIONS",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SCALAR_FUNCTIONS",
    "Command",
    "Query",
    "QuerySyntaxError",
    "Record",
    "Results",
    "Stamp",
    "Token",
    "compare",
    "discover",
    "event_record",
    "flatten",
    "format_time",
    "natural_key",
    "parse_query",
    "query_results",
    "run",
    "sort_rows",
    "to_number",
    "to_text",
    "tokenize",
]
