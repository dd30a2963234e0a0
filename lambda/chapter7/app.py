"""Chapter 7's inference Lambda: {"features": [4 numbers]} in, the endpoint's prediction out."""

import json
import os

import boto3

runtime = boto3.client("sagemaker-runtime")


def lambda_handler(event, context):
    body = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    features = body["features"]
    answer = runtime.invoke_endpoint(
        EndpointName=os.environ["ENDPOINT_NAME"],
        ContentType="text/csv",
        Body=",".join(str(x) for x in features),
    )
    prediction = float(answer["Body"].read().decode().splitlines()[0])
    return {"statusCode": 200, "body": json.dumps({"prediction": prediction})}
