# %% [markdown]
# # 8.4 · What the history tells us
#
# Every inference now leaves a record. Records become useful when they answer questions about the
# model in production: how much traffic, how fast, how often it fails, whether its predictions
# drift. We load a week of history into pandas, chart it, let the data point at what went wrong,
# and check that DynamoDB and CloudWatch agree about the workshop's own traffic.
#
# **You will learn** how to load a time range of DynamoDB records into a typed pandas DataFrame
# (querying the index page by page), which charts tell traffic, latency, errors and drift apart, how
# to find latency regressions and error bursts in the records, how to check the records against
# CloudWatch's counts, and what a production pipeline still needs beyond this chapter.
#
# **How long:** about 20 minutes. The cells run in about a minute on the local cloud and in about
# 3 minutes on AWS, where CloudWatch publishes the counts the last step compares a minute or two late.
#
# **Contents:** [Before you start](#Before-you-start) ·
# [1 · A week of history](#Step-1-·-A-week-of-history-before-the-workshop) ·
# [2 · Load it into pandas](#Step-2-·-Load-it-into-pandas) · [3 · Charts](#Step-3-·-Charts) ·
# [4 · What went wrong](#Step-4-·-Let-the-data-say-what-went-wrong) ·
# [5 · Do DynamoDB and CloudWatch agree?](#Step-5-·-Do-DynamoDB-and-CloudWatch-agree?) ·
# [6 · Take it elsewhere](#Step-6-·-Take-it-elsewhere) · [Recap](#Recap) ·
# [What production still needs](#What-production-still-needs)

# %% tags=["parameters"]
SEED_DAYS = 7
SEED_PER_DAY = 1430  # about 10,000 records for the week

# %% [markdown]
# ## Before you start
#
# The metadata table from 8.1, the metric filters from 8.3, and some real traffic from 8.2 and 8.3.
# `prerequisites.require` checks those first and, when something is missing, names the notebook to run.

# %%
import boto3
import pandas as pd

from helpers import charts, history, prerequisites, reconciliation, session, show, traffic

info = session.prepare()
settings = session.settings()
names = settings.names
prerequisites.require("8.4")  # "Run 8.3 first: ..." when the metric filters are missing
metric_filters = boto3.client("logs").describe_metric_filters(
    logGroupName=names.function_log_group
)["metricFilters"]
deployed = pd.Timestamp(
    boto3.client("sagemaker").describe_endpoint(EndpointName=names.endpoint)["CreationTime"]
).tz_convert("UTC")
print(f"{names.metadata_table}: endpoint {names.endpoint}, deployed {deployed:%Y-%m-%d %H:%M} UTC")

# %% [markdown]
# Two independent witnesses count the workshop's own traffic: the records in DynamoDB, and the
# metrics in CloudWatch (`InferenceCount` from the handler's log lines, Lambda's own `Invocations`, and
# API Gateway's `Count` of the requests clients sent through chapter 7's API). Step 5 checks that they
# agree, with one known difference: a **retried** request
# makes a second invocation and log line but no second record, and the `DuplicateRequests` metric
# counts those. These are the `GetMetricData` queries it reads, as sums per minute:


# %%
def metric_query(
    query_id: str, namespace: str, metric: str, dimensions: list[dict] | None = None
) -> dict:
    """One GetMetricData query: the metric's Sum per minute."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": dimensions or [],
            },
            "Period": 60,
            "Stat": "Sum",
        },
    }


queries = [
    metric_query("inference_count", names.metric_namespace, "InferenceCount"),
    metric_query("duplicates", names.metric_namespace, "DuplicateRequests"),
    metric_query(
        "invocations",
        "AWS/Lambda",
        "Invocations",
        [{"Name": "FunctionName", "Value": names.function}],
    ),
    metric_query(  # every request clients sent through chapter 7's API, stage prod
        "api_requests",
        "AWS/ApiGateway",
        "Count",
        [{"Name": "ApiName", "Value": names.api}, {"Name": "Stage", "Value": "prod"}],
    ),
]

# %% [markdown]
# Production traffic does not stop while we analyse: 60 fresh requests start in the background now,
# and step 5 counts them twice, in DynamoDB and in CloudWatch. CloudWatch counts per minute, so the
# comparison starts at a whole minute: one after the metric filters were created (earlier requests
# have records but were never counted) and one that no request straddles (a record is stamped when its
# request starts, its log line when it ends). Usually that minute has just passed, so the requests
# start at once; otherwise they wait for the next one.

# %%
filters_created = pd.Timestamp(max(f["creationTime"] for f in metric_filters), unit="ms", tz="UTC")
window_start = reconciliation.window_start(
    names.metadata_table, names.endpoint, queries, since=filters_created
)
fresh_traffic = traffic.start_at(window_start, n=60, concurrency=4, bad_share=0.1, seed=4)
starts_in = max(0.0, (window_start - pd.Timestamp.now(tz="UTC")).total_seconds())
print(
    f"metric filters created at {filters_created:%H:%M:%S} UTC; "
    f"the window starts at {window_start:%H:%M} UTC; "
    f"60 fresh requests start in {starts_in:.0f} s"
)

# %% [markdown]
# ## Step 1 · A week of history before the workshop
#
# Your endpoint is minutes old, so we **seed** a realistic week before it was deployed, for the
# model that is really deployed: this endpoint, its variants, and the model name and version the
# registry (8.1) holds. The week has a daily traffic cycle, scores as this model gives them (about
# 5 % of requests scored positive, its validation set's positive rate), callers sending bad input now
# and then, and, somewhere, a latency regression and an incident with a burst of model errors. Its
# random draws are fixed (`random_state=42`), so re-running overwrites the same records. It writes
# with `BatchWriteItem`, up to 25 items per call, and sends again any `UnprocessedItems` DynamoDB
# hands back.

# %%
sm = boto3.client("sagemaker")
endpoint_description = sm.describe_endpoint(EndpointName=names.endpoint)
variants = tuple(
    (v["VariantName"], 1 / len(endpoint_description["ProductionVariants"]))
    for v in endpoint_description["ProductionVariants"]
)
# The model the endpoint serves (yours, if you brought your own endpoint), as 8.1 registered it.
served_config = sm.describe_endpoint_config(
    EndpointConfigName=endpoint_description["EndpointConfigName"]
)
served_model = served_config["ProductionVariants"][0]["ModelName"]
registered = (
    boto3.resource("dynamodb")
    .Table(names.registry_table)
    .get_item(Key={"modelName": served_model, "modelVersion": settings.model_version})
)
assert "Item" in registered, (
    f"{served_model} v{settings.model_version} is not in the registry: run 8.1"
)
seed_end = deployed.floor("h")  # the seeded week ends before the endpoint's real traffic begins
written = history.seed(
    names.metadata_table,
    names.endpoint,
    days=SEED_DAYS,
    per_day=SEED_PER_DAY,
    end=seed_end,
    model_name=served_model,
    model_version=settings.model_version,
    variants=variants,
)
print(
    f"{written:,} records of {served_model} v{settings.model_version} "
    f"({', '.join(name for name, _ in variants)}) written for "
    f"{seed_end - pd.Timedelta(days=SEED_DAYS):%b %d %H:%M} to {seed_end:%b %d %H:%M} UTC"
)

# %% [markdown]
# ## Step 2 · Load it into pandas
#
# `history.load` queries the (`endpointName`, `timestamp`) index for the time range, follows every
# page (`LastEvaluatedKey`), splits long ranges into slices fetched in parallel, and turns DynamoDB's
# typed JSON straight into typed columns: UTC timestamps, floats (not `Decimal`), categories.
# Records past their `expiresAt` are left out: TTL deletes them only eventually.

# %%
end = pd.Timestamp.now(tz="UTC")
start = seed_end - pd.Timedelta(days=SEED_DAYS)
df = history.load(names.metadata_table, names.endpoint, start, end)
print(
    f"{len(df):,} records "
    f"from {df['timestamp'].min():%b %d %H:%M} to {df['timestamp'].max():%b %d %H:%M} UTC"
)
show.dtypes(df)

# %%
show.history_summary(history.summary(df))

# %% [markdown]
# ## Step 3 · Charts
#
# **Requests per hour.** The daily cycle peaks in the afternoon (UTC). A gap or a cliff here is the
# first thing to explain before reading any other chart.

# %%
figure = charts.requests_per_interval(df, "1h")
charts.save(figure, "8.4_requests_per_hour")
figure

# %% [markdown]
# **Latency percentiles.** p50 is the typical request, p99 the unlucky one. A step up in all three
# that stays is a regression; spikes in p99 alone are usually cold starts.

# %%
figure = charts.latency_percentiles(df, "1h")
charts.save(figure, "8.4_latency_percentiles")
figure

# %% [markdown]
# **Error rate by status.** Client errors are the callers' problem (bad input); model errors are ours.
# A burst of model errors is an incident.

# %%
figure = charts.error_rate_by_status(df, "1h")
charts.save(figure, "8.4_error_rate")
figure

# %% [markdown]
# **Prediction scores.** Most requests score near 0 and about 5 % above 0.5, like the validation
# set. When a new model version is rolled out, this chart draws one distribution per version: if the
# new one scores the same kind of traffic systematically higher, that is drift (or a deliberate change).

# %%
figure = charts.prediction_distribution_by_version(df)
charts.save(figure, "8.4_prediction_drift")
figure

# %% [markdown]
# **Latency by variant.** One box per production variant and model version: with a canary variant
# beside the main one, this tells whether a problem belongs to one deployment. This endpoint has one.

# %%
figure = charts.latency_by_variant(df)
charts.save(figure, "8.4_latency_by_variant")
figure

# %% [markdown]
# ## Step 4 · Let the data say what went wrong
#
# Two small detectors, run on the records alone: a **latency regression** is p90 above 1.5× its
# recent baseline for at least three hours in a row; an **error burst** is a run of finished
# 10-minute windows whose rate of model and server errors stands far out from the overall rate.
# Client errors are left out: bad input is the callers' problem, not an incident of ours. Bursts
# since the endpoint was deployed are the failures this workshop caused on purpose; earlier ones,
# in the seeded week, are incidents to explain.

# %%
regressions = history.latency_regressions(df, "1h")
bursts = history.error_bursts(df, "10min", statuses=("model_error", "server_error"))
for r in regressions.itertuples():
    print(
        f"latency regression: model v{r.modelVersion} on {r.variantName} "
        f"from {r.period:%a %d %b %H:%M} UTC, "
        f"p90 {r.p90_ms:.0f} ms vs {r.baseline_ms:.0f} ms before ({r.ratio:.1f}x) for {r.periods} h"
    )
for b in bursts.itertuples():
    cause = (
        "the workshop's own failure demonstration (8.2, 8.3)"
        if b.start >= deployed
        else "an incident to explain"
    )
    print(
        f"model errors: {b.start:%a %d %b %H:%M}-{b.end:%H:%M} UTC, "
        f"{b.errors} of {b.requests} requests failed "
        f"({b.error_rate:.0%}, usually {b.baseline_rate:.1%}), mostly {b.top_error}: {cause}"
    )
incidents = bursts[bursts["start"] < deployed]
assert len(regressions) >= 1 and len(incidents) >= 1

# %% [markdown]
# ## Step 5 · Do DynamoDB and CloudWatch agree?
#
# The counts run from the minute chosen at the top to the first whole minute after the fresh
# traffic finished. Minute by minute they may differ (a request
# that crosses a minute is recorded in one and counted in the next); the **totals** must obey
#
# records = `InferenceCount` − `DuplicateRequests`, and `InferenceCount` = `Invocations` = the API's `Count`
# (every request a client sent through the API invoked the function once).
#
# In AWS, CloudWatch publishes a minute or two late: the helper looks again every 20 s, for up to 4 minutes.

# %%
print(fresh_traffic.result(timeout=180))  # waits for the background requests to finish
window_end = pd.Timestamp.now(tz="UTC").floor("min") + pd.Timedelta(minutes=1)
check = reconciliation.reconcile(
    names.metadata_table, names.endpoint, queries, window_start, window_end
)
check.table

# %%
totals = check.totals
print(
    f"{window_start:%H:%M}-{window_end:%H:%M} UTC: {totals['records']} records, "
    f"{totals['inference_count']} inference lines "
    f"({totals['duplicates']} retries), {totals['invocations']} invocations, "
    f"{totals['api_requests']} requests through the API"
)
print("\n".join(check.explanations))
assert check.agree, check.explanations
assert totals["api_requests"] == totals["invocations"] >= fresh_traffic.result().sent
print(
    "✔ DynamoDB, CloudWatch and API Gateway agree about the workshop's own traffic "
    f"({totals['records']} records, {totals['api_requests']} requests through the API)."
)

# %% [markdown]
# ### The model's own failures
#
# 8.2 and 8.3 rolled out a bad model version, and the model container refused every request it got.
# Three witnesses count those failures since the endpoint was created: the records whose status is
# `model_error`; SageMaker's own `Invocation4XXErrors` + `Invocation5XXErrors` for the endpoint (one per
# error answer of the container); and the container's error lines in `/aws/sagemaker/Endpoints/<endpoint>`,
# found with `FilterLogEvents` (pattern `ERROR`). They must be equal: every failure the client saw was the
# model's, and each left a line where 8.3 read it.

# %%
failures = reconciliation.reconcile_model_failures(
    names.metadata_table, names.endpoint, "AllTraffic", deployed, window_end
)
display(failures.table)
print("\n".join(failures.explanations))
assert failures.agree and failures.records > 0, failures.explanations
print(
    f"✔ {failures.records} model failures since {deployed:%H:%M} UTC: records, endpoint metrics and "
    "container log lines agree."
)

# %% [markdown]
# ## Step 6 · Take it elsewhere
#
# The typed frame exports as is: CSV for a spreadsheet, Parquet for a data lake or Athena (Parquet
# keeps the types: categories, UTC timestamps, nullable integers).

# %%
exports = charts.FIGURES.parent / "history"
print(show.short_path(history.to_csv(df, exports / "inference_history.csv")))
print(show.short_path(history.to_parquet(df, exports / "inference_history.parquet")))

# %% [markdown]
# ## Recap
#
# The history answers questions the live metrics cannot: when a regression started and which model
# and variant it belongs to, what the error burst looked like, whether predictions drifted between
# versions. CloudWatch keeps the pulse; DynamoDB keeps the memory, and the two agree.
#
# Figures are in `build/figures/`. **In the AWS console:** DynamoDB → Tables → *Explore items*
# (query the index by endpoint and time); CloudWatch → Metrics → `MLWorkshop/<prefix>`.

# %% [markdown]
# ## What production still needs
#
# The pipeline now records, measures and alarms. Before real clients depend on it, it still needs:
#
# - **Authentication on the API.** `/predict` answers anyone who knows its URL. API Gateway can require
#   signed requests (IAM authorization), a token from an Amazon Cognito user pool, or a Lambda
#   authorizer's approval; a resource policy can limit callers to an IP range or a VPC endpoint. API
#   keys with a usage plan meter and throttle clients, but they are not authentication.
# - **An on-failure destination.** When a function invoked *asynchronously* (an event, a scheduled
#   backfill) fails all its retries, Lambda can send a record of the event to an SQS queue, an SNS
#   topic, an S3 bucket, another function or an EventBridge bus, instead of dropping it
#   (`PutFunctionEventInvokeConfig`). The API invokes the function synchronously, so its callers see
#   their errors; every asynchronous path around it needs a destination, and an alarm on it.
# - **Tracing.** With AWS X-Ray active tracing on the API's stage and on the function, one trace shows
#   where a slow request spent its time across API Gateway and Lambda; instrumenting the handler (for
#   example with AWS Distro for OpenTelemetry) adds its calls to SageMaker and DynamoDB.
# - **Model quality monitoring.** SageMaker Model Monitor, and the data capture it reads, are not
#   available for serverless endpoints (AWS lists both among Serverless Inference's feature
#   exclusions), and AWS no longer opens Model Monitor to new customers. The DynamoDB history is the
#   raw material instead: every input and prediction with its model version, variant and time. Compare
#   the features' and scores' distributions with the training data's on a schedule (Step 3's drift
#   chart is the start), and join the true outcomes, when they arrive, by request id to measure accuracy.
# - **Infrastructure as code.** These notebooks build the pipeline step by step so that every request
#   is in sight. In production the same resources belong in one template (CloudFormation, the CDK, SAM
#   or Terraform), reviewed, versioned and deployed the same way to every account.
# - **Budgets.** An AWS Budgets budget alerts by e-mail or SNS when the month's cost, or its forecast,
#   passes a threshold; activating the kit's tags (`workshop-kit`, `workshop-prefix`) as cost allocation
#   tags shows what this pipeline costs on its own.
