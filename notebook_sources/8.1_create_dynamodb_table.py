# %% [markdown]
# # 8.1 · Tables for inference metadata and the model registry
#
# Every prediction the pipeline makes should leave a record: what came in, what the model said,
# when, how fast, which model version and endpoint answered. This notebook creates the two
# DynamoDB tables that hold that history, and gives the Lambda's role permission to write
# **one** of them and nothing more.
#
# **You will learn** how to design a DynamoDB table for an append-only history (partition key, a
# global secondary index for time ranges, on-demand billing, TTL, point-in-time recovery), how to keep
# a model registry beside it, and how to grant a Lambda function write access to one table only.
#
# **How long:** about 15 minutes. The cells run in under half a minute on the local cloud and in about
# 2 minutes on AWS, where a new table takes seconds to become active and refuses point-in-time
# recovery for up to a minute.
#
# **Contents:** [Before you start](#Before-you-start) ·
# [1 · The inference metadata table](#Step-1-·-The-inference-metadata-table) ·
# [2 · The model registry table](#Step-2-·-The-model-registry-table) ·
# [3 · Least privilege for the Lambda](#Step-3-·-Least-privilege-for-the-Lambda) ·
# [Check](#Check-·-Write-a-sample-record-and-read-it-back) · [Recap](#Recap)

# %% [markdown]
# ## Before you start
#
# The chapter 6-7 pipeline must exist (`00_setup`). `prerequisites.require` checks it first and, when
# something is missing, stops with one line naming the notebook to run; then we look at the endpoint.

# %%
import json

import boto3
import pandas as pd

from helpers import dynamodb, iam, prerequisites, registry, session, show

info = session.prepare()
settings = session.settings()
names = settings.names
prerequisites.require("8.1")  # "Run 00_setup first: ..." when the chapter 6-7 pipeline is missing
status = boto3.client("sagemaker").describe_endpoint(EndpointName=names.endpoint)["EndpointStatus"]
print(f"prefix {settings.prefix}, endpoint {names.endpoint}: {status}")

# %% [markdown]
# ## Step 1 · The inference metadata table
#
# Each choice below, in two sentences:
#
# - **Partition key `requestId`.** Every inference has a unique id, so writes spread evenly over
#   partitions and a retried request finds its record with one `GetItem`. The handler writes with
#   `attribute_not_exists(requestId)`, so a retry never makes a second record.
# - **Global secondary index (`endpointName`, `timestamp`).** History questions are "what did
#   endpoint X do between t1 and t2", which this index answers with a `Query` instead of a full
#   `Scan`. All attributes are projected so the query needs no second read.
# - **On-demand billing.** Workshop traffic is spiky and small; you pay per request and nothing when idle.
#   For steady high traffic, provisioned capacity with auto scaling is cheaper.
# - **TTL on `expiresAt`.** Records older than the retention (default 30 days,
#   `WORKSHOP_RECORD_TTL_DAYS`) are deleted by DynamoDB for free. TTL deletes in the background,
#   possibly days late, so queries that need exactness filter on `expiresAt` too.
# - **Point-in-time recovery.** A bad script can delete history; PITR restores the table to any second
#   of the last 35 days.
# - **Hot partitions.** One partition key value takes about 1,000 writes per second. The index key
#   `endpointName` is the same for every record of an endpoint: past roughly 1,000 inferences per second
#   per endpoint, shard it (e.g. `endpointName#0..9`) and query the shards in parallel.

# %% [markdown]
# Every resource the kit creates carries these tags: they say it belongs to the workshop and to you,
# so cleanup finds exactly what you made.

# %%
tags = settings.tag_list()
pd.DataFrame(tags)

# %% [markdown]
# Three requests, each exactly the parameters of one API call: `CreateTable` makes the table (key,
# index, billing, tags); TTL and point-in-time recovery are not `CreateTable` parameters but
# settings of an existing table, each with its own call: `UpdateTimeToLive` and
# `UpdateContinuousBackups`. The helper sends each one only when the table is not already so, and
# waits until the new table is `ACTIVE` before the updates. Below the cell: the AWS operations it made.

# %%
metadata_table_spec = {  # CreateTable
    "TableName": names.metadata_table,
    "AttributeDefinitions": [
        {"AttributeName": "requestId", "AttributeType": "S"},
        {"AttributeName": "endpointName", "AttributeType": "S"},
        {"AttributeName": "timestamp", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "requestId", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "endpointName-timestamp-index",
            "KeySchema": [
                {"AttributeName": "endpointName", "KeyType": "HASH"},
                {"AttributeName": "timestamp", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "Tags": tags,
}
metadata_ttl_spec = {  # UpdateTimeToLive
    "TableName": names.metadata_table,
    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
}
metadata_pitr_spec = {  # UpdateContinuousBackups
    "TableName": names.metadata_table,
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
}
metadata_table = dynamodb.ensure_table(metadata_table_spec)  # returns describe_table's description
dynamodb.ensure_time_to_live(metadata_ttl_spec)
dynamodb.ensure_continuous_backups(metadata_pitr_spec)
print(show.table_line(metadata_table))
print(metadata_table["TableArn"], end="\n\n")
show.cli_inputs(
    [
        ("dynamodb", "CreateTable", metadata_table_spec),
        ("dynamodb", "UpdateTimeToLive", metadata_ttl_spec),
        ("dynamodb", "UpdateContinuousBackups", metadata_pitr_spec),
    ]
)

# %% [markdown]
# ## Step 2 · The model registry table
#
# Which model version is deployed where, from which artifact and image, with which validation
# metrics. Keyed by (`modelName`, `modelVersion`), so each version has one entry.

# %%
registry_table_spec = {  # CreateTable
    "TableName": names.registry_table,
    "AttributeDefinitions": [
        {"AttributeName": "modelName", "AttributeType": "S"},
        {"AttributeName": "modelVersion", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "modelName", "KeyType": "HASH"},
        {"AttributeName": "modelVersion", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "Tags": tags,
}
registry_pitr_spec = {  # UpdateContinuousBackups
    "TableName": names.registry_table,
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
}
registry_table = dynamodb.ensure_table(registry_table_spec)
dynamodb.ensure_continuous_backups(registry_pitr_spec)
print(show.table_line(registry_table), end="\n\n")
show.cli_inputs(
    [
        ("dynamodb", "CreateTable", registry_table_spec),
        ("dynamodb", "UpdateContinuousBackups", registry_pitr_spec),
    ]
)

# %% [markdown]
# The entry is read from what is actually running: endpoint → endpoint configuration → model →
# artifact and image, plus the training metrics `00_setup` stored beside the artifact. Note the
# `Decimal`s: boto3's resource layer refuses Python floats, on purpose, because a float like
# `0.1` is not exactly 0.1.

# %%
entry = registry.deployment_entry(names.endpoint, settings.model_version)
boto3.resource("dynamodb").Table(names.registry_table).put_item(Item=entry)
pd.Series(entry, dtype=object).to_frame("registry entry")

# %% [markdown]
# ## Step 3 · Least privilege for the Lambda
#
# The inference function may **put items into this one table** — not read it, not scan it, not
# touch any other table. Beside it stays chapter 7's permission to invoke this one endpoint.

# %%
write_records_policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "WriteInferenceRecords",
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": metadata_table["TableArn"],
        }
    ],
}
write_records_spec = {  # PutRolePolicy: the document travels as JSON text
    "RoleName": names.role,
    "PolicyName": "write-inference-records",
    "PolicyDocument": json.dumps(write_records_policy),
}
iam.put_inline_policy(write_records_spec)
show.cli_inputs([("iam", "PutRolePolicy", write_records_spec)])

# %% [markdown]
# Everything the role may now do: its inline policies (chapter 7's `invoke-endpoint`, and the one
# just put) and the AWS managed policy attached in `00_setup`, **AWSLambdaBasicExecutionRole**, which
# lets the function create its log streams and write its logs (`logs:CreateLogGroup`,
# `logs:CreateLogStream`, `logs:PutLogEvents`) and nothing else.

# %%
iam_client = boto3.client("iam")
role_policies = {
    name: iam_client.get_role_policy(RoleName=names.role, PolicyName=name)["PolicyDocument"]
    for name in iam_client.list_role_policies(RoleName=names.role)["PolicyNames"]
}
attached = iam_client.list_attached_role_policies(RoleName=names.role)["AttachedPolicies"]
problems = [p for doc in role_policies.values() for p in dynamodb.wildcard_violations(doc)]
print("inline:", json.dumps(role_policies, indent=2))
print("managed:", ", ".join(f"{p['PolicyName']} ({p['PolicyArn']})" for p in attached))
assert any(p["PolicyArn"] == iam.BASIC_EXECUTION for p in attached), attached
assert not problems, problems
print("✔ No inline statement grants a wildcard action or resource.")

# %% [markdown]
# ## Check · Write a sample record and read it back
#
# This is the shape of the item the 8.2 handler writes for every inference. We write it with the
# low-level client, where every value says its type (`S` string, `N` number as text, `BOOL`, `L` list),
# read it back with a strongly consistent `GetItem`, and remove it so the history stays real.

# %%
sample = {
    "requestId": {"S": f"sample-{settings.prefix}-8-1"},
    "timestamp": {"S": "2026-11-27T12:00:00.123Z"},  # ISO-8601 UTC with milliseconds: sorts as text
    "endpointName": {"S": names.endpoint},
    "modelName": {"S": names.model},
    "modelVersion": {"S": settings.model_version},
    "variantName": {"S": "AllTraffic"},  # which production variant answered
    "input": {"S": '{"features": [42.5, 14, 0.12, 900]}'},  # the request as sent (up to 16 KB)
    "inputTruncated": {"BOOL": False},
    "inputSha256": {"S": "9b0f5f6f0c0e4f6b"},  # digest of the full input, for truncated ones
    "features": {"L": [{"N": "42.5"}, {"N": "14"}, {"N": "0.12"}, {"N": "900"}]},
    "prediction": {"N": "0.010582289658486843"},  # exactly as the model answered
    "predictedLabel": {"N": "0"},
    "latencyMs": {"N": "23.4"},  # whole handler
    "modelLatencyMs": {"N": "18.9"},  # the InvokeEndpoint call alone
    "status": {"S": "ok"},  # ok | client_error | model_error
    "eventSource": {"S": "direct"},
    "coldStart": {"BOOL": False},
    "expiresAt": {"N": "1798372800"},  # epoch seconds: TTL deletes the item after this
}
ddb = boto3.client("dynamodb")
ddb.put_item(TableName=names.metadata_table, Item=sample)
stored = ddb.get_item(
    TableName=names.metadata_table, Key={"requestId": sample["requestId"]}, ConsistentRead=True
)["Item"]
ddb.delete_item(TableName=names.metadata_table, Key={"requestId": sample["requestId"]})
assert stored == sample
print(f"✔ sample record written and read back from {names.metadata_table}")
pd.DataFrame(
    {"type": {k: next(iter(v)) for k, v in stored.items()}, "value": dynamodb.plain(stored)}
)

# %% [markdown]
# ## Recap
#
# Now exists: `<prefix>-inference-metadata` (on-demand, GSI on endpoint and time, TTL, PITR) and
# `<prefix>-model-registry` with one entry, plus an inline policy letting the Lambda role put items
# into the metadata table only. Idle on-demand tables cost nothing but storage (cents per GB-month).
#
# **In the AWS console:** DynamoDB → Tables → your prefix → *Explore table items*; IAM → Roles → `<prefix>-inference-lambda-role`.

# %% [markdown]
# The requests this notebook made, in order (each step printed its AWS CLI command: the
# `--cli-input-json` is the spec, as sent):

# %%
print(
    session.console_url(f"dynamodbv2/home#table?name={names.metadata_table}")
    or "Local mode has no console."
)
requests_made = [
    ("dynamodb", "CreateTable", metadata_table_spec),
    ("dynamodb", "UpdateTimeToLive", metadata_ttl_spec),
    ("dynamodb", "UpdateContinuousBackups", metadata_pitr_spec),
    ("dynamodb", "CreateTable", registry_table_spec),
    ("dynamodb", "UpdateContinuousBackups", registry_pitr_spec),
    ("iam", "PutRolePolicy", write_records_spec),
]
print(" → ".join(operation for _, operation, _ in requests_made))
