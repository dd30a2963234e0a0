"""CloudWatch alarm evaluation and actions for the local cloud (moto never evaluates alarms).

With the hooks installed (`hooks.py`, moto 5.2.5):

- new alarms start in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); putting an
  existing alarm again keeps its state; each put is recorded as a configuration update;
- a daemon thread (`evaluator.py`), started with the first alarm, evaluates every metric alarm
  of every account and region every WORKSHOP_ALARM_INTERVAL seconds (default 10;
  `evaluator.set_interval`): under the local profile all together, under the aws profile each
  alarm at its own phase of the interval (`profile.delay("alarm_offset", alarm_arn)`, a share of
  it), as AWS evaluates each alarm on its own schedule (`evaluator.Schedule`);
- a state change (`actions.py`) writes StateReason / StateReasonData the way CloudWatch words
  them (`messages.py`), records a "StateUpdate" history item (`history.py`), and publishes the
  AWS alarm notification to each SNS topic in AlarmActions / OKActions /
  InsufficientDataActions (once per change);
- SetAlarmState runs the actions too; DescribeAlarmHistory answers from the recorded history.

Evaluation (`evaluation.py`) follows "Using Amazon CloudWatch alarms" (Evaluating an alarm;
Configuring how CloudWatch alarms treat missing data):

- the newest period evaluated is the last one that has fully ended (periods are aligned to
  multiples of Period since the epoch);
- the evaluation range is EvaluationPeriods + 2 periods (the documentation's examples
  retrieve 5 for N = 3; AWS does not publish its exact rule);
- with at least N real datapoints in the range the newest N are evaluated; otherwise every
  real datapoint is used and the rest is filled according to TreatMissingData (`missing`,
  `ignore`, `breaching`, `notBreaching`), which reproduces every row of both tables in the
  documentation (see tests/localcloud/cloudwatch/test_alarm_evaluation.py). With `missing`, a lone run of breaching
  datapoints whose oldest is at least DatapointsToAlarm periods old also alarms (the AWS
  knowledge-center note "Why did my CloudWatch alarm send me a notification after a single
  breached data point?");
- EvaluateLowSampleCountPercentile=ignore keeps the state while an evaluated datapoint has
  fewer than 10/(1-p) samples (10/p below p50);
- metrics in AWS/DynamoDB always ignore missing data, as AWS documents.

Not evaluated: anomaly-detection band alarms (LessThanLowerOrGreaterThanUpperThreshold, ...)
and composite alarms. Only SNS topic actions run; other action ARNs are recorded as failed.

This package exports the engine, pure and importable without moto: the evaluation rules and
AWS's message formats.
"""

from localcloud.cloudwatch.alarms.evaluation import (
    OPERATORS,
    Evaluation,
    Point,
    breaches,
    evaluate,
    low_sample_minimum,
    missing_data_treatment,
    range_starts,
)
from localcloud.cloudwatch.alarms.messages import (
    aws_timestamp,
    java_double,
    notification_message,
    notification_subject,
    region_name,
    state_reason,
    state_reason_data,
)

__all__ = [
    "OPERATORS",
    "Evaluation",
    "Point",
    "aws_timestamp",
    "breaches",
    "evaluate",
    "java_double",
    "low_sample_minimum",
    "missing_data_treatment",
    "notification_message",
    "notification_subject",
    "range_starts",
    "region_name",
    "state_reason",
    "state_reason_data",
]
