"""IAM in the local cloud: enforced for role sessions and IAM users as AWS enforces it; the attendee stays an administrator."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import profile
from localcloud.iam import policy as iam_policy
from localcloud.iam.policy import ANY, Decision

REGION = "us-east-1"
ACCOUNT = "123456789012"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
SAGEMAKER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*") -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------------------------
# The policy engine


def test_an_allow_on_the_tables_arn_permits_the_action_on_that_table_only():
    docs = [policy(allow("dynamodb:PutItem", table_arn("t")))]
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("t"),)) is Decision.ALLOWED
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("other"),)) is Decision.IMPLICIT_DENY
    assert iam_policy.evaluate(docs, "dynamodb:GetItem", (table_arn("t"),)) is Decision.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow():
    docs = [policy(allow("dynamodb:*")), policy(deny("dynamodb:PutItem", table_arn("t")))]
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("t"),)) is Decision.EXPLICIT_DENY
    assert iam_policy.evaluate(docs, "dynamodb:GetItem", (table_arn("t"),)) is Decision.ALLOWED


def test_action_wildcards_match_and_actions_ignore_case():
    docs = [policy(allow(["dynamodb:Put*", "SageMaker:invokeendpoint"]))]
    assert iam_policy.evaluate(docs, "dynamodb:PutItem") is Decision.ALLOWED
    assert iam_policy.evaluate(docs, "sagemaker:InvokeEndpoint") is Decision.ALLOWED
    assert iam_policy.evaluate(docs, "dynamodb:GetItem") is Decision.IMPLICIT_DENY


def test_resource_wildcards_match_but_arns_keep_their_case():
    docs = [policy(allow("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ws-*"))]
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("ws-records"),)) is Decision.ALLOWED
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("WS-records"),)) is Decision.IMPLICIT_DENY


def test_no_policy_at_all_is_an_implicit_deny():
    assert iam_policy.evaluate([], "dynamodb:PutItem", (table_arn("t"),)) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource_grant_everything_but_what_they_list():
    docs = [policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": table_arn("secret")})]
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("t"),)) is Decision.ALLOWED
    assert iam_policy.evaluate(docs, "dynamodb:PutItem", (table_arn("secret"),)) is Decision.IMPLICIT_DENY
    assert iam_policy.evaluate(docs, "iam:ListRoles") is Decision.IMPLICIT_DENY


def test_a_query_on_an_index_acts_on_the_index_arn():
    params = {"TableName": "t", "IndexName": "endpointName-timestamp-index"}
    [resource] = iam_policy.resource_arns("dynamodb:Query", params, REGION, ACCOUNT)
    assert resource == (f"{table_arn('t')}/index/endpointName-timestamp-index",)
    assert (
        iam_policy.evaluate([policy(allow("dynamodb:Query", table_arn("t")))], "dynamodb:Query", resource)
        is Decision.IMPLICIT_DENY
    )
    assert (
        iam_policy.evaluate(
            [policy(allow("dynamodb:Query", f"{table_arn('t')}/index/*"))], "dynamodb:Query", resource
        )
        is Decision.ALLOWED
    )


def test_a_batch_write_acts_on_every_table_it_names():
    params = {"RequestItems": {"a": [], "b": []}}
    assert iam_policy.resource_arns("dynamodb:BatchWriteItem", params, REGION, ACCOUNT) == [
        (table_arn("a"),),
        (table_arn("b"),),
    ]


@pytest.mark.parametrize("action, params, arn", [
    ("sagemaker:InvokeEndpoint", {"EndpointName": "My-Endpoint"}, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/my-endpoint"),
    ("sagemaker:CreateEndpointConfig", {"EndpointConfigName": "Cfg", "EndpointName": "x"},
     f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/cfg"),
    ("sagemaker:CreateModel", {"ModelName": "M"}, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m"),
    ("lambda:InvokeFunction", {"FunctionName": "f"}, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"),
    ("logs:PutLogEvents", {"logGroupName": "/aws/lambda/f", "logStreamName": "s"},
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f:log-stream:s"),
    ("logs:PutRetentionPolicy", {"logGroupName": "/aws/lambda/f"}, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f"),
    ("cloudwatch:PutMetricAlarm", {"AlarmName": "a"}, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a"),
    ("cloudwatch:PutDashboard", {"DashboardName": "d"}, f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/d"),
    ("sns:CreateTopic", {"Name": "t"}, f"arn:aws:sns:{REGION}:{ACCOUNT}:t"),
    ("sqs:SendMessage", {"QueueUrl": f"http://127.0.0.1:4566/{ACCOUNT}/q"}, f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"),
    ("iam:PutRolePolicy", {"RoleName": "r", "PolicyName": "p"}, f"arn:aws:iam::{ACCOUNT}:role/r"),
    ("sts:AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}, f"arn:aws:iam::{ACCOUNT}:role/r"),
])  # fmt: skip
def test_each_call_acts_on_the_arn_of_the_resource_it_names(action, params, arn):
    assert iam_policy.resource_arns(action, params, REGION, ACCOUNT)[0][0] == arn


def test_metric_calls_act_on_star():
    assert iam_policy.resource_arns("cloudwatch:PutMetricData", {"Namespace": "n"}, REGION, ACCOUNT) == [ANY]


def test_a_log_group_is_also_named_with_the_colon_star_suffix():
    [resource] = iam_policy.resource_arns("logs:PutRetentionPolicy", {"logGroupName": "g"}, REGION, ACCOUNT)
    docs = [policy(allow("logs:PutRetentionPolicy", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:*"))]
    assert iam_policy.evaluate(docs, "logs:PutRetentionPolicy", resource) is Decision.ALLOWED


def test_a_trust_policy_names_the_service_that_may_assume_the_role():
    assert iam_policy.trusts(json.dumps(LAMBDA_TRUST), "lambda.amazonaws.com")
    assert not iam_policy.trusts(json.dumps(LAMBDA_TRUST), "sagemaker.amazonaws.com")
    assert not iam_policy.trusts("{}", "lambda.amazonaws.com")


def test_the_denial_names_the_session_the_action_and_the_resource():
    who = f"arn:aws:sts::{ACCOUNT}:assumed-role/r/f"
    refused = iam_policy.denial(who, "dynamodb:PutItem", (table_arn("t"),), Decision.IMPLICIT_DENY)
    assert (refused.code, refused.status) == ("AccessDeniedException", 400)
    assert refused.message == (
        f"User: {who} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{table_arn('t')} because no identity-based policy allows the dynamodb:PutItem action"
    )
    explicit = iam_policy.denial(who, "dynamodb:PutItem", (table_arn("t"),), Decision.EXPLICIT_DENY)
    assert explicit.message.endswith(
        f"on resource: {table_arn('t')} with an explicit deny in an identity-based policy"
    )


def test_an_action_on_star_names_no_resource():
    refused = iam_policy.denial("arn:x", "cloudwatch:PutMetricData", ANY, Decision.IMPLICIT_DENY)
    assert refused.message == (
        "User: arn:x is not authorized to perform: cloudwatch:PutMetricData because no "
        "identity-based policy allows the cloudwatch:PutMetricData action"
    )


# ---------------------------------------------------------------------------------------------
# Enforcement in the local cloud


@pytest.fixture(scope="module")
def admin(local_cloud):
    """Clients with the kit's dummy credentials: the attendee, an administrator."""
    return lambda service: boto3.client(service, endpoint_url=local_cloud, region_name=REGION)


@pytest.fixture()
def session(admin, local_cloud):
    """session(role_name, *statements) -> clients of an assumed-role session of a new role with those statements."""

    def make(*statements: dict, trust: dict = LAMBDA_TRUST, name: str | None = None):
        role = name or unique("role")
        arn = admin("iam").create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        if statements:
            admin("iam").put_role_policy(
                RoleName=role, PolicyName="p", PolicyDocument=json.dumps(policy(*statements))
            )
        creds = admin("sts").assume_role(RoleArn=arn, RoleSessionName="fn")["Credentials"]

        def client(service: str):
            return boto3.client(
                service,
                endpoint_url=local_cloud,
                region_name=REGION,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )

        client.role = role
        client.arn = arn
        client.principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/fn"
        return client

    return make


@pytest.fixture(scope="module")
def table(admin) -> str:
    name = unique("records")
    admin("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"},
                              {"AttributeName": "endpointName", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-endpoint", "KeySchema": [{"AttributeName": "endpointName", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])  # fmt: skip
    boto3.client("dynamodb", region_name=REGION).get_waiter("table_exists").wait(TableName=name)
    return name


def error_of(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def item() -> dict:
    return {"requestId": {"S": str(uuid.uuid4())}, "endpointName": {"S": "e"}}


def test_a_role_session_without_the_permission_gets_access_denied_naming_session_action_and_table(
    session, table
):
    client = session()
    code, status, message = error_of(lambda: client("dynamodb").put_item(TableName=table, Item=item()))
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (
        f"User: {client.principal} is not authorized to perform: dynamodb:PutItem on resource: "
        f"{table_arn(table)} because no identity-based policy allows the dynamodb:PutItem action"
    )


def test_a_role_session_with_the_permission_on_the_table_may_put_items(session, table):
    client = session(allow("dynamodb:PutItem", table_arn(table)))
    client("dynamodb").put_item(TableName=table, Item=item())


def test_the_permission_on_one_table_does_not_reach_another(session, table):
    client = session(allow("dynamodb:PutItem", table_arn("some-other-table")))
    code, _, _ = error_of(lambda: client("dynamodb").put_item(TableName=table, Item=item()))
    assert code == "AccessDeniedException"


def test_an_explicit_deny_refuses_what_a_wildcard_allows(session, table):
    client = session(allow("dynamodb:*"), deny("dynamodb:PutItem", table_arn(table)))
    code, _, message = error_of(lambda: client("dynamodb").put_item(TableName=table, Item=item()))
    assert code == "AccessDeniedException" and message.endswith(
        "with an explicit deny in an identity-based policy"
    )
    client("dynamodb").get_item(TableName=table, Key={"requestId": {"S": "x"}})


def test_a_query_on_the_index_needs_the_index_arn(session, table):
    query = {
        "TableName": table,
        "IndexName": "by-endpoint",
        "KeyConditionExpression": "endpointName = :e",
        "ExpressionAttributeValues": {":e": {"S": "e"}},
    }
    table_only = session(allow("dynamodb:Query", table_arn(table)))
    code, _, message = error_of(lambda: table_only("dynamodb").query(**query))
    assert code == "AccessDeniedException" and f"{table_arn(table)}/index/by-endpoint" in message
    with_index = session(allow("dynamodb:Query", f"{table_arn(table)}/index/*"))
    with_index("dynamodb").query(**query)


def test_attached_managed_policies_count(session, admin, table):
    client = session()
    arn = admin("iam").create_policy(
        PolicyName=unique("read"),
        PolicyDocument=json.dumps(policy(allow("dynamodb:GetItem", table_arn(table)))),
    )["Policy"]["Arn"]
    admin("iam").attach_role_policy(RoleName=client.role, PolicyArn=arn)
    client("dynamodb").get_item(TableName=table, Key={"requestId": {"S": "x"}})


def test_the_attendees_own_credentials_stay_an_administrator(admin, table):
    admin("dynamodb").put_item(TableName=table, Item=item())
    assert admin("sts").get_caller_identity()["Account"] == ACCOUNT


def test_an_iam_users_access_key_is_enforced_like_a_role(admin, local_cloud, table):
    name = unique("attendee")
    admin("iam").create_user(UserName=name)
    key = admin("iam").create_access_key(UserName=name)["AccessKey"]
    admin("iam").put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=json.dumps(policy(allow("dynamodb:GetItem", table_arn(table)))),
    )
    user = boto3.client(
        "dynamodb",
        endpoint_url=local_cloud,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    user.get_item(TableName=table, Key={"requestId": {"S": "x"}})
    code, _, message = error_of(lambda: user.put_item(TableName=table, Item=item()))
    assert code == "AccessDeniedException" and message.startswith(
        f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not"
    )


def test_invoke_endpoint_is_authorized_on_the_lowercased_endpoint_arn(session):
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/my-endpoint"
    denied = session(
        allow("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/other")
    )
    code, status, message = error_of(
        lambda: denied("sagemaker-runtime").invoke_endpoint(
            EndpointName="My-Endpoint", Body=b"1,2,3,4", ContentType="text/csv"
        )
    )
    assert (code, status) == ("AccessDeniedException", 400) and f"on resource: {arn} because" in message
    allowed = session(allow("sagemaker:InvokeEndpoint", arn))
    code, _, _ = error_of(
        lambda: allowed("sagemaker-runtime").invoke_endpoint(
            EndpointName="My-Endpoint", Body=b"1,2,3,4", ContentType="text/csv"
        )
    )
    assert code == "ValidationError"  # past IAM: the endpoint does not exist


def test_s3_refuses_with_access_denied_403_quoting_the_object(session, admin):
    bucket = unique("bucket")
    admin("s3").create_bucket(Bucket=bucket)
    admin("s3").put_object(Bucket=bucket, Key="models/model.tar.gz", Body=b"x")
    client = session(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/models/*"))
    assert client("s3").get_object(Bucket=bucket, Key="models/model.tar.gz")["Body"].read() == b"x"
    code, status, message = error_of(
        lambda: client("s3").put_object(Bucket=bucket, Key="models/other", Body=b"y")
    )
    assert (code, status) == (
        "AccessDenied",
        403,
    ) and f'on resource: "arn:aws:s3:::{bucket}/models/other"' in message


@pytest.mark.parametrize("service, call, code, status, action", [
    ("logs", lambda c: c.create_log_group(logGroupName="/g"), "AccessDeniedException", 400, "logs:CreateLogGroup"),
    ("cloudwatch", lambda c: c.put_metric_data(Namespace="n", MetricData=[{"MetricName": "m", "Value": 1}]),
     "AccessDenied", 403, "cloudwatch:PutMetricData"),
    ("sns", lambda c: c.create_topic(Name="t"), "AuthorizationError", 403, "SNS:CreateTopic"),
    ("sqs", lambda c: c.create_queue(QueueName="q"), "AccessDenied", 403, "sqs:createqueue"),
    ("lambda", lambda c: c.invoke(FunctionName="f"), "AccessDeniedException", 403, "lambda:InvokeFunction"),
    ("iam", lambda c: c.list_roles(), "AccessDenied", 403, "iam:ListRoles"),
])  # fmt: skip
def test_each_service_refuses_in_its_own_words(session, service, call, code, status, action):
    client = session()
    found = error_of(lambda: call(client(service)))
    assert found[:2] == (code, status)
    assert f"is not authorized to perform: {action}" in found[2] and client.principal in found[2]


def test_an_invocation_payload_never_changes_the_resource_authorized(session):
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:allowed-fn"
    client = session(allow("lambda:InvokeFunction", arn))
    code, _, message = error_of(
        lambda: client("lambda").invoke(
            FunctionName="other-fn", Payload=json.dumps({"FunctionName": "allowed-fn"})
        )
    )
    assert code == "AccessDeniedException" and "function:other-fn" in message
    code, _, _ = error_of(
        lambda: client("lambda").invoke(FunctionName="allowed-fn", Payload=json.dumps({"FunctionName": "x"}))
    )
    assert code == "ResourceNotFoundException"  # past IAM: the function does not exist


def test_get_caller_identity_is_always_allowed(session):
    client = session(deny("*"))
    assert client("sts").get_caller_identity()["Arn"] == client.principal


# ---------------------------------------------------------------------------------------------
# A Lambda runs as its execution role


def zip_of(source: str) -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", source)
    return package.getvalue()


HANDLER = """
import json, os, boto3
from botocore.exceptions import ClientError

def handler(event, context):
    found = {"arn": boto3.client("sts").get_caller_identity()["Arn"], "key": os.environ["AWS_ACCESS_KEY_ID"]}
    try:
        boto3.client("dynamodb").put_item(TableName=event["table"], Item={"requestId": {"S": context.aws_request_id}})
        found["put"] = "ok"
    except ClientError as exc:
        found["put"] = exc.response["Error"]["Code"]
        found["message"] = exc.response["Error"]["Message"]
    return found
"""


def deploy(admin, role_arn: str) -> str:
    name = unique("fn")
    admin("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
        Timeout=30,
    )
    return name


def run(admin, function: str, table: str) -> dict:
    answer = admin("lambda").invoke(FunctionName=function, Payload=json.dumps({"table": table}))
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return payload


def test_a_handler_runs_with_temporary_credentials_of_its_role(session, admin, table):
    role = session()
    function = deploy(admin, role.arn)
    found = run(admin, function, table)
    assert found["key"].startswith("ASIA")
    assert found["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.role}/{function}"


def test_a_handler_without_put_item_permission_gets_access_denied(session, admin, table):
    role = session()
    function = deploy(admin, role.arn)
    found = run(admin, function, table)
    assert found["put"] == "AccessDeniedException"
    assert found["message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role.role}/{function} is not authorized to perform: "
        f"dynamodb:PutItem on resource: {table_arn(table)} because no identity-based policy allows the "
        "dynamodb:PutItem action"
    )


def test_a_handler_whose_role_allows_put_item_writes(session, admin, table):
    role = session(allow("dynamodb:PutItem", table_arn(table)))
    assert run(admin, deploy(admin, role.arn), table)["put"] == "ok"


# ---------------------------------------------------------------------------------------------
# What Lambda and SageMaker check with a role


def test_create_function_refuses_a_role_lambda_cannot_assume(admin):
    arn = admin("iam").create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST)
    )["Role"]["Arn"]
    code, status, message = error_of(
        lambda: admin("lambda").create_function(
            FunctionName=unique("fn"),
            Runtime="python3.13",
            Role=arn,
            Handler="app.handler",
            Code={"ZipFile": zip_of(HANDLER)},
        )
    )
    assert (code, status, message) == (
        "InvalidParameterValueException",
        400,
        "The role defined for the function cannot be assumed by Lambda.",
    )


def test_update_function_configuration_refuses_a_role_lambda_cannot_assume(session, admin):
    function = deploy(admin, session().arn)
    arn = admin("iam").create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST)
    )["Role"]["Arn"]
    code, _, _ = error_of(
        lambda: admin("lambda").update_function_configuration(FunctionName=function, Role=arn)
    )
    assert code == "InvalidParameterValueException"


@pytest.fixture(scope="module")
def artifact(admin) -> str:
    bucket = unique("artifacts")
    admin("s3").create_bucket(Bucket=bucket)
    admin("s3").put_object(Bucket=bucket, Key="models/model.tar.gz", Body=b"not read here")
    return bucket


def create_model(admin, role_arn: str, url: str):
    return admin("sagemaker").create_model(
        ModelName=unique("model"),
        ExecutionRoleArn=role_arn,
        PrimaryContainer={"Image": "xgboost", "ModelDataUrl": url},
    )


def model_data_message(url: str, role_arn: str) -> str:
    return (
        f'Could not access model data at {url}. Please ensure that the role "{role_arn}" exists and that its trust '
        'relationship policy allows the action "sts:AssumeRole" for the service principal "sagemaker.amazonaws.com". '
        f'Also ensure that the role has "s3:GetObject" permissions and that the object is located in {REGION}.'
    )


def test_create_model_accepts_a_sagemaker_role_that_may_read_the_artifact(session, admin, artifact):
    role = session(allow("s3:GetObject", f"arn:aws:s3:::{artifact}/models/*"), trust=SAGEMAKER_TRUST)
    create_model(admin, role.arn, f"s3://{artifact}/models/model.tar.gz")


def test_create_model_refuses_a_role_without_s3_get_object_on_the_artifact(session, admin, artifact):
    role = session(allow("s3:GetObject", f"arn:aws:s3:::{artifact}/other/*"), trust=SAGEMAKER_TRUST)
    url = f"s3://{artifact}/models/model.tar.gz"
    assert error_of(lambda: create_model(admin, role.arn, url)) == (
        "ValidationException",
        400,
        model_data_message(url, role.arn),
    )


def test_create_model_refuses_a_role_sagemaker_cannot_assume(session, admin, artifact):
    role = session(allow("s3:GetObject"), trust=LAMBDA_TRUST)
    code, _, message = error_of(lambda: create_model(admin, role.arn, f"s3://{artifact}/models/model.tar.gz"))
    assert code == "ValidationException" and message.startswith("Could not access model data")


def test_passing_a_role_needs_iam_pass_role(session, admin, artifact):
    target = session(allow("s3:GetObject"), trust=SAGEMAKER_TRUST)
    caller = session(allow("sagemaker:CreateModel"))
    code, _, message = error_of(
        lambda: create_model(caller, target.arn, f"s3://{artifact}/models/model.tar.gz")
    )
    assert code == "AccessDeniedException" and f"iam:PassRole on resource: {target.arn}" in message
    may_pass = session(allow("sagemaker:CreateModel"), allow("iam:PassRole", target.arn))
    create_model(may_pass, target.arn, f"s3://{artifact}/models/model.tar.gz")


# ---------------------------------------------------------------------------------------------
# IAM propagation under the aws profile


@pytest.fixture()
def aws_profile():
    """The aws profile with delays halved (iam_propagation 2-6 s: long against a loaded machine's jitter)."""
    old = profile.use(profile.Profile(name="aws", seed=1, scale=0.5, quotas=dict(profile.current().quotas)))
    yield profile.current()
    profile.use(old)


def eventually(call, timeout_s: float = 15.0):
    deadline = time.time() + timeout_s
    while True:
        try:
            return call()
        except ClientError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def test_a_new_permission_takes_effect_only_after_iam_propagation(session, admin, table, aws_profile):
    client = session()
    time.sleep(1)  # the role itself has propagated
    admin("iam").put_role_policy(
        RoleName=client.role,
        PolicyName="write",
        PolicyDocument=json.dumps(policy(allow("dynamodb:PutItem", table_arn(table)))),
    )
    code, _, _ = error_of(lambda: client("dynamodb").put_item(TableName=table, Item=item()))
    assert code == "AccessDeniedException"
    eventually(lambda: client("dynamodb").put_item(TableName=table, Item=item()))


def test_a_role_younger_than_its_propagation_cannot_be_assumed_by_lambda(admin, aws_profile):
    arn = admin("iam").create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )["Role"]["Arn"]

    def create():
        return admin("lambda").create_function(
            FunctionName=unique("fn"),
            Runtime="python3.13",
            Role=arn,
            Handler="app.handler",
            Code={"ZipFile": zip_of(HANDLER)},
        )

    code, _, message = error_of(create)
    assert (code, message) == (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    )
    eventually(create)


def test_a_stack_that_makes_a_role_and_its_function_together_completes(admin, aws_profile):
    name = unique("stack")
    template = {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST}},
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"},
                },
            },
        }
    }
    cfn = admin("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    cfn.delete_stack(StackName=name)


def test_a_model_role_whose_policy_is_younger_than_its_propagation_is_refused(admin, artifact, aws_profile):
    role = unique("role")
    arn = admin("iam").create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST))[
        "Role"
    ]["Arn"]
    time.sleep(profile.DELAYS["iam_propagation"][1] * aws_profile.scale + 0.5)  # the role has propagated
    admin("iam").put_role_policy(
        RoleName=role,
        PolicyName="read",
        PolicyDocument=json.dumps(policy(allow("s3:GetObject", f"arn:aws:s3:::{artifact}/*"))),
    )
    url = f"s3://{artifact}/models/model.tar.gz"
    assert error_of(lambda: create_model(admin, arn, url))[0] == "ValidationException"
    eventually(lambda: create_model(admin, arn, url))


def test_under_the_local_profile_a_new_permission_takes_effect_at_once(session, admin, table):
    client = session()
    admin("iam").put_role_policy(
        RoleName=client.role,
        PolicyName="write",
        PolicyDocument=json.dumps(policy(allow("dynamodb:PutItem", table_arn(table)))),
    )
    client("dynamodb").put_item(TableName=table, Item=item())
