"""Bring your own chapter 7: an attendee's pipeline, built as chapter 7 builds it, runs the whole chapter.

In the notebooks' own local cloud, plain boto3 builds what chapters 6-7 leave in an attendee's account
(the endpoint ``ml-blog-endpoint``, the function ``invoke-ml-endpoint`` with chapter 7's code, the REST
API ``InferenceAPI`` with ``POST /predict`` on stage ``prod``); the settings select them
(WORKSHOP_ENDPOINT_NAME, WORKSHOP_FUNCTION_NAME, WORKSHOP_API_NAME); 00_setup, 8.1-8.4 and 99_cleanup
run; what the attendee made survives the cleanup, and the chapter-7 code is kept as the alias chapter7.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from kit_world import execution_role, serverless_endpoint
from notebook_source import kernel_env, nbval_failure, stop_local_cloud

from helpers import apigateway, awslambda, model

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
ENDPOINT, FUNCTION, API = "ml-blog-endpoint", "invoke-ml-endpoint", "InferenceAPI"
NOTEBOOKS = [
    "00_setup",
    "8.1_create_dynamodb_table",
    "8.2_update_lambda_write_dynamodb",
    "8.3_monitor_with_cloudwatch",
    "8.4_analyze_inference_history",
    "99_cleanup",
]

pytestmark = pytest.mark.notebooks


def build_chapter_7(url: str) -> dict[str, str]:
    """Chapters 6-7 as an attendee built them, with plain boto3; the names of what was made."""
    aws = {
        s: boto3.client(s, endpoint_url=url, region_name=REGION)
        for s in ("s3", "iam", "sagemaker", "lambda", "apigateway")
    }
    bucket = "ml-blog-models"
    aws["s3"].create_bucket(Bucket=bucket)
    aws["s3"].put_object(Bucket=bucket, Key="xgboost/model.tar.gz", Body=model.train().artifact)
    sagemaker_role = execution_role(
        aws["iam"], "ml-blog-sagemaker-role", "sagemaker.amazonaws.com",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
    )  # fmt: skip
    made = serverless_endpoint(
        aws["sagemaker"], "ml-blog", sagemaker_role, f"s3://{bucket}/xgboost/model.tar.gz"
    )
    assert made == ENDPOINT
    role = execution_role(
        aws["iam"], "invoke-ml-endpoint-role", "lambda.amazonaws.com",
        {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint",
         "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"},
    )  # fmt: skip
    aws["iam"].attach_role_policy(
        RoleName="invoke-ml-endpoint-role",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    function = aws["lambda"].create_function(
        FunctionName=FUNCTION, Runtime="python3.13", Role=role, Handler="app.lambda_handler", Timeout=30,
        Code={"ZipFile": awslambda.build_zip({"app.py": ROOT / "lambda" / "chapter7" / "app.py"})},
        Environment={"Variables": {"ENDPOINT_NAME": ENDPOINT}},
    )  # fmt: skip
    agw = aws["apigateway"]
    api = agw.create_rest_api(name=API, endpointConfiguration={"types": ["REGIONAL"]})
    predict = agw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="predict")
    agw.put_method(restApiId=api["id"], resourceId=predict["id"], httpMethod="POST", authorizationType="NONE")
    agw.put_integration(
        restApiId=api["id"], resourceId=predict["id"], httpMethod="POST", type="AWS_PROXY",
        integrationHttpMethod="POST", uri=apigateway.lambda_uri(function["FunctionArn"]),
    )  # fmt: skip
    aws["lambda"].add_permission(
        FunctionName=FUNCTION, StatementId="apigateway-invoke", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com", SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['id']}/*/POST/predict",
    )  # fmt: skip
    agw.create_deployment(restApiId=api["id"], stageName="prod")
    return {"api_id": api["id"], "role": "invoke-ml-endpoint-role", "bucket": bucket}


@pytest.fixture(scope="module")
def own_pipeline(tmp_path_factory):
    """The notebooks' local cloud holding an attendee's chapter-7 pipeline; (environment, what was made)."""
    env = kernel_env(
        "byo", tmp_path_factory.mktemp("byo-state"), MPLBACKEND="Agg",
        WORKSHOP_ENDPOINT_NAME=ENDPOINT, WORKSHOP_FUNCTION_NAME=FUNCTION, WORKSHOP_API_NAME=API,
    )  # fmt: skip
    up = subprocess.run(
        [sys.executable, "-m", "localcloud", "up"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert up.returncode == 0, up.stderr
    url = f"http://127.0.0.1:{env['WORKSHOP_LOCAL_PORT']}"
    made = build_chapter_7(url)
    yield env, url, made
    stop_local_cloud(env)


@pytest.mark.timeout(2400)  # six notebooks, 8.3's alarms included
def test_the_chapter_runs_on_an_attendee_s_own_chapter_7_pipeline_and_cleanup_leaves_it(own_pipeline):
    env, url, made = own_pipeline
    paths = [str(ROOT / "notebooks" / f"{name}.ipynb") for name in NOTEBOOKS]
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
               "-q", "--timeout=900", "-o", "addopts=", *paths]  # fmt: skip
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, nbval_failure(result.stdout, result.stderr)

    lam = boto3.client("lambda", endpoint_url=url, region_name=REGION)
    assert lam.get_function(FunctionName=FUNCTION)["Configuration"]["Role"].endswith(f"/{made['role']}")
    chapter7 = lam.get_alias(FunctionName=FUNCTION, Name="chapter7")  # 8.2 kept the chapter-7 code
    kept = lam.get_function(FunctionName=FUNCTION, Qualifier=chapter7["FunctionVersion"])["Configuration"]
    assert kept["CodeSha256"] == awslambda.code_sha256(
        awslambda.build_zip({"app.py": ROOT / "lambda" / "chapter7" / "app.py"})
    )
    sm = boto3.client("sagemaker", endpoint_url=url, region_name=REGION)
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService"
    agw = boto3.client("apigateway", endpoint_url=url, region_name=REGION)
    assert agw.get_stage(restApiId=made["api_id"], stageName="prod")["stageName"] == "prod"
    s3 = boto3.client("s3", endpoint_url=url, region_name=REGION)
    assert s3.head_bucket(Bucket=made["bucket"])
    assert json.loads(lam.get_policy(FunctionName=FUNCTION)["Policy"])["Statement"]
