# %% [markdown]
# # 8.2 · A Lambda that records every inference, without losing one
#
# The chapter-7 function answered predictions and forgot them. Here we deploy the chapter-8
# handler: it validates the request, asks the endpoint, writes **exactly one** record per request
# to the metadata table, and prints one JSON log line that 8.3's metric filters will count.
# If DynamoDB is unavailable the caller still gets its prediction and the record is kept in the
# logs, to be replayed later.
#
# **You will learn** what chapter 8 adds to chapter 7's handler, how a conditional `PutItem` makes a
# retried request leave exactly one record, how to deploy new code and configuration to a running
# function (and why each update must finish before the next), and how logs keep what a failed write
# would have lost.
#
# **How long:** about 20 minutes. The cells run in about half a minute on the local cloud and about a
# minute on AWS.
#
# **Contents:** [Before you start](#Before-you-start) ·
# [1 · Read the handler](#Step-1-·-Read-the-handler) · [2 · Deploy it](#Step-2-·-Deploy-it) ·
# [3 · Send sample traffic](#Step-3-·-Send-sample-traffic) ·
# [4 · Read the records back](#Step-4-·-Read-the-records-back) ·
# [5 · When DynamoDB is down, nothing is lost](#Step-5-·-When-DynamoDB-is-down,-nothing-is-lost) ·
# [Recap](#Recap)

# %% [markdown]
# ## Before you start
#
# `00_setup` and `8.1` must have run: the endpoint, the function and the metadata table exist.
# `prerequisites.require` checks that first and, when something is missing, names the notebook to run.

# %%
import importlib.util
import inspect
import json

import boto3
import pandas as pd

from helpers import apigateway, awslambda, dynamodb, prerequisites, session, show, specs, traffic

info = session.prepare()
settings = session.settings()
names = settings.names
prerequisites.require("8.2")  # "Run 8.1 first: ..." when the metadata table is missing
table = boto3.client("dynamodb").describe_table(TableName=names.metadata_table)["Table"]
function = boto3.client("lambda").get_function_configuration(FunctionName=names.function)
print(
    f"table {table['TableName']} is {table['TableStatus']}; "
    f"function {function['FunctionName']} runs {function['Handler']}"
)

# %% [markdown]
# ## Step 1 · Read the handler
#
# The whole handler is `lambda/app.py` (standard library plus boto3). Its heart is below: one
# conditional `PutItem` keyed by the request id, so a retried event never makes a second record.
# `attribute_not_exists(requestId)` makes the write fail instead of overwrite when the record exists.

# %%
spec = importlib.util.spec_from_file_location("app", awslambda.ROOT / "lambda" / "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
print(inspect.getsource(app.put_record))
print(inspect.getsource(app._write_failed))

# %% [markdown]
# ## Step 2 · Deploy it
#
# Same function, new code and configuration. The helper builds a byte-for-byte reproducible zip
# (so an unchanged handler is not redeployed), updates the code, **waits** until Lambda reports the
# update finished (a second update during `InProgress` fails with `ResourceConflictException`),
# then updates the configuration and waits again. It prints what changed.
#
# First the chapter-7 code is kept: `PublishVersion` freezes the code the function runs now as a numbered
# **version**, and `CreateAlias` names it `chapter7`. To go back to it later, point chapter 7's API at the
# alias (its integration URI ends in `:chapter7/invocations`, and `AddPermission` needs the alias's ARN), or
# put its code back: `aws lambda get-function --function-name <function> --qualifier chapter7` gives the
# code's download link for `update-function-code`.

# %%
handler_function_spec = specs.handler_function(
    names, function["Role"], settings.model_version, settings.record_ttl_days
)  # helpers/specs.py
print(json.dumps(handler_function_spec, indent=2))
package = awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"})
chapter7 = awslambda.keep_version(
    names.function, "chapter7", "chapter 7's code", replacing_with=awslambda.code_sha256(package)
)
deployed = awslambda.ensure_function(handler_function_spec, package)
print("CodeSha256:", deployed["CodeSha256"])

# %% [markdown]
# ## Step 3 · Send sample traffic
#
# Every request goes through chapter 7's API, as a client's would: a `POST` to the invoke URL. API
# Gateway gives each request its id, hands it to the function in the proxy event
# (`requestContext.requestId`) and returns it in the `x-amzn-RequestId` header: the record is keyed on it.
#
# Three kinds of request: valid ones (200 and a prediction), invalid ones (400 with a message that
# names the problem: never a 500), and one where the model fails (502). To make the model fail on
# purpose we use fault injection, the way AWS Fault Injection Service does for Lambda: an
# environment variable tells the handler to fail that share of model calls.

# %%
url = apigateway.endpoint_url()  # chapter 7's invoke URL (00_setup printed it)
print("POST", url)


def call(body: str, request_id: str | None = None) -> dict:
    """POST one request to the API: its HTTP status, API Gateway's request id and the answer's body."""
    reply = traffic.post(url, body, request_id=request_id)
    return {"statusCode": reply.status, **reply.body, "requestId": reply.request_id}


sent = {
    "valid-1": '{"features": [42.5, 14, 0.12, 900]}',
    "valid-2": '{"features": [1890.0, 3, 0.91, 12]}',
    "three-numbers": '{"features": [1, 2, 3]}',
    "a-string": '{"features": ["a", 2, 3, 4]}',
    "nan": '{"features": [NaN, 2, 3, 4]}',
    "not-json": '{"features": [1, 2',
}
answers = {label: call(body) for label, body in sent.items()}

traffic.set_fault_rate(1.0)  # every model call fails from now on ...
answers["model-fails"] = call('{"features": [42.5, 14, 0.12, 900]}')
traffic.set_fault_rate(0.0)  # ... and the model is healthy again
pd.DataFrame(answers).T[["statusCode", "requestId", "prediction", "error"]]

# %% [markdown]
# A client that retries a request sends it again with the id API Gateway gave it (API Gateway takes a
# client's `x-amzn-RequestId` when it is a UUID): the function sees the same request id, answers the same
# prediction and writes **no second record**:

# %%
retry = call(sent["valid-1"], request_id=answers["valid-1"]["requestId"])
print(
    retry["requestId"],
    retry["statusCode"],
    retry["prediction"] == answers["valid-1"]["prediction"],
)

# %% [markdown]
# ## Step 4 · Read the records back
#
# One `GetItem` per request id. Each request left exactly one record, with the status the caller saw.
# (The table shows a few of each record's attributes.)

# %%
ddb = boto3.client("dynamodb")
records = {
    label: dynamodb.plain(
        ddb.get_item(
            TableName=names.metadata_table,
            Key={"requestId": {"S": answer["requestId"]}},
            ConsistentRead=True,
        )["Item"]
    )
    for label, answer in answers.items()
}
columns = ["status", "prediction", "latencyMs", "modelLatencyMs", "errorMessage"]
pd.DataFrame(records).T.reindex(columns=columns)

# %%
expected_status = {200: "ok", 400: "client_error", 502: "model_error"}
for label, answer in answers.items():
    assert records[label]["status"] == expected_status[answer["statusCode"]], (
        label,
        records[label]["status"],
    )
retried = ddb.query(
    TableName=names.metadata_table,
    KeyConditionExpression="requestId = :id",
    ExpressionAttributeValues={":id": {"S": answers["valid-1"]["requestId"]}},
)
assert retried["Count"] == 1
print(
    f"✔ {len(answers)} requests, {len(records)} records, statuses as answered; "
    "the retried request has 1 record."
)

# %% [markdown]
# ## Step 5 · When DynamoDB is down, nothing is lost
#
# We point the function at another table, as if DynamoDB were unavailable. Its role may write only
# the metadata table (8.1's least-privilege policy), so every write is refused with
# `AccessDeniedException` — the answer a missing permission gets in AWS, too. The caller
# still gets a prediction; the handler logs the full record as one `metadata_write_failed` line.
# `backfill_from_logs` then finds those lines (a CloudWatch Logs filter pattern) and replays them
# with the same conditional write: running it twice restores nothing twice. CloudWatch Logs makes a
# line searchable only seconds after the function wrote it, so we tell the backfill which requests
# to `expect`: it waits (at most two minutes, showing progress) until it has found all of them.

# %%
outage_env = {
    **handler_function_spec["Environment"]["Variables"],
    "TABLE_NAME": f"{names.metadata_table}-unavailable",
}
awslambda.update_configuration(names.function, {"Environment": {"Variables": outage_env}})
outage_answers = [call('{"features": [42.5, 14, 0.12, 900]}') for _ in range(3)]
outage_ids = [answer["requestId"] for answer in outage_answers]
awslambda.update_configuration(names.function, handler_function_spec)  # DynamoDB is back
print(
    "answered during the outage:",
    ", ".join(f"{a['statusCode']} (prediction {a['prediction']:.4f})" for a in outage_answers),
)

# %%
summary = dynamodb.backfill_from_logs(
    names.function_log_group, names.metadata_table, expect=outage_ids
)  # prints what it did
restored = [
    ddb.get_item(TableName=names.metadata_table, Key={"requestId": {"S": rid}})["Item"]
    for rid in outage_ids
]
assert all(a["statusCode"] == 200 for a in outage_answers) and len(restored) == 3
again = dynamodb.backfill_from_logs(names.function_log_group, names.metadata_table)
assert again["restored"] == 0, again
print("✔ All three records restored from the logs; a second backfill restored nothing new.")

# %% [markdown]
# ## Recap
#
# The function now runs the chapter-8 handler with least-privilege access to one table (its chapter-7
# code stays as the alias `chapter7`). Every
# request (valid, invalid, failed) leaves one record; retries do not duplicate; an outage of the
# table loses nothing. Cost: one `PutItem` per request (on-demand: about `$1.25` per million).
#
# **In the AWS console:** Lambda → your function → *Monitor* → *View CloudWatch logs*; DynamoDB → Tables → *Explore items*.

# %%
print(
    session.console_url(f"lambda/home#/functions/{names.function}") or "Local mode has no console."
)
print(
    "From a terminal:",
    show.aws_cli("logs", "filter-log-events", "--log-group-name", names.function_log_group),
)
