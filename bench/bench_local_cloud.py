"""Benchmark: the local cloud's start-up to first prediction, warm Lambda throughput, added latency.

Everything runs in one go against one freshly started local cloud (a background process on a
free port, its state in a temporary directory), and prints measured numbers beside the issue's
targets. It never fails on timing: it reports.

Run: .venv/bin/python bench/bench_local_cloud.py [N warm calls, default 500]
     .venv/bin/python bench/bench_local_cloud.py --against REV [--rounds 3]
       up -> first prediction only, for this tree and for git revision REV (e.g. main) side by side:
       each round starts a fresh local cloud from each tree in turn (alternating which goes first), so
       both share whatever else the machine is doing; it prints each step's median and the ratio.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__" and "--tree" in sys.argv:  # a side-by-side run: this tree's code, or REV's
    sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1])

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from helpers import model  # noqa: E402
from localcloud import client as process  # noqa: E402

REGION = "us-east-1"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})  # fmt: skip
# moto routes by the credential scope; it does not check signatures.
UNSIGNED_LAMBDA = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"
TRIVIAL = "def handler(event, context):\n    return event\n"


def allow(action: str, resource: str) -> str:
    """A one-statement identity policy (IAM is enforced for the roles' sessions)."""
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    )


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package of {name: source}."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def clients(url: str) -> dict:
    """boto3 clients for the cloud at url (no retries: one call is one request)."""
    once = Config(retries={"total_max_attempts": 1})
    return {s: boto3.client(s, endpoint_url=url, region_name=REGION, config=once)
            for s in ("s3", "iam", "sagemaker", "lambda")}  # fmt: skip


def up_to_first_prediction(port: int, trained: model.TrainedModel) -> tuple[dict[str, float], float]:
    """Seconds for each step from `up` to the chapter-7 Lambda's first prediction; and that prediction."""
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    status = process.up(port, quiet=True)
    steps["up (process start, ready)"] = time.perf_counter() - t0

    t = time.perf_counter()
    aws = clients(status.url)
    aws["s3"].create_bucket(Bucket="bench")
    aws["s3"].put_object(Bucket="bench", Key="model.tar.gz", Body=trained.artifact)
    sm_role = aws["iam"].create_role(
        RoleName="sm", AssumeRolePolicyDocument=TRUST.replace("lambda.", "sagemaker.")
    )["Role"]["Arn"]
    aws["iam"].put_role_policy(
        RoleName="sm", PolicyName="read", PolicyDocument=allow("s3:GetObject", "arn:aws:s3:::bench/*")
    )
    aws["sagemaker"].create_model(
        ModelName="m", ExecutionRoleArn=sm_role,
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                          "ModelDataUrl": "s3://bench/model.tar.gz"},
    )  # fmt: skip
    aws["sagemaker"].create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m",
                             "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}],
    )  # fmt: skip
    aws["sagemaker"].create_endpoint(EndpointName="e", EndpointConfigName="c")
    aws["sagemaker"].get_waiter("endpoint_in_service").wait(EndpointName="e", WaiterConfig={"Delay": 1})
    role = aws["iam"].create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    aws["iam"].put_role_policy(
        RoleName="fn",
        PolicyName="invoke",
        PolicyDocument=allow(
            "sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/e"
        ),
    )
    package = zip_of({"app.py": (Path(process.ROOT) / "lambda" / "chapter7" / "app.py").read_text()})
    aws["lambda"].create_function(
        FunctionName="chapter7", Runtime="python3.13", Role=role, Handler="app.lambda_handler",
        Code={"ZipFile": package}, Timeout=30, Environment={"Variables": {"ENDPOINT_NAME": "e"}},
    )  # fmt: skip
    aws["lambda"].get_waiter("function_active_v2").wait(FunctionName="chapter7")
    steps["create bucket, artifact, model, config, endpoint, roles, function"] = time.perf_counter() - t

    t = time.perf_counter()
    answer = aws["lambda"].invoke(
        FunctionName="chapter7", Payload=json.dumps({"features": model.SAMPLE_FEATURES[1]})
    )
    reply = json.loads(answer["Payload"].read())
    steps["first invoke (cold Lambda -> endpoint -> model)"] = time.perf_counter() - t
    steps["total"] = time.perf_counter() - t0
    if answer.get("FunctionError"):
        raise RuntimeError(f"the chapter-7 Lambda failed: {reply}")
    return steps, json.loads(reply["body"])["prediction"]


def interleaved_calls(lam, port: int, name: str, n: int) -> dict[str, list[float]]:
    """n rounds of: Invoke (boto3), GetFunctionConfiguration (boto3), Invoke (plain HTTP); times in ms.

    Interleaving makes the three series share whatever else the machine is doing.
    """
    lam.invoke(FunctionName=name, Payload=b"{}")  # the cold start, not counted
    series: dict[str, list[float]] = {"invoke": [], "duration": [], "plain": [], "raw_added": []}
    for i in range(n):
        t = time.perf_counter()
        answer = lam.invoke(FunctionName=name, Payload=json.dumps({"i": i}), LogType="Tail")
        answer["Payload"].read()
        series["invoke"].append((time.perf_counter() - t) * 1000)
        series["duration"].append(_duration_ms(answer["LogResult"]))

        t = time.perf_counter()
        lam.get_function_configuration(FunctionName=name)
        series["plain"].append((time.perf_counter() - t) * 1000)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t = time.perf_counter()
        conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=json.dumps({"i": i}),
                     headers={"X-Amz-Log-Type": "Tail", "Content-Type": "application/json",
                              "Authorization": UNSIGNED_LAMBDA})  # fmt: skip
        raw = conn.getresponse()
        raw.read()
        trip = (time.perf_counter() - t) * 1000
        conn.close()
        series["raw_added"].append(trip - _duration_ms(raw.getheader("x-amz-log-result")))
    return series


def _duration_ms(log_result: str) -> float:
    """The Duration of the REPORT line at the end of a base64 log tail."""
    report = base64.b64decode(log_result).decode().rstrip("\n").split("\n")[-1]
    return float(re.search(r"\tDuration: ([\d.]+) ms", report).group(1))


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main(n: int = 500) -> None:
    """Run the three measurements on one fresh local cloud and print them beside the targets."""
    os.environ["WORKSHOP_STATE_DIR"] = tempfile.mkdtemp(prefix="bench-local-cloud-")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # the local cloud accepts any credentials
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    t = time.perf_counter()
    trained = model.train()
    training_s = time.perf_counter() - t
    try:
        steps, prediction = up_to_first_prediction(port, trained)
        expected = model.predict(model.load_booster(trained.artifact), [model.SAMPLE_FEATURES[1]])[0]
        lam = clients(f"http://127.0.0.1:{port}")["lambda"]
        role = clients(f"http://127.0.0.1:{port}")["iam"].get_role(RoleName="fn")["Role"]["Arn"]
        lam.create_function(FunctionName="trivial", Runtime="python3.13", Role=role, Handler="lambda_function.handler",
                            Code={"ZipFile": zip_of({"lambda_function.py": TRIVIAL})})  # fmt: skip
        series = interleaved_calls(lam, port, "trivial", n)
    finally:
        print(process.down(port))

    trips, durations, plain_trips, raw_added = (
        series[k] for k in ("invoke", "duration", "plain", "raw_added")
    )
    rate, plain_rate = 1000 * n / sum(trips), 1000 * n / sum(plain_trips)
    added = statistics.median(t - d for t, d in zip(trips, durations, strict=True))
    beyond_plain = statistics.median(trips) - statistics.median(plain_trips)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nmachine: {os.cpu_count()} CPUs, load average {load} (other work on the machine skews every number below)"
    )
    print(
        f"model training (before the clock starts): {training_s:.2f} s; "
        f"prediction {prediction:.6f}, in-process model {expected:.6f}, equal: {abs(prediction - expected) < 1e-9}"
    )
    print("\nfrom `up` to the first Lambda -> endpoint prediction:")
    for step, seconds in steps.items():
        print(f"  {step:<66} {seconds:6.2f} s")
    print(f"\n{n} rounds of warm calls, interleaved (client on the same machine):")
    print(
        f"  Invoke round trip (boto3)        median {statistics.median(trips):6.2f} ms   p90 {statistics.quantiles(trips, n=10)[-1]:6.2f} ms"
    )
    print(f"  handler Duration (REPORT line)   median {statistics.median(durations):6.2f} ms")
    print(
        f"  GetFunctionConfiguration (boto3) median {statistics.median(plain_trips):6.2f} ms   "
        f"({plain_rate:.0f} calls/s: the plain API call, for comparison)"
    )

    rows = [
        (
            "up -> first Lambda->endpoint prediction",
            "<= 3 s",
            f"{steps['total']:.2f} s",
            steps["total"] <= 3.0,
        ),
        ("warm trivial invocations, sequential, boto3", ">= 100 /s", f"{rate:.0f} /s", rate >= 100),
        ("  (GetFunctionConfiguration, same loop)", "", f"{plain_rate:.0f} /s", True),
        ("added latency (a): Invoke - Duration, boto3", "<= 5 ms", f"{added:.2f} ms", added <= 5.0),
        (
            "added latency (b): Invoke - Duration, raw HTTP",
            "<= 5 ms",
            f"{statistics.median(raw_added):.2f} ms",
            statistics.median(raw_added) <= 5.0,
        ),
        (
            "added latency (c): Invoke - GetFunction, boto3",
            "<= 5 ms",
            f"{beyond_plain:.2f} ms",
            beyond_plain <= 5.0,
        ),
    ]
    print(f"\n{'measure (medians)':<48} {'target':>10} {'measured':>10}  verdict")
    for what, target, measured, ok in rows:
        print(f"{what:<48} {target:>10} {measured:>10}  {verdict(ok) if target else ''}")
    print(
        "(a) includes boto3's own client time (signing, parsing); (b) is the server's share: HTTP, moto's\n"
        "dispatch and the kit's runtime; (c) is what invoking adds over the cheapest call on the same server."
    )


def first_prediction_in(tree: Path, artifact: Path) -> dict[str, float]:
    """One up -> first prediction, in a new process running tree's code on a fresh local cloud."""
    done = subprocess.run(
        [sys.executable, __file__, "--tree", str(tree), "--artifact", str(artifact)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the run in {tree} failed:\n{done.stderr[-3000:]}")
    steps: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return steps


def one_first_prediction(artifact: Path) -> None:
    """Print, as one JSON line, the steps of one up -> first prediction with the model artifact given."""
    os.environ["WORKSHOP_STATE_DIR"] = tempfile.mkdtemp(prefix="bench-local-cloud-")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    trained = model.TrainedModel(artifact=artifact.read_bytes(), metrics={})
    port = free_port()
    try:
        steps, _ = up_to_first_prediction(port, trained)
    finally:
        process.down(port)
    print(json.dumps(steps))


def side_by_side(rev: str, rounds: int) -> None:
    """up -> first prediction for this tree and for git revision rev, alternating, with medians and ratios."""
    work = Path(tempfile.mkdtemp(prefix="bench-against-"))
    previous = work / "previous"
    previous.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(previous)], input=archive, check=True)
    artifact = work / "model.tar.gz"
    artifact.write_bytes(model.train().artifact)
    trees = {"this tree": ROOT, rev: previous}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    loads = [os.getloadavg()[0]]
    for number in range(rounds):
        order = list(trees) if number % 2 == 0 else list(trees)[::-1]
        for name in order:
            runs[name].append(first_prediction_in(trees[name], artifact))
            loads.append(os.getloadavg()[0])
    print(
        f"\nmachine: {os.cpu_count()} CPUs, 1-minute load average {min(loads):.1f}-{max(loads):.1f} during the runs"
    )
    print(f"up -> first prediction, median of {rounds} rounds each, fresh local cloud each time:")
    print(f"  {'step':<66} {'this tree':>10} {rev[:10]:>10}  ratio")
    for step in runs["this tree"][0]:
        mine = statistics.median(run[step] for run in runs["this tree"])
        theirs = statistics.median(run[step] for run in runs[rev])
        print(f"  {step:<66} {mine:8.2f} s {theirs:8.2f} s  {mine / theirs:5.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=500, help="warm calls (default 500)")
    parser.add_argument(
        "--against", metavar="REV", help="compare up -> first prediction with git revision REV"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--artifact", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.artifact:
        one_first_prediction(args.artifact)
    elif args.against:
        side_by_side(args.against, args.rounds)
    else:
        main(args.n)
