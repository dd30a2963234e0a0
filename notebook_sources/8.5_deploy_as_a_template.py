# %% [markdown]
# # 8.5 · From notebook to production: the chapter as one CloudFormation template
#
# Everything 8.1-8.3 built by hand, cell by cell, as one infrastructure-as-code template: the two tables,
# the recording function and its role, the log group, the metric filters, the topic, the queue and its
# policy, the alarms and the dashboard. The template is generated from the very specs the notebooks
# used (`helpers/specs.py`), so the two cannot drift apart. We lint it, deploy it as a **stack** under a
# second prefix beside your own resources, send traffic through it, watch its alarm, and delete it:
# one call removes everything the stack made.
#
# **You will learn** how the chapter's resources look as a CloudFormation template, how to lint it with
# cfn-lint, how a change set shows what a deployment will do before it does it, and how deleting a
# stack removes everything it made.
#
# **How long:** about 15 minutes. The cells run in about a minute on the local cloud and in 3-6 minutes
# on AWS, where CloudFormation waits for the function and the tables to become ready.
#
# **Contents:** [Before you start](#Before-you-start) ·
# [1 · The template](#Step-1-·-The-template) ·
# [2 · Deploy it as a stack](#Step-2-·-Deploy-it-as-a-stack,-through-a-change-set) ·
# [3 · Traffic](#Step-3-·-Traffic-through-the-stack's-API) ·
# [4 · The alarm](#Step-4-·-The-stack's-alarm-fires-and-recovers) ·
# [5 · An update](#Step-5-·-An-update-changes-only-what-changed) ·
# [6 · Delete the stack](#Step-6-·-Delete-the-stack:-nothing-is-left) · [Recap](#Recap)

# %% tags=["parameters"]
import os

ALARM_PERIOD = int(os.environ.get("WORKSHOP_ALARM_PERIOD", "60"))

# %% [markdown]
# ## Before you start
#
# The whole chapter must have run: the stack builds on chapter 6's endpoint and its bucket, which hold
# the model and (from the next cell on) the handler's code.

# %%
import boto3
import pandas as pd
from cfnlint.api import ManualArgs, lint

from helpers import (
    apigateway,
    awslambda,
    cloudformation,
    cloudwatch,
    config,
    inventory,
    prerequisites,
    session,
    sqs,
    template,
    traffic,
)

info = session.prepare()
settings = session.settings()
names = settings.names
prerequisites.require("8.5")  # "Run 8.1 first: ..." when an earlier notebook is missing
second = config.second_prefix(settings.prefix)  # your prefix + "-iac"
stack = cloudformation.stack_name(second)
print(f"your prefix {settings.prefix}; the stack {stack} deploys the chapter again under {second}")

# %% [markdown]
# ## Step 1 · The template
#
# Plain CloudFormation (no SAM transform): each resource's properties are the parameters of the request
# a notebook made (`create_table`, `put_metric_filter`, `put_metric_alarm`, ...). Chapter 6's endpoint,
# the model and the code's S3 location come in as **parameters**; every name starts with the `Prefix`
# parameter. `python -m helpers template` prints the same text.

# %%
body = template.render()
resources = template.build()["Resources"]
print(body[: body.index("Resources:")])  # the header: description, parameters, condition
pd.DataFrame(
    [(logical, r["Type"]) for logical, r in resources.items()], columns=["logical id", "type"]
)

# %% [markdown]
# **cfn-lint** checks the template against CloudFormation's resource specifications (types, required
# properties, allowed values, references) before AWS sees it.

# %%
problems = lint(body, config=ManualArgs(regions=[settings.region]))
for problem in problems:
    print(problem)
assert not problems, f"{len(problems)} cfn-lint findings"
print(f"✔ cfn-lint: {len(resources)} resources, no errors or warnings")

# %% [markdown]
# ## Step 2 · Deploy it as a stack, through a change set
#
# A **change set** is CloudFormation's plan: what it would add, modify or remove, and whether a change
# replaces a resource. We upload the handler's zip to chapter 6's bucket, create the change set
# (`CreateChangeSet`), read it (`DescribeChangeSet`), then execute it (`ExecuteChangeSet`). The helper
# waits until the stack is `CREATE_COMPLETE`; a resource that fails rolls the whole stack back.

# %%
bucket = names.bucket(info["account"], settings.region)
code_key = cloudformation.upload_code(bucket, settings.tags())
parameters = cloudformation.parameters(settings, second, bucket, code_key, ALARM_PERIOD)
stack_tags = cloudformation.stack_tags(settings)  # the kit's tags, with your prefix
planned = cloudformation.plan(stack, body, parameters, stack_tags)
cloudformation.changes(planned)

# %%
deployed = cloudformation.execute(planned)
print(deployed["StackName"], deployed["StackStatus"])
cloudformation.events(stack).tail(12)

# %% [markdown]
# ## Step 3 · Traffic through the stack's API
#
# The stack has its own REST API in front of its function (chapter 7's `POST /predict`, stage `prod`);
# the function records every request in the stack's own table, exactly as 8.2's does.

# %%
outputs = cloudformation.outputs(deployed)
api_url = apigateway.invoke_url(outputs["ApiId"])
print("the stack's invoke URL:", api_url)
report = traffic.run(n=20, concurrency=4, url=api_url, seed=3)
print(report)
records = boto3.client("dynamodb").scan(TableName=outputs["MetadataTableName"], Select="COUNT")
assert records["Count"] >= report.sent, (records["Count"], report.sent)
print(f"✔ {report.sent} requests, {records['Count']} records in {outputs['MetadataTableName']}")

# %% [markdown]
# ## Step 4 · The stack's alarm fires and recovers
#
# A bad configuration change makes the stack's errors alarm go to `ALARM`: while we send traffic, the
# stack's function is pointed at an endpoint that does not exist, so every `InvokeEndpoint` fails (the
# API answers 502); then it calls yours again and healthy traffic brings the alarm back to `OK`. Both
# state changes arrive in the stack's SQS inbox through its SNS topic.

# %%
errors_alarm = f"{second}-inference-errors"
# The stack's function is pointed at an endpoint that does not exist while the traffic runs: every
# InvokeEndpoint fails, as a model that cannot be reached fails (your own endpoint is left alone).
with awslambda.environment(outputs["FunctionName"], ENDPOINT_NAME=f"{second}-missing-endpoint"):
    traffic.run(n=20, concurrency=4, url=api_url, seed=4)
fired = cloudwatch.wait_for_alarm(
    errors_alarm, "ALARM", timeout_s=4 * ALARM_PERIOD + cloudwatch.METRIC_LAG_S
)
with traffic.background(rate_per_s=2, url=api_url):
    recovered = cloudwatch.wait_for_alarm(
        errors_alarm, "OK", timeout_s=5 * ALARM_PERIOD + cloudwatch.METRIC_LAG_S
    )
for change in (fired, recovered):
    since = change.get("StateTransitionedTimestamp", change["StateUpdatedTimestamp"])
    [note] = sqs.receive_notifications(
        outputs["AlarmInboxUrl"],
        alarm=errors_alarm,
        state=change["StateValue"],
        since=since,
        timeout_s=60 + ALARM_PERIOD,
    )
    print(note["Subject"])
cloudwatch.history(errors_alarm, limit=4)

# %% [markdown]
# ## Step 5 · An update changes only what changed
#
# Raise one alarm's threshold in the template and ask CloudFormation for a change set: it plans to
# **modify** that one alarm, in place (no replacement), and nothing else. We read the plan and delete it
# without executing (`DeleteChangeSet`).

# %%
raised = template.build()
raised["Resources"]["LambdaErrorsAlarm"]["Properties"]["Threshold"] = 5
update = cloudformation.plan(stack, template.render(raised), parameters, stack_tags)
boto3.client("cloudformation").delete_change_set(ChangeSetName=update["ChangeSetId"])
cloudformation.changes(update)

# %% [markdown]
# ## Step 6 · Delete the stack: nothing is left
#
# `DeleteStack` deletes every resource the stack created, in dependency order. The stack's resources carry
# your prefix tag (they are yours, within your permissions) and the second prefix in their names: none is
# left in the inventory afterwards.

# %%
cloudformation.delete(stack)
left = inventory.named_under(second, inventory.collect())
assert not left, [(r.kind, r.name) for r in left]
print(f"✔ stack {stack} deleted; nothing of prefix {second} is left")

# %% [markdown]
# ## Recap
#
# The chapter is now code: `python -m helpers template > chapter8.yaml` gives a template that cfn-lint
# accepts and CloudFormation deploys, with chapter 6's endpoint as a parameter. A stack costs nothing
# itself; what it creates costs what the same resources cost in 8.1-8.3 (see the README's cost table).
#
# **In the AWS console:** CloudFormation → Stacks → `<prefix>-iac-chapter8` (*Events*, *Resources*,
# *Change sets*).

# %%
print(session.console_url("cloudformation/home#/stacks") or "Local mode has no console.")
