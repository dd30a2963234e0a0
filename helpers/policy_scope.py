"""The attendee policy's data: which resource types each IAM action acts on, as the kit names them.

Data only (helpers/policy.py makes the policies from it). Each action is scoped to the attendee's own
resources wherever AWS's Service Authorization Reference (SAR) lists a resource type for it; ``()``
means AWS authorizes it against ``*`` only. tests/helpers/test_policy.py checks every entry against the SAR
(``kitformats.iam_actions.scoped``); the few deliberate differences are in ``UNSCOPED_ON_PURPOSE``.
"""

from __future__ import annotations

# Resource types, as ARN patterns for one attendee ("{prefix}" is replaced by a policy variable or a prefix):
# service, resource, and which of the region and account fields the ARN has (IAM roles and dashboards:
# no region; S3: neither; API Gateway: a region, no account). helpers.regions.arn builds each.
RESOURCES: dict[str, tuple[str, str, str]] = {
    "table": ("dynamodb", "table/{prefix}-*", "regional"),  # its indexes too: table/P-x/index/i
    "function": ("lambda", "function:{prefix}-*", "regional"),
    "role": ("iam", "role/{prefix}-*", "account"),
    "bucket": ("s3", "{prefix}-ml-workshop-*", "global"),  # its objects too: P-ml-workshop-x/key
    "log-group": ("logs", "log-group:/aws/lambda/{prefix}-*", "regional"),
    "endpoint-log-group": ("logs", "log-group:/aws/sagemaker/Endpoints/{prefix}-*", "regional"),
    "api-log-group": ("logs", "log-group:API-Gateway-Execution-Logs_*", "regional"),
    "model": ("sagemaker", "model/{prefix}-*", "regional"),
    "endpoint-config": ("sagemaker", "endpoint-config/{prefix}-*", "regional"),
    "endpoint": ("sagemaker", "endpoint/{prefix}-*", "regional"),
    "alarm": ("cloudwatch", "alarm:{prefix}-*", "regional"),
    "dashboard": ("cloudwatch", "dashboard/{prefix}-*", "account"),
    "topic": ("sns", "{prefix}-*", "regional"),
    "queue": ("sqs", "{prefix}-*", "regional"),
    "stack": ("cloudformation", "stack/{prefix}-*", "regional"),
    "api": ("apigateway", "/restapis*", "no-account"),  # REST API ids are AWS's: scoped by tag instead
    "api-tags": ("apigateway", "/tags/*", "no-account"),
}
LOG_GROUPS = ("log-group", "endpoint-log-group")
SAGEMAKER = ("model", "endpoint-config", "endpoint")

# The resource types each action is authorized against; () means AWS authorizes it against "*".
_TABLE = (
    "BatchGetItem BatchWriteItem CreateTable DeleteItem DeleteTable DescribeContinuousBackups DescribeTable "
    "DescribeTimeToLive GetItem ListTagsOfResource PutItem Query Scan TagResource UntagResource "
    "UpdateContinuousBackups UpdateItem UpdateTable UpdateTimeToLive"
)
_FUNCTION = (
    "AddPermission CreateAlias CreateFunction DeleteFunction DeleteFunctionConcurrency GetFunction GetFunctionConcurrency "
    "GetAlias GetFunctionConfiguration GetFunctionUrlConfig GetPolicy InvokeFunction ListTags ListVersionsByFunction "
    "PublishVersion PutFunctionConcurrency RemovePermission TagResource UntagResource UpdateFunctionCode "
    "UpdateFunctionConfiguration"
)
# Reading one's roles, and deleting them (neither changes what a role may do).
_ROLE_READ = (
    "DeleteRole GetRole GetRolePolicy ListAttachedRolePolicies ListInstanceProfilesForRole ListRolePolicies "
    "ListRoleTags"
)
_BUCKET = (
    "CreateBucket DeleteBucket GetBucketLocation GetBucketPublicAccessBlock GetBucketTagging ListBucket "
    "ListBucketVersions PutBucketPublicAccessBlock PutBucketTagging"
)
_OBJECT = "DeleteObject DeleteObjectVersion GetObject GetObjectTagging PutObject PutObjectTagging"
_LOGS = (
    "CreateLogGroup DeleteLogGroup DeleteMetricFilter DescribeLogStreams FilterLogEvents GetLogEvents "
    "ListTagsForResource ListTagsLogGroup PutMetricFilter PutRetentionPolicy StartQuery TagLogGroup TagResource"
)
_SAGEMAKER = (
    "AddTags CreateEndpoint CreateEndpointConfig CreateModel DeleteEndpoint DeleteEndpointConfig DeleteModel "
    "DeleteTags DescribeEndpoint DescribeEndpointConfig DescribeModel InvokeEndpoint UpdateEndpoint"
)
_ALARM = (
    "DeleteAlarms DescribeAlarmHistory DisableAlarmActions EnableAlarmActions ListTagsForResource "
    "PutMetricAlarm SetAlarmState TagResource"
)
_TOPIC = (
    "CreateTopic DeleteTopic GetTopicAttributes ListSubscriptionsByTopic ListTagsForResource Publish "
    "SetTopicAttributes Subscribe TagResource"
)
_QUEUE = (
    "ChangeMessageVisibility CreateQueue DeleteMessage DeleteQueue GetQueueAttributes GetQueueUrl ListQueueTags "
    "PurgeQueue ReceiveMessage SendMessage SetQueueAttributes TagQueue"
)
_STACK = (
    "CreateChangeSet CreateStack DeleteChangeSet DeleteStack DescribeChangeSet DescribeStackEvents "
    "DescribeStackResources DescribeStacks ExecuteChangeSet GetTemplate ListStackResources TagResource "
    "UpdateStack"
)
_UNSCOPED = (
    "dynamodb:ListTables dynamodb:DescribeLimits lambda:ListFunctions lambda:ListEventSourceMappings "
    "iam:ListRoles s3:ListAllMyBuckets logs:DescribeLogGroups logs:DescribeMetricFilters logs:GetQueryResults "
    "logs:TestMetricFilter logs:StopQuery sagemaker:ListTags sagemaker:ListEndpoints sagemaker:ListEndpointConfigs "
    "sagemaker:ListModels cloudwatch:DescribeAlarms cloudwatch:ListDashboards cloudwatch:GetMetricData "
    "cloudwatch:GetMetricStatistics cloudwatch:ListMetrics cloudwatch:PutMetricData sns:Unsubscribe "
    "sns:GetSubscriptionAttributes sns:SetSubscriptionAttributes sns:ListTopics sns:ListSubscriptions "
    "sqs:ListQueues sts:GetCallerIdentity servicequotas:GetServiceQuota servicequotas:ListServiceQuotas "
    "cloudformation:ValidateTemplate cloudformation:ListStacks tag:GetResources"
)


def _scoped(service: str, names: str, *kinds: str) -> dict[str, tuple[str, ...]]:
    return {f"{service}:{n}": kinds for n in names.split()}


SCOPE: dict[str, tuple[str, ...]] = {
    **_scoped("dynamodb", _TABLE, "table"),
    **_scoped("lambda", _FUNCTION, "function"),
    **_scoped("iam", _ROLE_READ, "role"),
    **_scoped("s3", _BUCKET, "bucket"),
    **_scoped("s3", _OBJECT, "bucket"),
    **_scoped("logs", _LOGS, *LOG_GROUPS),
    **_scoped("sagemaker", _SAGEMAKER, *SAGEMAKER),
    **_scoped("cloudwatch", _ALARM, "alarm"),
    **_scoped("cloudwatch", "DeleteDashboards GetDashboard PutDashboard", "dashboard"),
    **_scoped("sns", _TOPIC, "topic"),
    **_scoped("sqs", _QUEUE, "queue"),
    **_scoped("cloudformation", _STACK, "stack"),
    **_scoped("apigateway", "GET POST PUT PATCH DELETE", "api", "api-tags"),
    **{action: () for action in _UNSCOPED.split()},
}

# Actions AWS scopes to a resource type that the policy grants on "*", and why that is safe.
UNSCOPED_ON_PURPOSE = {
    "logs:GetQueryResults": "names a query id, not a log group; StartQuery is the scoped step",
    "logs:StopQuery": "names a query id, not a log group",
    "logs:TestMetricFilter": "tests a pattern against sample lines the caller sends; reads no log group",
    "sagemaker:ListTags": "read-only; the kit lists tags of its own resources by ARN",
    "sns:Unsubscribe": "names a subscription ARN; AWS authorizes it on the topic, which the kit names by prefix",
    "sns:GetSubscriptionAttributes": "names a subscription ARN (as above); read-only",
    "sns:SetSubscriptionAttributes": "names a subscription ARN (as above); the kit sets only RawMessageDelivery",
    "cloudwatch:DescribeAlarms": "a list call; AWS filters nothing by resource for it",
    "cloudwatch:PutMetricData": "AWS scopes it by the cloudwatch:namespace condition key only",
    "logs:DescribeMetricFilters": "a list call (by log group name prefix); read-only",
    "servicequotas:GetServiceQuota": "preflight reads the account's quotas; read-only, names no resource of the kit",
}

# Role actions the attendee may make only on roles whose permissions boundary is the class boundary
# (condition iam:PermissionsBoundary, which the SAR lists for each): every change of what a role may do.
ROLE_CHANGES = (
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)
# Tagging a role (no iam:PermissionsBoundary key in the SAR): the prefix tag only with one's own prefix.
ROLE_TAGGING = ("iam:TagRole", "iam:UntagRole")
# The only managed policy the kit attaches to a role it makes (AWS managed: arn:PARTITION:iam::aws:policy/...).
ATTACHABLE_POLICIES = ("service-role/AWSLambdaBasicExecutionRole",)
# iam:PassRole: the kit's roles (helpers.config.Names; 8.5's stack makes a second Lambda role), each only to the
# service that runs as it.
PASS_ROLES = (
    ("{prefix}-inference-lambda-role", "lambda.amazonaws.com"),
    ("{prefix}-iac-inference-lambda-role", "lambda.amazonaws.com"),  # 8.5's stack's (config.second_prefix)
    ("{prefix}-sagemaker-execution", "sagemaker.amazonaws.com"),
)

# What the kit's roles may ever do (the class boundary): the Lambda handler's calls and a SageMaker
# execution role's documented needs (SageMaker developer guide, "How to use SageMaker AI execution roles",
# CreateModel API permissions), on the role's own prefix (its workshop-prefix tag).
BOUNDARY_SCOPED: dict[str, tuple[str, ...]] = {
    "dynamodb:PutItem": ("table",),
    "dynamodb:UpdateItem": ("table",),
    "dynamodb:GetItem": ("table",),
    "dynamodb:Query": ("table",),
    "sagemaker:InvokeEndpoint": ("endpoint",),
    "logs:CreateLogGroup": LOG_GROUPS,
    "logs:CreateLogStream": LOG_GROUPS,
    "logs:PutLogEvents": LOG_GROUPS,
    "logs:DescribeLogStreams": LOG_GROUPS,
    "s3:GetObject": ("bucket",),
    "s3:ListBucket": ("bucket",),
}
BOUNDARY_UNSCOPED = (
    "cloudwatch:PutMetricData",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
)

# SAR dependent actions the kit's calls never need, and why (tests/helpers/test_policy.py checks the rest are granted).
DEPENDENT_NOT_NEEDED = {
    "lambda:PassCapacityProvider": "only for functions on a capacity provider; the kit's function has none",
    "sagemaker:AddTags": "granted when a create call sends Tags (kitformats.iam_actions.WITH_MEMBER)",
}
