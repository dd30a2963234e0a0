# %% [markdown]
# # 00 · Setup: the chapter 6-7 pipeline
#
# Chapter 8 builds on a working pipeline: a **SageMaker endpoint** serving a binary classifier and a
# **Lambda function** that calls it. This notebook creates whatever of that is missing, so every
# attendee starts chapter 8 from the same place. Running it twice changes nothing.
#
# It works in two clouds, chosen by one environment variable before you start Jupyter:
# `WORKSHOP_MODE=local` (the default: an offline cloud on your machine, no account, no cost) or
# `WORKSHOP_MODE=aws` (your AWS account). No cell below depends on the mode.

# %% [markdown]
# ## Before you start
#
# `prepare()` starts the local cloud if needed (or, in AWS mode, checks your credentials and region
# with STS) and prints who you are. Every resource name starts with your **prefix**.

# %%
import json

import boto3

from helpers import awslambda, iam, model, s3, sagemaker, session, show

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
    bucket, names.model_key.replace("model.tar.gz", "metrics.json"),
    json.dumps(trained.metrics, sort_keys=True).encode(), settings.tags(),
)
print(model_url)

# %% [markdown]
# ## Step 3 · Model, endpoint configuration, endpoint
#
# Three SageMaker resources: the **model** (container image + artifact + role), the **endpoint
# configuration** (how to host it: here *serverless*, so an idle endpoint costs nothing), and the
# **endpoint** itself. Creating a real endpoint takes a few minutes; the helper waits and shows progress.

# %% [markdown]
# SageMaker needs its own role to read the artifact from S3: it may read `models/*` in this bucket only.

# %%
sagemaker_role_arn = iam.ensure_role(
    names.sagemaker_role,
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
    [],
    settings.tags(),
)
_ = iam.put_inline_policy(
    names.sagemaker_role,
    "read-model-artifact",
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/models/*"}],
    },
)

# %%
model_spec = {
    "ModelName": names.model,
    "PrimaryContainer": {
        "Image": sagemaker.xgboost_image_uri(settings.region),
        "ModelDataUrl": model_url,
    },
    "ExecutionRoleArn": sagemaker_role_arn,
    "Tags": settings.tag_list(),
}
endpoint_config_spec = {
    "EndpointConfigName": names.endpoint_config,
    "ProductionVariants": [
        {
            "VariantName": "AllTraffic",
            "ModelName": names.model,
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
        }
    ],
    "Tags": settings.tag_list(),
}

sagemaker.ensure_model(model_spec)
sagemaker.ensure_endpoint_config(endpoint_config_spec)
# WORKSHOP_ENDPOINT_NAME names an endpoint you already have from chapter 6: it is reused as it is.
endpoint = sagemaker.ensure_endpoint(names.endpoint, names.endpoint_config, settings.tag_list(),
                                     reuse_existing=bool(settings.endpoint_name))
print(endpoint["EndpointName"], endpoint["EndpointStatus"])

# %% [markdown]
# Ask the endpoint directly: one CSV row per transaction, one probability per line back.

# %%
runtime = boto3.client("sagemaker-runtime")
answer = runtime.invoke_endpoint(
    EndpointName=names.endpoint,
    ContentType="text/csv",
    Body="\n".join(",".join(str(x) for x in row) for row in model.SAMPLE_FEATURES),
)
print("variant:", answer["InvokedProductionVariant"])
print(answer["Body"].read().decode())

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
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
invoke_endpoint_policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "InvokeTheWorkshopEndpoint",
            "Effect": "Allow",
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": endpoint["EndpointArn"],  # SageMaker's ARNs spell names in lowercase
        }
    ],
}
role_arn = iam.ensure_role(names.role, trust_policy, [iam.BASIC_EXECUTION], settings.tags())
iam.put_inline_policy(names.role, "invoke-endpoint", invoke_endpoint_policy)
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
# Created when missing; an existing function (a later chapter's, or yours from WORKSHOP_FUNCTION_NAME) is kept.
function = awslambda.ensure_function(function_spec, package, reuse_existing=True)

# %% [markdown]
# ## Check: a real prediction through the Lambda

# %%
event = {"features": model.SAMPLE_FEATURES[1]}
reply = awslambda.invoke(names.function, event)
prediction = json.loads(reply["body"])["prediction"]
print(f"features {event['features']} -> fraud probability {prediction:.4f}")

expected = model.predict(model.load_booster(trained.artifact), [event["features"]])[0]
assert reply["statusCode"] == 200 and abs(prediction - expected) < 1e-6, (prediction, expected)
print(f"✔ The Lambda answered the model's own prediction: {prediction:.4f}")

# %% [markdown]
# ## Recap
#
# Now exists, all named after your prefix and tagged `workshop-kit=ml-pipeline-ch8`: an S3 bucket
# with the model artifact, a SageMaker model, a serverless endpoint configuration and endpoint, an
# IAM role, and the Lambda function. A serverless endpoint costs nothing while idle (see the README's
# cost table). `notebooks/99_cleanup.ipynb` removes all of it.
#
# **In the AWS console:** SageMaker → Inference → Endpoints; Lambda → Functions.

# %%
links = [session.console_url(page) for page in ("sagemaker/home#/endpoints", "lambda/home#/functions")]
print("\n".join(filter(None, links)) or "Local mode has no console.")
print("From a terminal:", show.aws_cli("lambda", "list-functions"))
