"""A stack's resources carry the Tags their template gives them (AWS CloudFormation User Guide, resource
type reference: AWS::Lambda::Function, AWS::SNS::Topic and AWS::ApiGateway::RestApi each take `Tags`,
"the tags to apply to" the resource); moto 5.2.5 drops them for these three types."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

REGION = "us-east-1"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip


@pytest.fixture(scope="module")
def stack(local_cloud):
    """A stack of a function, a topic and a REST API, each tagged with {owner: value-of-the-Owner-parameter}."""
    aws = lambda service: boto3.client(service, endpoint_url=local_cloud, region_name=REGION)  # noqa: E731
    tags = [{"Key": "owner", "Value": {"Ref": "Owner"}}]
    name = f"s{uuid.uuid4().hex[:8]}"
    template = {
        "Parameters": {"Owner": {"Type": "String"}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
            "Function": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.13", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"}, "Tags": tags}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{name}-topic", "Tags": tags}},
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": f"{name}-api", "Tags": tags}},
        },
        "Outputs": {"FunctionArn": {"Value": {"Fn::GetAtt": ["Function", "Arn"]}},
                    "TopicArn": {"Value": {"Ref": "Topic"}}, "ApiId": {"Value": {"Ref": "Api"}}},
    }  # fmt: skip
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "Owner", "ParameterValue": "ana"}])  # fmt: skip
    [described] = cfn.describe_stacks(StackName=name)["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    yield aws, {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    cfn.delete_stack(StackName=name)


def test_a_stack_s_function_carries_its_template_tags(stack):
    aws, outputs = stack
    assert aws("lambda").list_tags(Resource=outputs["FunctionArn"])["Tags"] == {"owner": "ana"}


def test_a_stack_s_topic_carries_its_template_tags(stack):
    aws, outputs = stack
    tags = aws("sns").list_tags_for_resource(ResourceArn=outputs["TopicArn"])["Tags"]
    assert tags == [{"Key": "owner", "Value": "ana"}]


def test_a_stack_s_rest_api_carries_its_template_tags(stack):
    aws, outputs = stack
    assert aws("apigateway").get_rest_api(restApiId=outputs["ApiId"])["tags"] == {"owner": "ana"}
