"""One class policy for every attendee, and no way out of one's prefix: escalation attempts end in AccessDenied.

On the session's local cloud (IAM enforced for IAM users), the instructor runs `python -m helpers class-setup
--apply` for three attendees (ana, bob, cyd): the boundary, the one class policy, an IAM user each tagged with
their prefix. Each attendee makes their own role (under the boundary), table and function as the kit does.
Then each privilege-escalation path cloudsplaining names for the policy is tried as an attendee
(salesforce/cloudsplaining `cloudsplaining/shared/constants.py`): writing `*:*` onto one's own Lambda role
then updating and invoking the function (PutRolePolicy + UpdateAndInvokeLambdaFunction), passing a role to a
new function (PassExistingRoleToNewLambdaThenInvoke), editing another's function
(EditExistingLambdaFunctionWithRole), and the boundary's own escape hatches (IAM user guide, "Permissions
boundaries for IAM entities": a role without the boundary, the boundary removed, replaced or rewritten).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import __main__ as cli
from helpers import policy, session

REGION = "us-east-1"
ACCOUNT = "123456789012"
RUN = uuid.uuid4().hex[:4]
ATTENDEES = [f"ana{RUN}", f"bob{RUN}", f"cyd{RUN}"]
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{policy.BOUNDARY_NAME}"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# What a function tries once its role's policy says "*:*": leave its prefix, or reach IAM.
ESCAPE = """
import boto3, json, os
def attempt(call):
    try:
        call()
        return "allowed"
    except Exception as exc:
        return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
def lambda_handler(event, context):
    other = event["other"]
    return {
        "read another's table": attempt(lambda: boto3.client("dynamodb").describe_table(TableName=other + "-records")),
        "delete another's table": attempt(lambda: boto3.client("dynamodb").delete_table(TableName=other + "-records")),
        "create an IAM user": attempt(lambda: boto3.client("iam").create_user(UserName=other + "-backdoor")),
        "list every bucket": attempt(lambda: boto3.client("s3").list_buckets()),
    }
"""


def code(source: str = "def lambda_handler(event, context):\n    return 'ok'\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def denied(call) -> str:
    """The error code of a call that must fail (AssertionError if it succeeds)."""
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    raise AssertionError("the call was allowed")


class Attendee:
    """An attendee's clients (their IAM user's keys) and names."""

    def __init__(self, url: str, prefix: str, key: dict) -> None:
        self.prefix, self.url = prefix, url
        self.keys = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        self.role = f"{prefix}-inference-lambda-role"
        self.role_arn = f"arn:aws:iam::{ACCOUNT}:role/{self.role}"
        self.function = f"{prefix}-inference"
        self.table = f"{prefix}-records"

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, **self.keys)

    def build(self) -> None:
        """What the kit makes for the attendee: a role under the boundary, a function running as it, a table."""
        self.client("iam").create_role(
            RoleName=self.role,
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
            PermissionsBoundary=BOUNDARY,
            Tags=[{"Key": policy.PREFIX_TAG, "Value": self.prefix}],
        )
        self.client("dynamodb").create_table(
            TableName=self.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            Tags=[{"Key": policy.PREFIX_TAG, "Value": self.prefix}],
        )
        self.client("lambda").create_function(
            FunctionName=self.function,
            Runtime="python3.13",
            Role=self.role_arn,
            Handler="app.lambda_handler",
            Code={"ZipFile": code()},
            Timeout=30,
            Tags={policy.PREFIX_TAG: self.prefix},
        )
        waiter_deadline = time.monotonic() + 60
        while (
            self.client("lambda").get_function(FunctionName=self.function)["Configuration"]["State"]
            != "Active"
        ):
            assert time.monotonic() < waiter_deadline
            time.sleep(0.5)


@pytest.fixture(scope="module")
def klass(local_cloud):
    """class-setup --apply for three attendees, run by the instructor; each attendee then builds their own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKSHOP_MODE", "aws")
        mp.setenv("WORKSHOP_REGION", REGION)
        mp.setenv("WORKSHOP_PREFIX", "instructor")
        mp.setenv("AWS_ACCESS_KEY_ID", ADMIN["aws_access_key_id"])
        mp.setenv("AWS_SECRET_ACCESS_KEY", ADMIN["aws_secret_access_key"])
        session.forget()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(
                [
                    "class-setup",
                    "--attendees",
                    ",".join(ATTENDEES),
                    "--apply",
                    "--account",
                    ACCOUNT,
                    "--region",
                    REGION,
                ]
            )
        session.forget()
    iam = boto3.client("iam", endpoint_url=local_cloud, region_name=REGION, **ADMIN)
    attendees = [
        Attendee(local_cloud, name, iam.create_access_key(UserName=name)["AccessKey"]) for name in ATTENDEES
    ]
    for attendee in attendees:
        attendee.build()
    yield {"exit": code, "output": out.getvalue(), "attendees": attendees, "iam": iam}
    # The session's local cloud is shared: without the class policies, the kit creates roles as before.
    for name in ATTENDEES:
        iam.detach_user_policy(
            UserName=name, PolicyArn=policy.policy_arn(policy.CLASS_POLICY_NAME, ACCOUNT, REGION)
        )
    for name in (policy.CLASS_POLICY_NAME, policy.BOUNDARY_NAME):
        with contextlib.suppress(ClientError):
            iam.delete_policy(PolicyArn=policy.policy_arn(name, ACCOUNT, REGION))


def test_class_setup_creates_the_boundary_the_class_policy_and_a_tagged_user_each(klass):
    iam = klass["iam"]
    names = {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
    assert {policy.BOUNDARY_NAME, policy.CLASS_POLICY_NAME} <= names
    for name in ATTENDEES:
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
        attached = [
            p["PolicyName"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
        ]
        assert tags[policy.PREFIX_TAG] == name and attached == [policy.CLASS_POLICY_NAME]
    assert f"created user {ATTENDEES[0]}" in klass["output"]


def test_class_setup_runs_preflight(klass):
    assert "identity (STS)" in klass["output"] and ("ready" in klass["output"].splitlines()[-1])


def test_the_class_policy_fits_one_managed_policy():
    assert policy.compact_size(policy.attendee_policy(ACCOUNT, REGION)) <= policy.MANAGED_POLICY_MAX_CHARS
    studio = policy.attendee_policy(ACCOUNT, REGION, policy.SOURCE_IDENTITY_VARIABLE)
    assert policy.compact_size(studio) <= policy.MANAGED_POLICY_MAX_CHARS


def test_each_attendee_builds_in_their_own_prefix_under_the_one_policy(klass):
    for attendee in klass["attendees"]:
        lam = attendee.client("lambda")
        assert lam.invoke(FunctionName=attendee.function)["Payload"].read() == b'"ok"'
        assert attendee.client("dynamodb").describe_table(TableName=attendee.table)["Table"]["TableName"]


def crossings(me: Attendee, other: Attendee) -> dict:
    """Each way one attendee could reach into another's prefix."""
    return {
        "read": lambda: me.client("dynamodb").get_item(TableName=other.table, Key={"k": {"S": "x"}}),
        "write": lambda: me.client("dynamodb").put_item(TableName=other.table, Item={"k": {"S": "x"}}),
        "delete": lambda: me.client("dynamodb").delete_table(TableName=other.table),
        "pass role": lambda: me.client("lambda").create_function(
            FunctionName=f"{me.prefix}-borrowed",
            Runtime="python3.13",
            Role=other.role_arn,
            Handler="app.lambda_handler",
            Code={"ZipFile": code()},
        ),
        "invoke": lambda: me.client("lambda").invoke(FunctionName=other.function),
        "update code": lambda: me.client("lambda").update_function_code(
            FunctionName=other.function, ZipFile=code()
        ),
    }


@pytest.mark.parametrize("attempt", ["read", "write", "delete", "pass role", "invoke", "update code"])
def test_nothing_in_another_attendees_prefix(klass, attempt):
    ana, bob, cyd = klass["attendees"]
    for me, other in ((bob, ana), (cyd, bob), (ana, cyd)):
        assert denied(crossings(me, other)[attempt]) in ("AccessDeniedException", "AccessDenied")


def test_a_role_without_the_boundary_cannot_be_created(klass):
    ana = klass["attendees"][0]
    refused = denied(
        lambda: ana.client("iam").create_role(
            RoleName=f"{ana.prefix}-free",
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
            Tags=[{"Key": policy.PREFIX_TAG, "Value": ana.prefix}],
        )
    )
    assert refused == "AccessDenied"


def test_a_role_tagged_with_another_attendees_prefix_cannot_be_created(klass):
    ana, bob, _ = klass["attendees"]
    refused = denied(
        lambda: ana.client("iam").create_role(
            RoleName=f"{ana.prefix}-disguised",
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
            PermissionsBoundary=BOUNDARY,
            Tags=[{"Key": policy.PREFIX_TAG, "Value": bob.prefix}],
        )
    )
    assert refused == "AccessDenied"


def test_ones_role_cannot_be_retagged_with_another_prefix(klass):
    ana, bob, _ = klass["attendees"]
    assert (
        denied(
            lambda: ana.client("iam").tag_role(
                RoleName=ana.role, Tags=[{"Key": policy.PREFIX_TAG, "Value": bob.prefix}]
            )
        )
        == "AccessDenied"
    )


@pytest.mark.parametrize(
    "escape",
    ["delete the boundary", "replace the boundary", "rewrite the boundary", "attach AdministratorAccess"],
)
def test_the_boundary_cannot_be_removed_replaced_or_rewritten(klass, escape):
    ana = klass["attendees"][0]
    iam = ana.client("iam")
    calls = {
        "delete the boundary": lambda: iam.delete_role_permissions_boundary(RoleName=ana.role),
        "replace the boundary": lambda: iam.put_role_permissions_boundary(
            RoleName=ana.role, PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        "rewrite the boundary": lambda: iam.create_policy_version(
            PolicyArn=BOUNDARY, PolicyDocument=json.dumps(EVERYTHING), SetAsDefault=True
        ),
        "attach AdministratorAccess": lambda: iam.attach_role_policy(
            RoleName=ana.role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
    }
    assert denied(calls[escape]) == "AccessDenied"


def test_a_role_not_of_ones_prefix_cannot_be_passed_to_a_new_function(klass, local_cloud):
    # PassExistingRoleToNewLambdaThenInvoke with the instructor's own role.
    iam = klass["iam"]
    admin_role = f"instructor-admin-{RUN}"
    iam.create_role(RoleName=admin_role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.put_role_policy(RoleName=admin_role, PolicyName="all", PolicyDocument=json.dumps(EVERYTHING))
    ana = klass["attendees"][0]
    refused = denied(
        lambda: ana.client("lambda").create_function(
            FunctionName=f"{ana.prefix}-escape",
            Runtime="python3.13",
            Role=f"arn:aws:iam::{ACCOUNT}:role/{admin_role}",
            Handler="app.lambda_handler",
            Code={"ZipFile": code()},
        )
    )
    assert refused == "AccessDeniedException"


def test_everything_written_onto_ones_own_role_stays_inside_the_boundary(klass):
    # PutRolePolicy *:* on one's own Lambda role, then UpdateAndInvokeLambdaFunction: the function gets nothing
    # outside the attendee's prefix, and nothing of IAM.
    ana, bob, _ = klass["attendees"]
    ana.client("iam").put_role_policy(
        RoleName=ana.role, PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING)
    )
    lam = ana.client("lambda")
    lam.update_function_code(FunctionName=ana.function, ZipFile=code(ESCAPE))
    deadline = time.monotonic() + 60
    while lam.get_function(FunctionName=ana.function)["Configuration"].get("LastUpdateStatus") not in (
        "Successful",
        None,
    ):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    answer = lam.invoke(FunctionName=ana.function, Payload=json.dumps({"other": bob.prefix}).encode())
    outcome = json.loads(answer["Payload"].read())
    assert outcome == {
        "read another's table": "AccessDeniedException",
        "delete another's table": "AccessDeniedException",
        "create an IAM user": "AccessDenied",
        "list every bucket": "AccessDenied",
    }, outcome
