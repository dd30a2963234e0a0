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
# function (and why each update must finish before the next), how a bad model version fails in the
# model container and is rolled out and back with `UpdateEndpoint`, and how logs keep what a failed
# write would have lost.
#
# **How long:** about 20 minutes. The cells run in about half a minute on the local cloud and 6 to 10
# minutes on AWS, most of it two endpoint updates (a bad model version rolled out and back).
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
import difflib
import inspect
import zipfile

import boto3
import pandas as pd

from helpers import (
    apigateway,
    awslambda,
    config,
    dynamodb,
    model,
    prerequisites,
    registry,
    s3,
    sagemaker,
    session,
    show,
    traffic,
)

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
# Chapter 7's handler (`lambda/chapter7/app.py`) read the features, asked the endpoint and returned the
# prediction. Chapter 8's (`lambda/app.py`, standard library plus boto3) keeps that and adds: timing,
# a record of every inference, a **conditional** `PutItem` keyed by the request id (so a retried event
# never makes a second record), one JSON log line per inference for 8.3's metric filters, and status
# codes that say whose fault a failure is (400 for bad input, 502 when the model fails). Below, every
# line chapter 8 adds (`+`) or drops (`-`), in reading order: the handler comes first in its file;
# the parts it calls (the event shapes it accepts, the checks on untrusted input, the model call, the
# record's layout) follow it, each a named function, and are printed after the diff.

# %%
chapter7 = (awslambda.ROOT / "lambda" / "chapter7" / "app.py").read_text().splitlines()
chapter8_file = (awslambda.ROOT / "lambda" / "app.py").read_text().splitlines()
chapter8 = chapter8_file[: chapter8_file.index(awslambda.HANDLER_END)]
for line in difflib.unified_diff(
    chapter7,
    chapter8,
    "chapter 7: lambda/chapter7/app.py",
    "chapter 8: lambda/app.py",
    n=2,
    lineterm="",
):
    print(line)

# %% [markdown]
# The parts the handler calls, in the order they follow it in `lambda/app.py`:

# %%
app = awslambda.load_handler()
parts = sorted(
    (f for f in vars(app).values() if inspect.isfunction(f) and f.__module__ == app.__name__),
    key=lambda f: f.__code__.co_firstlineno,
)
pd.DataFrame({"what it does": {f.__name__: inspect.getdoc(f).splitlines()[0] for f in parts[1:]}})

# %% [markdown]
# The heart of the record: one conditional `PutItem`. `attribute_not_exists(requestId)` makes the
# write fail instead of overwrite when the record exists; a failed write is retried briefly, and
# then the full record is logged as one `metadata_write_failed` line, so nothing is lost.

# %%
for part in (app.put_record, app._write_failed):
    print(inspect.getsource(part))

# %% [markdown]
# ## Step 2 · Deploy it
#
# Same function, new code and configuration: two requests, in this order. The code goes as a zip.
# The recipe makes it byte-for-byte reproducible (sorted names, a fixed date, fixed permissions), so
# an unchanged handler has the same `CodeSha256` and is not redeployed:
#
# First the chapter-7 code is kept: `PublishVersion` freezes the code the function runs now as a numbered
# **version**, and `CreateAlias` names it `chapter7`. To go back to it later, point chapter 7's API at the
# alias (its integration URI ends in `:chapter7/invocations`, and `AddPermission` needs the alias's ARN), or
# put its code back: `aws lambda get-function --function-name <function> --qualifier chapter7` gives the
# code's download link for `update-function-code`.

# %%
print(inspect.getsource(awslambda.build_zip))
package = awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "app.py"})
package_path = awslambda.save_package(package, "inference-handler.zip")  # for the CLI command below
with zipfile.ZipFile(package_path) as archive:
    print([(i.filename, i.file_size, i.date_time) for i in archive.infolist()])
print("CodeSha256:", awslambda.code_sha256(package))
chapter7 = awslambda.keep_version(
    names.function, "chapter7", "chapter 7's code", replacing_with=awslambda.code_sha256(package)
)

# %% [markdown]
# `UpdateFunctionCode` first. Lambda applies an update in the background (`LastUpdateStatus`
# `InProgress`) and refuses a second update meanwhile (`ResourceConflictException`), so the helper
# **waits** until the update is `Successful` before anything else; then `UpdateFunctionConfiguration`
# (handler, runtime, timeout, memory, and the environment the handler reads), and it waits again.
# Each helper sends its request only when the function differs from it.

# %%
update_code_spec = {  # UpdateFunctionCode
    "FunctionName": names.function,
    "ZipFile": package,
}
update_configuration_spec = {  # UpdateFunctionConfiguration
    "FunctionName": names.function,
    "Handler": "app.lambda_handler",
    "Runtime": "python3.13",
    "Timeout": 30,
    "MemorySize": 256,
    "Environment": {
        "Variables": {
            "TABLE_NAME": names.metadata_table,
            "ENDPOINT_NAME": names.endpoint,
            "MODEL_NAME": names.model,
            "MODEL_VERSION": settings.model_version,
            "FEATURE_COUNT": "4",
            "RECORD_TTL_DAYS": str(settings.record_ttl_days),
        }
    },
}
awslambda.update_code(update_code_spec)  # waits until LastUpdateStatus is Successful
deployed = awslambda.update_configuration(update_configuration_spec)  # waits again
print(f"CodeSha256 {deployed['CodeSha256']} · {deployed['Handler']} · {deployed['Runtime']}\n")
show.cli_inputs(
    [("lambda", "UpdateFunctionCode", update_code_spec)], files={"ZipFile": package_path}
)
print(
    show.aws_cli("lambda", "wait", "function-updated-v2", "--function-name", names.function), "\n"
)
show.cli_inputs([("lambda", "UpdateFunctionConfiguration", update_configuration_spec)], title=False)

# %% [markdown]
# ## Step 3 · Send sample traffic
#
# Every request goes through chapter 7's API, as a client's would: a `POST` to the invoke URL. API
# Gateway gives each request its id, hands it to the function in the proxy event
# (`requestContext.requestId`) and returns it in the `x-amzn-RequestId` header: the record is keyed on it.
#
# Three kinds of request: valid ones (200 and a prediction), invalid ones (400 with a message that
# names the problem: never a 500), and, further down, one where the model itself fails (502).

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
pd.DataFrame(answers).T[["statusCode", "requestId", "prediction", "error"]]

# %% [markdown]
# ### When the model itself fails: a bad deploy
#
# A data scientist retrains the model **without the account's age** (three features) and it is deployed
# as version 2. The handler still sends four numbers, so SageMaker's XGBoost container refuses every
# row: more columns than the model knows is a `400` from XGBoost, which `InvokeEndpoint` reports as
# `ModelError`, and the handler answers `502` with a `model_error` record. (Had the new model *more*
# features than the handler sends, XGBoost would answer `200` with wrong predictions, without a word:
# that failure only the records in 8.4 can show.)
#
# A new version goes out as SageMaker allows for a serverless endpoint: a new **model**, a new
# **endpoint configuration** (a serverless endpoint has exactly one production variant, so the version
# changes all at once) and `UpdateEndpoint`. The old configuration serves until the update is done; the
# helper waits (minutes in AWS). Version 2 is registered in the model registry, like version 1 in 8.1.

# %%
sm = boto3.client("sagemaker")
v2 = names.version(config.BAD_VERSION)  # "2-bad": never the name of a real version 2
# What serves now is the roll-back target (unless a run stopped while version 2 was out).
v1_config_name = sagemaker.rollback_target(
    names.endpoint, v2.endpoint_config, names.endpoint_config
)
v1_variant = sm.describe_endpoint_config(EndpointConfigName=v1_config_name)["ProductionVariants"][0]
v1_model = sm.describe_model(ModelName=v1_variant["ModelName"])
v2_trained = model.train(features=model.FEATURES_V2)
bucket = names.bucket(info["account"], settings.region)  # 00_setup's artifact bucket
v2_url = s3.put_if_changed(bucket, v2.model_key, v2_trained.artifact, settings.tags())
print("version 2 features:", ", ".join(v2_trained.features), "->", v2_url)

v2_model_spec = {
    "ModelName": v2.model,
    # 00_setup's SageMaker role: it may read the kit's bucket, where version 2 is
    "ExecutionRoleArn": session.arn("iam", f"role/{names.sagemaker_role}", region=""),
    "PrimaryContainer": {"Image": v1_model["PrimaryContainer"]["Image"], "ModelDataUrl": v2_url},
    "Tags": settings.tag_list(),
}
v2_config_spec = {
    "EndpointConfigName": v2.endpoint_config,
    "ProductionVariants": [
        {
            "VariantName": v1_variant["VariantName"],  # the same variant name, a new model
            "ModelName": v2.model,
            "ServerlessConfig": v1_variant["ServerlessConfig"],
        }
    ],
    "Tags": settings.tag_list(),
}
sagemaker.ensure_model(v2_model_spec)
sagemaker.ensure_endpoint_config(v2_config_spec)
registry_table = boto3.resource("dynamodb").Table(names.registry_table)
registry_table.put_item(
    Item=registry.deployment_entry(names.endpoint, v2.model_version, v2.endpoint_config)
)
print(f"registered {v2.model} (version {v2.model_version}) in {names.registry_table}")

# %% [markdown]
# Roll it out (`UpdateEndpoint`), send one request, and roll back to the configuration that served before.

# %%
sagemaker.deploy(names.endpoint, v2.endpoint_config)  # UpdateEndpoint, then wait until InService
answers["model-fails"] = call('{"features": [42.5, 14, 0.12, 900]}')
sagemaker.deploy(names.endpoint, v1_config_name)  # the roll-back: UpdateEndpoint to version 1
registry_table.put_item(
    Item=registry.deployment_entry(
        names.endpoint, v2.model_version, v2.endpoint_config, status="rolled_back"
    )
)
print(answers["model-fails"]["error"])

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
columns = ["status", "prediction", "latencyMs", "modelLatencyMs", "errorType"]
numbers = {"prediction": float, "latencyMs": float, "modelLatencyMs": float}
with pd.option_context("display.precision", 3):
    display(pd.DataFrame(records).T.reindex(columns=columns).astype(numbers))

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
outage_spec = {  # UpdateFunctionConfiguration
    "FunctionName": names.function,
    "Environment": {
        "Variables": {
            **update_configuration_spec["Environment"]["Variables"],
            "TABLE_NAME": f"{names.metadata_table}-unavailable",
        }
    },
}
awslambda.update_configuration(outage_spec)
outage_answers = [call('{"features": [42.5, 14, 0.12, 900]}') for _ in range(3)]
outage_ids = [answer["requestId"] for answer in outage_answers]
awslambda.update_configuration(update_configuration_spec)  # DynamoDB is back
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
# table loses nothing. A bad model version (`<prefix>-classifier-v2-bad`, registered as `rolled_back`) was
# rolled out and back; its model and endpoint configuration stay for 8.3, which breaks the model again. Cost: one `PutItem` per request (on-demand: about `$1.25` per million).
#
# **In the AWS console:** Lambda → your function → *Monitor* → *View CloudWatch logs*; DynamoDB → Tables → *Explore items*.

# %% [markdown]
# The requests this notebook's deployment made, in order (Step 2 printed their AWS CLI commands):

# %%
print(
    session.console_url(f"lambda/home#/functions/{names.function}") or "Local mode has no console."
)
requests_made = [
    ("lambda", "UpdateFunctionCode", update_code_spec),
    ("lambda", "UpdateFunctionConfiguration", update_configuration_spec),
]
print(" → ".join(operation for _, operation, _ in requests_made))
print(
    "Its logs from a terminal:",
    show.aws_cli("logs", "filter-log-events", "--log-group-name", names.function_log_group),
)
