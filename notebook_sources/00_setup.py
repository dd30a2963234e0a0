# %% [markdown]
# # 00 · Setup: the chapter 6-7 pipeline
#
# Chapter 8 builds on a working pipeline: a **SageMaker endpoint** serving a binary classifier, a
# **Lambda function** that calls it, and chapter 7's **REST API** (`POST /predict`, stage `prod`) in
# front of the function, which is where clients send their requests. This notebook creates whatever of
# that is missing, so every attendee starts chapter 8 from the same place. Running it twice changes nothing.
#
# It works in two clouds, chosen by one environment variable before you start Jupyter:
# `WORKSHOP_MODE=local` (the default: an offline cloud on your machine, no account, no cost) or
# `WORKSHOP_MODE=aws` (your AWS account). No cell below depends on the mode.
#
# ![The pipeline: a client calls API Gateway, which invokes the Lambda function; the function asks the SageMaker endpoint and records every inference in DynamoDB; CloudWatch turns the logs into metrics and alarms, which notify through SNS to an SQS queue](../docs/pipeline.png)
#
# This notebook builds the middle row (chapters 6 and 7); chapter 8 adds the rest: the tables (8.1),
# the recording handler (8.2), CloudWatch's logs, metrics, alarms and notifications (8.3) and the
# analysis of the stored history (8.4).
#
# **You will learn** how the chapter 6-7 pipeline fits together: a model artifact in S3, a SageMaker
# model, endpoint configuration and serverless endpoint, a Lambda function allowed to call that
# one endpoint, and chapter 7's REST API that clients call (a Lambda proxy integration).
#
# **How long:** about 15 minutes. The cells run in about 1 minute on the local cloud and 4 minutes
# on AWS, where the endpoint alone takes a few minutes to create.
#
# **Contents:** [Before you start](#Before-you-start) ·
# [1 · Train the model](#Step-1-·-Train-the-model) ·
# [2 · The artifact in S3](#Step-2-·-Put-the-artifact-in-S3) ·
# [3 · Model, endpoint configuration, endpoint](#Step-3-·-Model,-endpoint-configuration,-endpoint) ·
# [4 · The Lambda's role](#Step-4-·-The-Lambda's-role) ·
# [5 · The chapter-7 Lambda](#Step-5-·-The-chapter-7-Lambda) ·
# [6 · Chapter 7's REST API](#Step-6-·-Chapter-7's-REST-API-in-front-of-the-Lambda) ·
# [Check](#Check:-a-real-prediction-through-the-API) · [Recap](#Recap)

# %% [markdown]
# ## Before you start
#
# `prepare()` starts the local cloud if needed (or, in AWS mode, checks your credentials and region
# with STS) and prints who you are. Every resource name starts with your **prefix**.

# %%
import json

from helpers import awslambda, iam, model, s3, sagemaker, session, show, specs

info = session.prepare(show=True)
settings = session.settings()
names = settings.names

# %% [markdown]
# ## Step 1 · Train the model
#
# A small XGBoost classifier scores card transactions for fraud from four numbers: amount (USD),
# hour of day, merchant risk score, account age (days). The data is generated from a fixed seed,
# so everyone trains the very same model, byte for byte. Its validation metrics are kept for
# chapter 8.1's model registry.

# %%
trained = model.train()
print("features:", ", ".join(model.FEATURES))
print("validation metrics:", json.dumps(trained.metrics))
print("artifact sha256:", trained.sha256)

# %% [markdown]
# ## Step 2 · Put the artifact in S3
#
# SageMaker's built-in XGBoost container loads a `model.tar.gz` holding one file, `xgboost-model`.
# The bucket name carries the account and region because bucket names are global.

# %%
bucket = s3.ensure_bucket(names.bucket(info["account"], settings.region), settings.tags())
model_url = s3.put_if_changed(bucket, names.model_key, trained.artifact, settings.tags())
metrics_url = s3.put_if_changed(
    bucket,
    names.model_key.replace("model.tar.gz", "metrics.json"),
    json.dumps(trained.metrics, sort_keys=True).encode(),
    settings.tags(),
)
print(model_url)

# %% [markdown]
# ## Step 3 · Model, endpoint configuration, endpoint
#
# Three SageMaker resources: the **model** (container image + artifact + role), the **endpoint
# configuration** (how to host it: here *serverless*, so an idle endpoint costs nothing), and the
# **endpoint** itself. They are made with the **SageMaker Python SDK** (v3) as its documentation
# teaches: the image from `image_uris`, then the typed resources `Model`, `EndpointConfig` and
# `Endpoint` of `sagemaker.core.resources`. Creating a real endpoint takes a few minutes; the helper
# waits and shows progress.

# %% [markdown]
# SageMaker needs its own role, the model's **execution role**. SageMaker's documentation ("CreateModel API:
# Execution Role Permissions") lists what it needs: read the artifact from S3 (here `models/*` of this
# bucket only), write the container's logs (here only the endpoint's own log group,
# `/aws/sagemaker/Endpoints/<endpoint>`) and publish metrics (`cloudwatch:PutMetricData` has no resource
# to name, so `*`). Without the logs permissions the endpoint works but its log group stays empty, in
# both clouds: 8.3 reads it.

# %%
sagemaker_role_arn = iam.ensure_role(
    names.sagemaker_role,
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    },
    [],
    settings.tags(),
)
sagemaker_execution_policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadModelArtifacts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": session.arn("s3", f"{bucket}/models/*", region="", account=""),
        },
        {
            "Sid": "WriteTheEndpointsLogs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            "Resource": session.arn("logs", f"log-group:{names.endpoint_log_group}:*"),
        },
        {
            "Sid": "PublishMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
        },
    ],
}
_ = iam.put_inline_policy(
    {
        "RoleName": names.sagemaker_role,
        "PolicyName": "model-execution",
        "PolicyDocument": json.dumps(sagemaker_execution_policy),
    }
)

# %% [markdown]
# The SDK (a few seconds to import). `sdk` holds the two arguments every SDK call below takes: the
# boto3 session (in local mode it reaches the local cloud) and the region.
# `image_uris.retrieve` knows the built-in XGBoost image of every region (each region has its own
# registry account) without asking AWS.

# %%
from sagemaker.core import image_uris
from sagemaker.core.resources import Endpoint, EndpointConfig, Model
from sagemaker.core.shapes import (
    ContainerDefinition,
    ProductionVariant,
    ProductionVariantServerlessConfig,
    Tag,
)

sdk = (
    sagemaker.sdk()
)  # {"session": a boto3 session for the chosen cloud, "region": settings.region}
tags = [Tag(key=k, value=v) for k, v in settings.tags().items()]
image_uri = image_uris.retrieve("xgboost", region=settings.region, version="1.7-1")
print(image_uri)

# %% [markdown]
# The model: which container runs, which artifact it loads, which role reads it. `create_once` calls
# `Model.create` when the model does not exist yet (else keeps it), and retries while a new role
# is still reaching SageMaker.

# %%
sm_model = sagemaker.create_once(
    Model.create,
    model_name=names.model,
    primary_container=ContainerDefinition(image=image_uri, model_data_url=model_url),
    execution_role_arn=sagemaker_role_arn,
    tags=tags,
    **sdk,
)
print(sm_model.model_arn)

# %% [markdown]
# The endpoint configuration: one serverless variant with 2 GB of memory and at most 5 requests at
# once (the account's serverless concurrency quota is shared by all its endpoints in the region).

# %%
endpoint_config = sagemaker.create_once(
    EndpointConfig.create,
    endpoint_config_name=names.endpoint_config,
    production_variants=[
        ProductionVariant(
            variant_name="AllTraffic",
            model_name=names.model,
            serverless_config=ProductionVariantServerlessConfig(
                memory_size_in_mb=2048, max_concurrency=5
            ),
        )
    ],
    tags=tags,
    **sdk,
)
print(endpoint_config.endpoint_config_arn)

# %% [markdown]
# The endpoint. `ensure_endpoint` calls `Endpoint.create` when there is none (an existing one is kept,
# or pointed at this configuration; a `Failed` one is deleted and created again), then waits until it
# is `InService`.

# %%
endpoint = sagemaker.ensure_endpoint(
    Endpoint.create,
    endpoint_name=names.endpoint,
    endpoint_config_name=names.endpoint_config,
    tags=tags,
    **sdk,
    # An endpoint you already have from chapter 6 (WORKSHOP_ENDPOINT_NAME) is reused as it is.
    reuse_existing=bool(settings.endpoint_name),
)
print(endpoint.endpoint_arn, endpoint.endpoint_status)

# %% [markdown]
# Ask the endpoint directly with `Endpoint.invoke`: one CSV row per transaction, one probability per line back.

# %%
answer = endpoint.invoke(
    body="\n".join(",".join(str(x) for x in row) for row in model.SAMPLE_FEATURES),
    content_type="text/csv",
)
print("variant:", answer.invoked_production_variant)
print(answer.body.read().decode())

# %% [markdown]
# ## Step 4 · The Lambda's role
#
# The function runs as an IAM role that Lambda may assume (the **trust policy**), may write its own
# logs (`AWSLambdaBasicExecutionRole`), and may invoke **this one endpoint** and nothing else. The
# policy names the endpoint by the ARN SageMaker reports: SageMaker writes names in ARNs in lowercase,
# so an ARN typed from a mixed-case name (`MyEndpoint`) would match nothing and every call be denied.

# %%
trust_policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
invoke_endpoint_policy = specs.invoke_endpoint_policy(endpoint.endpoint_arn)  # helpers/specs.py
print(json.dumps(invoke_endpoint_policy, indent=2))
role_arn = iam.ensure_role(names.role, trust_policy, [iam.BASIC_EXECUTION], settings.tags())
iam.put_inline_policy(
    {
        "RoleName": names.role,
        "PolicyName": "invoke-endpoint",
        "PolicyDocument": json.dumps(invoke_endpoint_policy),
    }
)
print(role_arn)

# %% [markdown]
# ## Step 5 · The chapter-7 Lambda
#
# `{"features": [4 numbers]}` in, a prediction out. A new role can take a few seconds before
# Lambda may assume it; the helper retries until it can, then waits until the new function leaves
# `Pending` and is `Active` (AWS refuses to invoke or update it before).
#
# The function is created only when it is missing. An existing one is left exactly as it is: chapter
# 8.2 replaces this code with the recording handler, and re-running this notebook must never undo a
# later chapter.

# %%
print(open("../lambda/chapter7/app.py").read())

# %%
function_spec = {
    "FunctionName": names.function,
    "Runtime": "python3.13",
    "Role": role_arn,
    "Handler": "app.lambda_handler",
    "Timeout": 30,
    "MemorySize": 256,
    "Environment": {"Variables": {"ENDPOINT_NAME": names.endpoint}},
    "Tags": settings.tags(),
}
package = awslambda.build_zip({"app.py": awslambda.ROOT / "lambda" / "chapter7" / "app.py"})
# Created when missing; an existing function (a later chapter's, or your own) is kept.
function = awslambda.ensure_function(function_spec, package, reuse_existing=True)

# %% [markdown]
# ## Step 6 · Chapter 7's REST API in front of the Lambda
#
# Clients do not call the function: they `POST` to a **REST API** (API Gateway), which hands each request
# to the function as a *proxy event* and returns the function's answer as the HTTP response. Five
# requests build it, each shown below with exactly its parameters: the API itself (`CreateRestApi`), the
# resource `/predict` (`CreateResource`), its `POST` method (`PutMethod`) with a **Lambda proxy
# integration** (`PutIntegration`: type `AWS_PROXY`, and always `POST` to Lambda, whatever the client's
# method), Lambda's permission for API Gateway to invoke the function (`AddPermission`, only for this
# API's `POST /predict`), and a deployment to the stage `prod` (`CreateDeployment`). Each helper makes
# its request only when what it creates is missing, so running this twice changes nothing.

# %%
event = {"features": model.SAMPLE_FEATURES[1]}
# The role's policy was put moments ago: IAM may take seconds to let the function use it, so the helper
# invokes again while the function's own call is still refused.
reply = awslambda.invoke(names.function, event, after_policy_change=True)
prediction = json.loads(reply["body"])["prediction"]
print(f"features {event['features']} -> fraud probability {prediction:.4f}")

# %%
from helpers import apigateway, traffic

api_spec = {
    "name": names.api,
    "description": "Chapter 7's inference API: POST /predict -> the inference Lambda",
    "endpointConfiguration": {"types": ["REGIONAL"]},
    "tags": settings.tags(),
}
# An API you already have from chapter 7 (WORKSHOP_API_NAME) is used as it is.
api = apigateway.ensure_rest_api(api_spec, reuse_existing=bool(settings.api_name))

# %%
resource_spec = {"restApiId": api["id"], "parentId": api["rootResourceId"], "pathPart": "predict"}
method_spec = {
    "restApiId": api["id"],
    "resourceId": "",  # filled in below, once the resource exists
    "httpMethod": "POST",
    "authorizationType": "NONE",
}
integration_spec = {
    "restApiId": api["id"],
    "resourceId": "",
    "httpMethod": "POST",
    "type": "AWS_PROXY",
    "integrationHttpMethod": "POST",  # Lambda is always invoked with POST
    "uri": apigateway.lambda_uri(function["FunctionArn"]),
}
permission_spec = {
    "FunctionName": names.function,
    "StatementId": f"{names.api}-invoke",
    "Action": "lambda:InvokeFunction",
    "Principal": "apigateway.amazonaws.com",
    "SourceArn": session.arn("execute-api", f"{api['id']}/*/POST/predict"),
}
deployment_spec = {
    "restApiId": api["id"],
    "stageName": apigateway.STAGE,
    "description": "chapter 7",
}
if settings.api_name:  # your own API: nothing to build
    print(f"using your API {names.api}: its /predict, integration and stage are left as they are")
else:
    resource = apigateway.ensure_resource(resource_spec)
    method_spec["resourceId"] = integration_spec["resourceId"] = resource["id"]
    changed = apigateway.ensure_method(method_spec, integration_spec)
    apigateway.allow_invoke(permission_spec)
    apigateway.ensure_deployment(deployment_spec, changed=changed)

# %% [markdown]
# The **invoke URL** is where clients send requests: `https://<api-id>.execute-api.<region>.amazonaws.com/prod/predict`
# in AWS; the local cloud serves the same API under its own URL, at `/_aws/execute-api/<api-id>/prod/predict`.
# The `curl` line below works from a terminal as it is.

# %%
url = apigateway.invoke_url(api["id"])
print("invoke URL:", url)
print(apigateway.curl_line(url, model.SAMPLE_FEATURES[1]))

# %% [markdown]
# ## Check: a real prediction through the API
#
# One `POST` to the invoke URL, as `curl` sends it: API Gateway gives the request its id
# (`x-amzn-RequestId`), the Lambda asks the endpoint, and the model's own prediction comes back.

# %%
features = model.SAMPLE_FEATURES[1]
reply = traffic.post(url, json.dumps({"features": features}))
print(f"HTTP {reply.status}, request id {reply.request_id}: {reply.body}")
prediction = reply.body["prediction"]
print(f"features {features} -> fraud probability {prediction:.4f}")

expected = model.predict(model.load_booster(trained.artifact), [features])[0]
assert reply.status == 200 and abs(prediction - expected) < 1e-6, (reply, expected)
print(f"✔ The API answered the model's own prediction: {prediction:.4f}")

# %% [markdown]
# ## Recap
#
# Now exists, all named after your prefix and tagged `workshop-kit=ml-pipeline-ch8`: an S3 bucket
# with the model artifact, a SageMaker model, a serverless endpoint configuration and endpoint, an
# IAM role, the Lambda function, and the REST API in front of it (stage `prod`). A serverless endpoint
# and a REST API cost nothing while idle (the API: `$3.50` per million requests; see the cost table in
# the kit's README). `notebooks/99_cleanup.ipynb` removes all of it.
#
# **In the AWS console:** SageMaker → Inference → Endpoints; Lambda → Functions; API Gateway → APIs.

# %%
links = [
    session.console_url(page)
    for page in ("sagemaker/home#/endpoints", "lambda/home#/functions", "apigateway/main/apis")
]
print("\n".join(filter(None, links)) or "Local mode has no console.")
print("From a terminal:", show.aws_cli("lambda", "list-functions"))
