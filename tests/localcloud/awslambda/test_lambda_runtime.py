"""The local cloud runs Lambda handlers as AWS does: logs, errors, timeouts, warm reuse, environment, metrics."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
import zipfile
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kit_world import execution_role

REGION = "us-east-1"
ACCOUNT = "123456789012"
REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REPORT = re.compile(
    rf"^REPORT RequestId: ({REQUEST_ID})\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\t"
    r"Memory Size: (\d+) MB\tMax Memory Used: (\d+) MB(\tInit Duration: \d+\.\d\d ms)?"
)
COUNTER = """
    import time

    calls = 0

    def handler(event, context):
        global calls
        calls += 1
        if event.get("fail"):
            raise RuntimeError("asked to fail")
        time.sleep(event.get("sleep", 0))
        return calls
"""  # counts its calls in this environment; {"fail": true} raises, {"sleep": s} takes s seconds


@pytest.fixture(scope="module")
def aws(local_cloud):
    """boto3 clients for the local cloud."""

    def make(service: str):
        return boto3.client(service, endpoint_url=local_cloud, region_name=REGION)

    return SimpleNamespace(
        url=local_cloud, lam=make("lambda"), logs=make("logs"), cloudwatch=make("cloudwatch"),
        iam=make("iam"), s3=make("s3"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def role(aws) -> str:
    """An execution role Lambda may assume, allowed to write into the tests' buckets."""
    writes = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::test-lambda-runtime-*/*"}
    return execution_role(
        aws.iam, f"test-lambda-runtime-{uuid.uuid4().hex[:8]}", "lambda.amazonaws.com", writes
    )


@pytest.fixture(scope="module")
def bucket(aws) -> str:
    """A bucket handlers write into (side effects the test can observe)."""
    name = f"test-lambda-runtime-{uuid.uuid4().hex[:8]}"
    aws.s3.create_bucket(Bucket=name)
    return name


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package of {file name: source text}."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return out.getvalue()


@pytest.fixture()
def deploy(aws, role):
    """Create a function with a unique name from inline handler source; return its name."""

    def create(source: str, handler: str = "lambda_function.handler", **config) -> str:
        name = f"fn-{uuid.uuid4().hex[:16]}"
        aws.lam.create_function(
            FunctionName=name, Runtime="python3.13", Role=role, Handler=handler,
            Code={"ZipFile": zip_of({"lambda_function.py": source})}, **{"Timeout": 10, **config},
        )  # fmt: skip
        return name

    return create


def invoke(aws, name: str, event=None, **kwargs) -> tuple[dict, object]:
    """Invoke synchronously; return the raw answer and the decoded payload."""
    answer = aws.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    body = answer["Payload"].read()
    return answer, json.loads(body) if body else None


def log_streams(aws, name: str) -> list[str]:
    """The function's log stream names, oldest first ([] when the group does not exist)."""
    try:
        streams = aws.logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return []
    return [s["logStreamName"] for s in sorted(streams, key=lambda s: s["creationTime"])]


def log_messages(aws, name: str) -> list[str]:
    """Every log event message of the function, stream by stream, in order."""
    messages = []
    for stream in log_streams(aws, name):
        token = None
        while True:
            extra = {"nextToken": token} if token else {}
            page = aws.logs.get_log_events(
                logGroupName=f"/aws/lambda/{name}", logStreamName=stream, startFromHead=True, **extra
            )
            messages += [e["message"] for e in page["events"]]
            if not page["events"] or page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
    return messages


def between_start_and_end(messages: list[str]) -> list[str]:
    """The events a single invocation logged itself (between its START and END lines)."""
    start = next(i for i, m in enumerate(messages) if m.startswith("START RequestId: "))
    end = next(i for i, m in enumerate(messages) if m.startswith("END RequestId: "))
    return messages[start + 1 : end]


def reports(aws, name: str) -> list[str]:
    """The REPORT lines of the function, in order."""
    return [m for m in log_messages(aws, name) if m.startswith("REPORT ")]


def metric_sum(aws, name: str, metric: str, statistic: str = "Sum") -> float | None:
    """An AWS/Lambda statistic for the function over the last ten minutes (None without datapoints)."""
    now = dt.datetime.now(dt.UTC)
    points = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric, Dimensions=[{"Name": "FunctionName", "Value": name}],
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1),
        Period=600, Statistics=[statistic],
    )["Datapoints"]  # fmt: skip
    return sum(p[statistic] for p in points) if points else None


def wait_for(check, timeout_s: float = 15.0):
    """Poll check() until it returns something truthy; return it (fail after timeout_s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"nothing after {timeout_s} s")


# -- log lines ------------------------------------------------------------------------------------


def test_invocation_is_framed_by_start_end_and_report_lines(aws, deploy):
    name = deploy(COUNTER, MemorySize=256)
    invoke(aws, name)
    start, end, report = log_messages(aws, name)
    request_id = re.fullmatch(rf"START RequestId: ({REQUEST_ID}) Version: \$LATEST", start).group(1)
    assert end == f"END RequestId: {request_id}"
    match = REPORT.match(report)
    assert match and match.group(1) == request_id
    duration, billed, memory = float(match.group(2)), int(match.group(3)), int(match.group(4))
    assert billed == max(1, int(-(-duration // 1))) and memory == 256


def test_invoke_answer_carries_the_invocation_request_id(aws, deploy):
    name = deploy("def handler(event, context):\n    return context.aws_request_id\n")
    answer, request_id = invoke(aws, name)
    assert answer["ResponseMetadata"]["RequestId"] == request_id
    assert log_messages(aws, name)[0].startswith(f"START RequestId: {request_id} ")


def test_log_stream_is_named_by_date_version_and_environment(aws, deploy):
    name = deploy(COUNTER)
    invoke(aws, name)
    invoke(aws, name)
    today = dt.datetime.now(dt.UTC)
    [stream] = log_streams(aws, name)  # one warm environment served both calls
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream)
    assert stream[:10] in {f"{today:%Y/%m/%d}", f"{today - dt.timedelta(minutes=1):%Y/%m/%d}"}


def test_init_duration_is_reported_on_the_cold_start_only(aws, deploy):
    name = deploy(COUNTER)
    invoke(aws, name)
    invoke(aws, name)
    first, second = reports(aws, name)
    assert re.search(r"\tInit Duration: \d+\.\d\d ms$", first)
    assert "Init Duration" not in second


def test_each_printed_line_is_one_log_event(aws, deploy):
    name = deploy("""
        import sys

        def handler(event, context):
            print("one\\ntwo")
            print("three")
            sys.stderr.write("four\\n")
    """)
    invoke(aws, name)
    assert between_start_and_end(log_messages(aws, name)) == ["one", "two", "three", "four"]


def test_logging_records_use_the_lambda_format(aws, deploy):
    name = deploy("""
        import logging

        logger = logging.getLogger()
        logger.setLevel(logging.INFO)

        def handler(event, context):
            logger.info("scored %d rows", 3)
            return context.aws_request_id
    """)
    _, request_id = invoke(aws, name)
    [record] = between_start_and_end(log_messages(aws, name))
    assert re.fullmatch(
        rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tscored 3 rows", record
    ), record


def test_multiline_logging_record_is_one_event(aws, deploy):
    name = deploy("""
        import logging

        def handler(event, context):
            logging.warning("first line\\nsecond line")
    """)
    invoke(aws, name)
    [record] = between_start_and_end(log_messages(aws, name))
    assert record.startswith("[WARNING]\t") and record.endswith("\tfirst line\nsecond line")


def test_root_logger_level_is_warning_by_default(aws, deploy):
    name = deploy("""
        import logging

        def handler(event, context):
            logging.getLogger().info("hidden")
            logging.getLogger().warning("shown")
    """)
    invoke(aws, name)
    [record] = between_start_and_end(log_messages(aws, name))
    assert record.endswith("\tshown")


# -- errors and faults ----------------------------------------------------------------------------


FAILING = """
    def handler(event, context):
        return divide(1, 0)

    def divide(a, b):
        return a / b
"""


def test_unhandled_exception_answers_the_real_error(aws, deploy):
    name = deploy(FAILING)
    answer, payload = invoke(aws, name)
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ZeroDivisionError"
    assert payload["errorMessage"] == "division by zero"
    assert re.fullmatch(REQUEST_ID, payload["requestId"])
    assert [frame.splitlines()[0] for frame in payload["stackTrace"]] == [
        '  File "/var/task/lambda_function.py", line 3, in handler',
        '  File "/var/task/lambda_function.py", line 6, in divide',
    ]


def test_unhandled_exception_traceback_is_logged_as_one_event(aws, deploy):
    name = deploy(FAILING)
    invoke(aws, name)
    [event] = between_start_and_end(log_messages(aws, name))
    lines = event.split("\n")
    assert lines[:2] == ["[ERROR] ZeroDivisionError: division by zero", "Traceback (most recent call last):"]
    assert '  File "/var/task/lambda_function.py", line 6, in divide' in lines
    assert "    return a / b" in lines


def test_unhandled_exception_keeps_the_environment_warm(aws, deploy):
    name = deploy(COUNTER)
    invoke(aws, name, {"fail": True})
    assert invoke(aws, name)[1] == 2


def test_timeout_answers_task_timed_out(aws, deploy):
    name = deploy("import time\n\ndef handler(event, context):\n    time.sleep(30)\n", Timeout=1)
    answer, payload = invoke(aws, name)
    assert answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        rf"RequestId: {REQUEST_ID} Error: Task timed out after 1\.00 seconds", payload["errorMessage"]
    )


def test_timeout_is_logged(aws, deploy):
    name = deploy("import time\n\ndef handler(event, context):\n    time.sleep(30)\n", Timeout=1)
    invoke(aws, name)
    messages = log_messages(aws, name)
    request_id = messages[0].split()[2]
    assert any(
        re.fullmatch(
            rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {request_id} Task timed out after 1\.00 seconds", m
        )
        for m in messages
    ), messages
    assert REPORT.match(messages[-1]) and "Duration: 1000.00 ms" in messages[-1]


def test_call_after_a_timeout_starts_a_new_environment(aws, deploy):
    name = deploy(COUNTER, Timeout=1)
    invoke(aws, name, {"sleep": 30})
    _, calls = invoke(aws, name)
    assert calls == 1
    assert "Init Duration" in reports(aws, name)[-1]
    assert len(log_streams(aws, name)) == 2


def test_timeout_kills_the_handlers_child_processes(aws, deploy, tmp_path):
    marker = tmp_path / "child-was-here"
    name = deploy(f"""
        import subprocess, sys

        def handler(event, context):
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5); open({str(marker)!r}, 'w')"])
            import time
            time.sleep(30)
    """, Timeout=1)  # fmt: skip
    invoke(aws, name)
    time.sleep(1.0)
    assert not marker.exists()


def test_handler_exiting_the_process_answers_runtime_exit_error(aws, deploy):
    name = deploy("import os\n\ndef handler(event, context):\n    print('bye')\n    os._exit(3)\n")
    answer, payload = invoke(aws, name)
    assert answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    assert "bye" in log_messages(aws, name)


def test_cloud_still_answers_after_a_handler_exits_the_process(aws, deploy):
    name = deploy(
        "import os\n\ndef handler(event, context):\n    if event.get('exit'):\n        os._exit(1)\n    return 'alive'\n"
    )
    invoke(aws, name, {"exit": True})
    assert aws.lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    assert invoke(aws, name)[1] == "alive"


def test_handler_printing_megabytes_is_answered_and_logged(aws, deploy):
    name = deploy("""
        def handler(event, context):
            print("é" * 700_000)  # one 1.4 MB line (two bytes per character)
            for i in range(3000):
                print(f"line {i} " + "x" * 500)
            return "done"
    """)
    _, payload = invoke(aws, name)
    assert payload == "done"
    logged = between_start_and_end(log_messages(aws, name))
    assert max(len(m.encode()) for m in logged) <= 256 * 1024 - 26  # CloudWatch's event size limit
    assert "".join(m for m in logged if m.startswith("é")) == "é" * 700_000
    assert logged[-1] == "line 2999 " + "x" * 500


def test_import_error_answers_import_module_error(aws, deploy):
    name = deploy("import not_a_module_anywhere\n\ndef handler(event, context):\n    return 1\n")
    answer, payload = invoke(aws, name)
    assert answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == (
        "Unable to import module 'lambda_function': No module named 'not_a_module_anywhere'"
    )


def test_a_package_aws_runtime_lacks_cannot_be_imported(aws, deploy):
    name = deploy("import pandas\n\ndef handler(event, context):\n    return 1\n")
    answer, payload = invoke(aws, name)
    assert answer["FunctionError"] == "Unhandled"
    assert payload == {
        "errorMessage": "Unable to import module 'lambda_function': No module named 'pandas'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": answer["ResponseMetadata"]["RequestId"],
        "stackTrace": [],
    }


def test_an_import_failure_is_logged_as_aws_logs_it(aws, deploy):
    name = deploy("import pandas\n\ndef handler(event, context):\n    return 1\n")
    invoke(aws, name)
    [event] = between_start_and_end(log_messages(aws, name))
    assert event.split("\n") == [
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'lambda_function': No module named 'pandas'",
        "Traceback (most recent call last):",
    ]


def test_only_the_runtime_packages_are_importable_beside_the_standard_library(aws, deploy):
    name = deploy("""
        import importlib.util

        def handler(event, context):
            names = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3",
                     "numpy", "pandas", "moto", "pytest", "helpers", "xgboost", "worker", "certifi"]
            return [n for n in names if importlib.util.find_spec(n) is not None]
    """)  # fmt: skip
    assert invoke(aws, name)[1] == [
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "dateutil",
        "six",
        "urllib3",
    ]


def test_the_runtime_packages_import_and_work(aws, deploy):
    name = deploy("""
        import boto3, botocore, dateutil.parser, jmespath, s3transfer, six, urllib3

        def handler(event, context):
            boto3.client("s3")
            return jmespath.search("a.b", {"a": {"b": dateutil.parser.isoparse("2026-11-27T12:00:00Z").year}})
    """)  # fmt: skip
    assert invoke(aws, name)[1] == 2026


def test_the_builtins_site_adds_exist(aws, deploy):
    name = deploy(
        "def handler(event, context):\n    return [callable(exit), callable(quit), callable(help)]\n"
    )
    assert invoke(aws, name)[1] == [True, True, True]


def test_the_zips_own_packages_come_first(aws, role):
    name = f"fn-{uuid.uuid4().hex[:16]}"
    package = zip_of({"lambda_function.py": "import six\n\ndef handler(event, context):\n    return six.VERSION\n",
                      "six.py": "VERSION = 'bundled'\n"})  # fmt: skip
    aws.lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="lambda_function.handler",
                            Code={"ZipFile": package})  # fmt: skip
    assert invoke(aws, name)[1] == "bundled"


def test_stack_frames_in_runtime_packages_show_aws_paths(aws, deploy):
    name = deploy("import boto3\n\ndef handler(event, context):\n    boto3.client('no-such-service')\n")
    _, payload = invoke(aws, name)
    assert payload["errorType"] == "UnknownServiceError"
    assert any(frame.startswith('  File "/var/runtime/boto3/') for frame in payload["stackTrace"]), payload


def test_missing_handler_function_answers_handler_not_found(aws, deploy):
    name = deploy("def other(event, context):\n    return 1\n")
    _, payload = invoke(aws, name)
    assert payload["errorType"] == "Runtime.HandlerNotFound"
    assert payload["errorMessage"] == "Handler 'handler' missing on module 'lambda_function'"


def test_unserialisable_result_answers_marshal_error(aws, deploy):
    name = deploy("def handler(event, context):\n    return object()\n")
    _, payload = invoke(aws, name)
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"].startswith("Unable to marshal response: ")


def test_missing_function_is_resource_not_found(aws):
    with pytest.raises(ClientError) as caught:
        aws.lam.invoke(FunctionName="no-such-function-here", Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-function-here"
    )


def test_zero_reserved_concurrency_throttles(aws, deploy):
    name = deploy(COUNTER)
    aws.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    once = boto3.client(
        "lambda", endpoint_url=aws.url, region_name=REGION, config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as caught:
        once.invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert metric_sum(aws, name, "Throttles") == 1.0
    assert log_streams(aws, name) == []


# -- environment and context ----------------------------------------------------------------------


ENVIRONMENT = "import os\n\ndef handler(event, context):\n    return dict(os.environ)\n"


def test_module_state_survives_between_warm_invocations(aws, deploy):
    name = deploy(COUNTER)
    assert [invoke(aws, name)[1] for _ in range(3)] == [1, 2, 3]


def test_environment_names_the_function_and_its_log_stream(aws, deploy):
    name = deploy(ENVIRONMENT, MemorySize=512)
    _, env = invoke(aws, name)
    assert {k: env.get(k) for k in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                                    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_EXECUTION_ENV", "_HANDLER")} == {
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "_HANDLER": "lambda_function.handler",
    }  # fmt: skip
    assert [env["AWS_LAMBDA_LOG_STREAM_NAME"]] == log_streams(aws, name)


def test_environment_holds_the_function_variables(aws, deploy):
    name = deploy(ENVIRONMENT, Environment={"Variables": {"ENDPOINT_NAME": "ep-1", "THRESHOLD": "0.5"}})
    _, env = invoke(aws, name)
    assert (env["ENDPOINT_NAME"], env["THRESHOLD"]) == ("ep-1", "0.5")


def test_environment_points_boto3_at_the_local_cloud(aws, deploy):
    name = deploy(ENVIRONMENT)
    _, env = invoke(aws, name)
    assert env["AWS_ENDPOINT_URL"] == aws.url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]


def test_task_root_holds_the_deployed_code(aws, deploy):
    name = deploy(
        "import os\n\ndef handler(event, context):\n    return sorted(os.listdir(os.environ['LAMBDA_TASK_ROOT']))\n"
    )
    assert invoke(aws, name)[1] == ["lambda_function.py"]


def test_context_object_describes_the_invocation(aws, deploy):
    name = deploy("""
        def handler(event, context):
            return {
                "aws_request_id": context.aws_request_id,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining_ms": context.get_remaining_time_in_millis(),
            }
    """, Timeout=7, MemorySize=192)  # fmt: skip
    _, ctx = invoke(aws, name)
    assert log_messages(aws, name)[0].startswith(f"START RequestId: {ctx['aws_request_id']} ")
    assert ctx["function_name"] == name and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert int(ctx["memory_limit_in_mb"]) == 192
    assert ctx["log_group_name"] == f"/aws/lambda/{name}" and [ctx["log_stream_name"]] == log_streams(
        aws, name
    )
    assert 5000 < ctx["remaining_ms"] <= 7000


def test_handler_can_call_back_into_the_local_cloud(aws, deploy, bucket):
    name = deploy("""
        import boto3

        def handler(event, context):
            boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=b"written by lambda")
            return "ok"
    """)  # fmt: skip
    key = f"callback/{uuid.uuid4().hex}"
    assert invoke(aws, name, {"bucket": bucket, "key": key})[1] == "ok"
    assert aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"written by lambda"


# -- invocation types and log tail ----------------------------------------------------------------


def test_event_invocation_answers_202_and_runs_the_handler(aws, deploy, bucket):
    name = deploy("""
        import boto3

        def handler(event, context):
            boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=b"async")
    """)  # fmt: skip
    key = f"event/{uuid.uuid4().hex}"
    answer = aws.lam.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"bucket": bucket, "key": key})
    )
    assert answer["StatusCode"] == 202 and answer["Payload"].read() == b""

    def written() -> bool:
        return any(
            o["Key"] == key for o in aws.s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
        )

    wait_for(written)


def test_dry_run_answers_204_without_running(aws, deploy):
    name = deploy(COUNTER)
    answer = aws.lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert answer["StatusCode"] == 204
    assert log_streams(aws, name) == []
    assert invoke(aws, name)[1] == 1


def test_log_tail_is_the_last_4_kb_of_the_invocation_log(aws, deploy):
    name = deploy(
        "def handler(event, context):\n    for i in range(200):\n        print(f'line {i:04d} ' + 'y' * 40)\n"
    )
    answer, _ = invoke(aws, name, LogType="Tail")
    tail = base64.b64decode(answer["LogResult"])
    assert 4000 < len(tail) <= 4096
    text = tail.decode()
    assert "line 0199 " in text and "line 0000 " not in text
    assert REPORT.match(text.rstrip("\n").split("\n")[-1])


def test_no_log_tail_unless_asked(aws, deploy):
    name = deploy(COUNTER)
    answer, _ = invoke(aws, name)
    assert "LogResult" not in answer


# -- metrics and updates --------------------------------------------------------------------------


def test_metrics_count_invocations_errors_and_duration_per_function(aws, deploy):
    name = deploy(
        "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('no')\n    return 1\n"
    )
    for event in ({}, {"fail": True}, {}):
        invoke(aws, name, event)
    assert metric_sum(aws, name, "Invocations") == 3.0
    assert metric_sum(aws, name, "Errors") == 1.0
    assert metric_sum(aws, name, "Duration", "SampleCount") == 3.0
    assert metric_sum(aws, name, "Duration", "Maximum") > 0.0


def test_code_update_takes_effect_on_the_next_invocation(aws, deploy):
    name = deploy("def handler(event, context):\n    return 'v1'\n")
    assert invoke(aws, name)[1] == "v1"
    aws.lam.update_function_code(
        FunctionName=name, ZipFile=zip_of({"lambda_function.py": "def handler(e, c):\n    return 'v2'\n"})
    )
    aws.lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert invoke(aws, name)[1] == "v2"
    assert "Init Duration" in reports(aws, name)[-1]


def test_configuration_update_takes_effect_on_the_next_invocation(aws, deploy):
    name = deploy(
        "import os\n\ndef handler(event, context):\n    return os.environ['COLOR']\n",
        Environment={"Variables": {"COLOR": "blue"}},
    )
    assert invoke(aws, name)[1] == "blue"
    aws.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"COLOR": "green"}})
    aws.lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert invoke(aws, name)[1] == "green"


# -- the AWS CLI ----------------------------------------------------------------------------------


def test_aws_cli_lists_invokes_and_reads_logs(aws, deploy, tmp_path):
    name = deploy("def handler(event, context):\n    print('hello from the cli test')\n    return 42\n")
    env = {**os.environ, "AWS_ENDPOINT_URL": aws.url, "AWS_DEFAULT_REGION": REGION}

    def cli(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "awscli", *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout

    assert name in [
        f["FunctionName"]
        for f in json.loads(cli("lambda", "list-functions", "--output", "json"))["Functions"]
    ]
    out = tmp_path / "out.json"
    cli("lambda", "invoke", "--function-name", name, str(out))
    assert json.loads(out.read_text()) == 42
    events = json.loads(
        cli("logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{name}", "--output", "json")
    )
    assert "hello from the cli test" in [e["message"] for e in events["events"]]


# -- concurrency and asynchronous retries ---------------------------------------------------------


def test_concurrent_invocations_run_in_separate_environments(aws, deploy):
    import threading

    name = deploy(
        "import os, time\n\ndef handler(event, context):\n    time.sleep(0.5)\n    return os.getpid()\n"
    )
    pids = []
    calls = [threading.Thread(target=lambda: pids.append(invoke(aws, name)[1])) for _ in range(2)]
    for call in calls:
        call.start()
    for call in calls:
        call.join()
    assert len(set(pids)) == 2
    assert len(log_streams(aws, name)) == 2


def test_reserved_concurrency_of_one_throttles_a_second_concurrent_call(aws, deploy, bucket):
    import threading

    name = deploy("""
        import time
        import boto3

        def handler(event, context):
            boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=b"started")
            time.sleep(event.get("sleep", 0))
            return "done"
    """)  # fmt: skip
    aws.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    key = f"busy/{uuid.uuid4().hex}"
    results = []
    first = threading.Thread(
        target=lambda: results.append(invoke(aws, name, {"bucket": bucket, "key": key, "sleep": 1.5})[1])
    )
    first.start()
    wait_for(lambda: aws.s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))
    once = boto3.client(
        "lambda", endpoint_url=aws.url, region_name=REGION, config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as caught:
        once.invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket, "key": key + "-second"}))
    first.join()
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert results == ["done"]


def test_function_created_again_under_the_same_name_starts_cold(aws, deploy, role):
    name = deploy(COUNTER)
    assert [invoke(aws, name)[1] for _ in range(2)] == [1, 2]
    aws.lam.delete_function(FunctionName=name)
    aws.lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="lambda_function.handler",
                            Code={"ZipFile": zip_of({"lambda_function.py": COUNTER})}, Timeout=10)  # fmt: skip
    assert invoke(aws, name)[1] == 1


def test_failing_event_invocation_is_retried_twice(aws, deploy):
    name = deploy("def handler(event, context):\n    raise RuntimeError('always')\n")
    answer = aws.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")

    def three_attempts() -> list[str]:
        starts = [m for m in log_messages(aws, name) if m.startswith("START ")]
        return starts if len(starts) == 3 else []

    starts = wait_for(three_attempts, timeout_s=20)
    # every attempt keeps the request id the 202 answer named
    assert {line.split()[2] for line in starts} == {answer["ResponseMetadata"]["RequestId"]}
    time.sleep(0.5)
    assert len([m for m in log_messages(aws, name) if m.startswith("START ")]) == 3


def test_deleting_a_function_stops_its_warm_environments(aws, deploy):
    name = deploy("import os\ndef handler(event, context):\n    return os.getpid()\n")
    _, pid = invoke(aws, name)
    os.kill(pid, 0)  # the environment is alive and warm
    aws.lam.delete_function(FunctionName=name)
    wait_for(lambda: not _process_alive(pid))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


# -- the account's concurrency quota --------------------------------------------------------------

SLEEPER = """
    import time
    import boto3

    def handler(event, context):
        if event.get("key"):
            boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=b"started")
        time.sleep(event.get("sleep", 0))
        return "done"
"""


@pytest.fixture()
def account_quota():
    """Set the account's concurrent-executions quota for one test: account_quota(n) leaves n unreserved."""
    from localcloud import profile
    from localcloud.awslambda import runtime as lambda_runtime

    current = profile.current()

    def use(unreserved: int) -> None:
        # Other tests' functions hold reservations, which AWS takes from the quota first.
        limit = unreserved + lambda_runtime.reserved_concurrency(ACCOUNT, REGION)
        quotas = {**current.quotas, "lambda_concurrent_executions": limit}
        profile.use(profile.Profile(name=current.name, seed=current.seed, scale=current.scale, quotas=quotas))

    yield use
    profile.use(current)


def running(aws, name: str, bucket: str):
    """Start a 1.5 s invocation of name in a thread and return it once the handler runs."""
    import threading

    key = f"running/{uuid.uuid4().hex}"
    call = threading.Thread(target=invoke, args=(aws, name, {"bucket": bucket, "key": key, "sleep": 1.5}))
    call.start()
    wait_for(lambda: aws.s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))
    return call


def throttled(aws, name: str) -> dict:
    """The error response of an invocation of name that must be throttled (tried once)."""
    once = boto3.client(
        "lambda", endpoint_url=aws.url, region_name=REGION, config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as caught:
        once.invoke(FunctionName=name, Payload=b"{}")
    return caught.value.response


def test_invocations_beyond_the_account_quota_are_throttled_across_functions(
    aws, deploy, bucket, account_quota
):
    account_quota(1)
    busy, other = deploy(SLEEPER), deploy(SLEEPER)
    call = running(aws, busy, bucket)
    error = throttled(aws, other)
    call.join()
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert (error["Error"]["Code"], error["Error"]["Message"]) == (
        "TooManyRequestsException",
        "Rate Exceeded.",
    )
    assert (error["Reason"], error["Type"]) == ("ConcurrentInvocationLimitExceeded", "User")
    assert metric_sum(aws, other, "Throttles") == 1.0
    assert invoke(aws, other)[1] == "done"  # the slot is free again


def test_a_reserved_function_runs_when_the_unreserved_pool_is_full(aws, deploy, bucket, account_quota):
    account_quota(2)
    reserved, busy, other = deploy(SLEEPER), deploy(SLEEPER), deploy(SLEEPER)
    aws.lam.put_function_concurrency(
        FunctionName=reserved, ReservedConcurrentExecutions=1
    )  # leaves 1 unreserved
    call = running(aws, busy, bucket)
    assert invoke(aws, reserved)[1] == "done"
    error = throttled(aws, other)
    call.join()
    assert error["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_an_event_beyond_the_account_quota_is_accepted_and_runs_when_a_slot_frees(
    aws, deploy, bucket, account_quota
):
    account_quota(1)
    busy, queued = deploy(SLEEPER), deploy(SLEEPER)
    call = running(aws, busy, bucket)
    key = f"queued/{uuid.uuid4().hex}"
    answer = aws.lam.invoke(
        FunctionName=queued, InvocationType="Event", Payload=json.dumps({"bucket": bucket, "key": key})
    )
    assert answer["StatusCode"] == 202
    call.join()
    wait_for(lambda: aws.s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))
    assert metric_sum(aws, queued, "Throttles") >= 1.0


def test_a_handler_runs_on_its_runtimes_python_version_when_the_machine_has_it(aws, deploy):
    from localcloud.awslambda import pythons as lambda_pythons

    if lambda_pythons.interpreter("python3.13") == sys.executable and sys.version_info[:2] != (3, 13):
        pytest.skip("no Python 3.13 on this machine: handlers run on the kit's own Python")
    name = deploy("import sys\ndef handler(event, context):\n    return list(sys.version_info[:2])\n")
    assert invoke(aws, name)[1] == [3, 13]


def test_a_runtime_whose_python_is_missing_runs_on_the_kits_own_and_says_so():
    from localcloud.awslambda import pythons as lambda_pythons

    assert lambda_pythons.interpreter("python3.99") == sys.executable
    assert "no Python 3.99 on this machine" in lambda_pythons.describe("python3.99")
    assert lambda_pythons.wanted_version("nodejs22.x") is None


def test_a_cold_start_leaves_boto3_compiled_for_the_runtime_s_python(aws, deploy):
    """AWS's runtime ships boto3 compiled; the worker writes no bytecode (-B), so the local cloud compiles
    the runtime's packages for the runtime's Python once instead of at every cold start."""
    from localcloud.awslambda import pythons as lambda_pythons
    from localcloud.awslambda.runtime import packages

    invoke(aws, deploy(COUNTER))
    tag = packages.cache_tag(lambda_pythons.interpreter("python3.13"))
    assert tag.startswith("cpython-")
    assert [
        folder.name for folder in packages._package_folders() if not packages._compiled(folder, tag)
    ] == []
