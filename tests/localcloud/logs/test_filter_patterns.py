"""Filter patterns behave as AWS documents them.

Examples cite the sections of "Filter pattern syntax for metric filters, subscription filters,
filter log events, and Live Tail" (CloudWatch Logs User Guide, FilterAndPatternSyntax).
"""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.logs.filter_patterns import FilterPatternError, compile_pattern


def matching(pattern: str, messages: list[str]) -> list[str]:
    """The messages the pattern matches."""
    compiled = compile_pattern(pattern)
    return [m for m in messages if compiled.matches(m)]


# ---- "Using filter patterns to match terms in unstructured log events"

UNSTRUCTURED = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
]


def test_single_term_matches_events_containing_it():
    """Example: Match a single term."""
    assert matching("ERROR", UNSTRUCTURED) == UNSTRUCTURED


def test_multiple_terms_must_all_appear():
    """Example: Match multiple terms."""
    assert matching("ERROR ARGUMENTS", UNSTRUCTURED) == UNSTRUCTURED[2:]


def test_optional_terms_match_any():
    """Example: Match optional terms."""
    assert matching("?ERROR ?ARGUMENTS", UNSTRUCTURED + ["[INFO] fine"]) == UNSTRUCTURED


def test_optional_terms_are_ignored_beside_other_terms():
    """Example: Match optional terms (note: `?` combined with other terms is ignored)."""
    events = [
        "[INFO] REQUEST FAILED",
        "[WARN] UNAUTHORIZED REQUEST",
        "[ERROR] 400 BAD REQUEST",
        "[ERROR] other",
    ]
    assert matching("?ERROR ?ARGUMENTS REQUEST", events) == events[:3]


def test_exact_phrase_in_double_quotes():
    """Example: Match exact phrases."""
    events = ["[ERROR 500] INTERNAL SERVER ERROR", "[ERROR 500] SERVER INTERNAL ERROR"]
    assert matching('"INTERNAL SERVER ERROR"', events) == events[:1]


def test_minus_excludes_a_term():
    """Example: Include and exclude terms."""
    assert matching("ERROR -ARGUMENTS", UNSTRUCTURED) == UNSTRUCTURED[:2]


def test_quoted_blank_matches_everything():
    """Example: Match everything."""
    assert matching('" "', ["a", "b c"]) == ["a", "b c"]


def test_empty_pattern_matches_everything():
    assert matching("", ["anything", "{}"]) == ["anything", "{}"]


def test_terms_are_case_sensitive():
    assert matching("ERROR", ["error here", "ERROR here"]) == ["ERROR here"]


def test_term_matches_inside_a_longer_word():
    """Older edition, "Matching Terms in Log Events", Example 1: ERROR matches ERRORCODE."""
    assert matching("ERROR", ["Exiting with ERRORCODE: -1"]) == ["Exiting with ERRORCODE: -1"]


def test_quoted_exclusion_with_space_after_minus():
    """Older edition, Example 2: `"ERROR" - "Exiting"`."""
    events = ["[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"]
    assert matching('"ERROR" - "Exiting"', events) == events[:1]


def test_or_pattern_examples_from_older_edition():
    """Older edition, "OR Pattern Matching"."""
    events = ["ERROR WARN message", "ERROR message", "WARN message"]
    assert matching("ERROR", events) == events[:2]
    assert matching("?ERROR ?WARN", events) == events
    assert matching("ERROR WARN", events) == events[:1]
    assert matching("ERROR -WARN", events) == events[1:2]


# ---- "Using filter patterns to match terms with a regular expression (regex)"


def test_regex_pattern_matches_anywhere():
    events = ["[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST", "[INFO] other"]
    assert matching("%AUTHORIZED%", events) == events[:2]


@pytest.mark.parametrize(
    ("regex", "matches", "misses"),
    [
        ("%^[hc]at%", ["hat x", "cat"], ["a cat"]),
        ("%[hc]at$%", ["the hat", "cat"], ["cats"]),
        ("%colou?r%", ["color", "colour"], ["colr"]),
        ("%a{3,5}%", ["aaa", "xaaaaay"], ["aa"]),
        ("%gra|ey%", ["gray", "grey"], ["gry"]),
        (r"%\[.\]%", ["[a]", "[7]"], ["[]"]),
        (r"%10\.10\.0\.1%", ["ip 10.10.0.1"], ["10010,051"]),
        ("%ab*c%", ["ac", "abbbc"], ["ab"]),
        ("%ab+c%", ["abc"], ["ac"]),
        (r"%\d%", ["a1"], ["ab"]),
        (r"%\x3A%", ["a:b"], ["ab"]),
    ],
)
def test_supported_regex_operators(regex, matches, misses):
    """Section "Supported regular expressions (regex) syntax", usage of supported operators."""
    assert matching(regex, matches + misses) == matches


def test_regex_with_parentheses_is_refused():
    with pytest.raises(FilterPatternError, match="parentheses"):
        compile_pattern("%(a)%")


# ---- "Using filter patterns to match terms in JSON log events"

TRAIL = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "cluster.name": "c",
        "ThisFlag": True,
        "OtherFlag": False,
    }
)


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',  # Filter pattern that matches string values
        "{ $.sourceIPAddress != 123.123.* }",  # ... string values (IP address)
        '{ $.arrayKey[0] = "value" }',  # ... a specific array element with a string value
        "{ $.eventType = %Trail% }",  # ... a string using regex
        "{ $.arrayKey[*] = %val.{2}% }",  # wildcard: any element of the array, regex
        r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",  # wildcard: any field, regex (IP address)
        "{ $.['cluster.name'] = \"c\" }",  # a JSON property with a period in the key
        "{ $.SomeObject IS NULL }",  # JSON logs using IS
        "{ $.SomeOtherObject NOT EXISTS }",  # JSON logs using NOT EXISTS
        "{ $.objectList[1].id = 2 }",  # older edition: second entry of objectList
        "{ $.ThisFlag IS TRUE }",  # older edition: IS TRUE
        "{ $.OtherFlag IS FALSE }",
        "{ $.eventType = * }",  # field exists
        "{ $.eventType = Update* }",
        "{ $.eventType = *Trail }",
        "{ $.eventType = *dateTr* }",
    ],
)
def test_documented_json_patterns_match_the_documented_event(pattern):
    assert compile_pattern(pattern).matches(TRAIL)


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "updatetrail" }',
        "{ $.sourceIPAddress != 111.111.* }",
        "{ $.SomeObject NOT EXISTS }",
        "{ $.eventType IS NULL }",
        "{ $.ThisFlag IS FALSE }",
        "{ $.objectList[5].id = 2 }",
        "{ $.eventType = Up*Trail }",  # a `*` inside the value is literal
        "{ $.missing = * }",
    ],
)
def test_json_patterns_that_must_not_match_the_documented_event(pattern):
    assert not compile_pattern(pattern).matches(TRAIL)


COMPOUND = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)


def test_compound_and_matches():
    """Example: Expression that matches using AND (&&)."""
    assert compile_pattern('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }').matches(
        COMPOUND
    )


def test_compound_or_matches_because_and_binds_tighter():
    """Example: Expression that matches using OR (||)."""
    pattern = '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }'
    assert compile_pattern(pattern).matches(COMPOUND)


def test_parentheses_change_precedence():
    """Example: Expression that doesn't match using AND (&&)."""
    pattern = '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }'
    assert not compile_pattern(pattern).matches(COMPOUND)


def test_compound_or_without_any_true_side_does_not_match():
    """Example: Expression that doesn't match using OR (||)."""
    assert not compile_pattern(
        '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }'
    ).matches(COMPOUND)


def test_nested_array_index():
    assert compile_pattern("{ $.coordinates[1][2] = 6 }").matches(COMPOUND)


@pytest.mark.parametrize(
    ("pattern", "event"),
    [
        ("{ $.bandwidth > 75 }", {"bandwidth": 76}),
        ("{ $.latency < 50 }", {"latency": 49.9}),
        ("{ $.refreshRate >= 60 }", {"refreshRate": 60}),
        ("{ $.responseTime <= 5 }", {"responseTime": 5}),
        ("{ $.errorCode = 400}", {"errorCode": 400}),
        ("{ $.errorCode != 500 }", {"errorCode": 400}),
        ("{ $.number[0] = 1e+3 }", {"number": [1000]}),
        ("{ $.number[0] != 1e-3 }", {"number": [1]}),
        ("{ $.numbers[0] < 10e3 }", {"numbers": [99]}),  # older edition, Numeric Comparisons
        ("{ $.numbers[0] < 10e-3 }", {"numbers": [0.001]}),
        ("{ $.processes[4].averageRuntime <= 55.5 }", {"processes": [0, 0, 0, 0, {"averageRuntime": 55.5}]}),
        ("{ $.latency > +1000 }", {"latency": 1001}),
        ("{ $.delta > -2.5 }", {"delta": -1}),
    ],
)
def test_documented_numeric_comparisons(pattern, event):
    """Section "Writing filter patterns that match numeric values" (and the older edition)."""
    assert compile_pattern(pattern).matches(json.dumps(event))


def test_numeric_comparison_is_false_for_the_other_side():
    assert not compile_pattern("{ $.latency > 100 }").matches('{"latency": 100}')
    assert not compile_pattern("{ $.latency > 100 }").matches('{"latency": "slow"}')


def test_or_across_json_fields_from_older_edition():
    """Older edition, "OR Pattern Matching": {$.foo = bar || $.foo = baz}."""
    events = ['{"foo": "bar"}', '{"foo": "baz"}', '{"foo": "qux"}']
    assert matching("{$.foo = bar}", events) == events[:1]
    assert matching("{$.foo = baz }", events) == events[1:2]
    assert matching("{$.foo = bar || $.foo = baz }", events) == events[:2]


def test_selector_on_an_array_never_matches():
    """Older edition, "JSON Special Considerations": {$.users = 1} and {$.users != 1}."""
    event = '{"users": [1, 2, 3]}'
    assert not compile_pattern("{ $.users = 1 }").matches(event)
    assert not compile_pattern("{ $.users != 1 }").matches(event)


def test_selector_on_an_object_never_matches():
    event = '{"user": {"id": 1}}'
    assert not compile_pattern('{ $.user = "x" }').matches(event)
    assert not compile_pattern('{ $.user != "x" }').matches(event)


def test_not_equal_does_not_match_a_missing_field():
    assert not compile_pattern('{ $.status != "ok" }').matches('{"other": 1}')


def test_json_pattern_never_matches_a_non_json_event():
    assert not compile_pattern("{ $.a = * }").matches('INFO {"a": 1}')
    assert not compile_pattern("{ $.a = * }").matches("[1, 2]")


def test_json_string_values_with_escapes_still_match():
    event = json.dumps({"event": "inf\u00e9rence", "path": "a/b"}).replace("a/b", "a\\/b")
    assert compile_pattern('{ $.path = "a/b" && $.event = "inférence" }').matches(event)


def test_json_extract_names_each_selector():
    extracted = compile_pattern('{ $.status = "ok" && $.latencyMs > 10 }').extract(
        '{"status": "ok", "latencyMs": 12.5}'
    )
    assert extracted == {"$.status": "ok", "$.latencyMs": "12.5"}
    assert extracted.lookup("$.latencyMs") == 12.5


def test_extract_is_none_when_the_event_does_not_match():
    assert compile_pattern('{ $.status = "ok" }').extract('{"status": "bad"}') is None


# ---- "Using filter patterns to match terms in space-delimited log events"

ACCESS = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'


@pytest.mark.parametrize(
    "pattern",
    [
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        "[..., request =*.html*, status_code = 4*, bytes]",
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        "[ip, user, ..., status_code, bytes]",  # older edition
        "[ip, user, ...]",
        "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
        "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
    ],
)
def test_documented_space_delimited_patterns_match(pattern):
    assert compile_pattern(pattern).matches(ACCESS)


@pytest.mark.parametrize(
    "pattern",
    [
        r"[ip=%127\.0\.0\.[2-9]%, user, username, timestamp, request, status_code, bytes]",
        "[ip, user, username, timestamp, request, status_code = 200, bytes]",
        "[ip, user, username, timestamp, request, status_code, bytes > 2000]",
        "[ip, user, username, timestamp, request = *.gif*, status_code, bytes]",
        "[a, b, c, d, e, f, g, h]",  # more fields than the event has
    ],
)
def test_space_delimited_patterns_that_must_not_match(pattern):
    assert not compile_pattern(pattern).matches(ACCESS)


def test_brackets_and_quotes_make_one_field_and_values_are_extracted_by_name():
    extracted = compile_pattern("[ip, user, username, timestamp, request, status_code, bytes]").extract(
        ACCESS
    )
    assert extracted["$timestamp"] == "10/Oct/2000:13:25:15 -0700"
    assert extracted["$request"] == "GET /index.html HTTP/1.0"
    assert extracted.lookup("$bytes") == "1534"


def test_unnamed_fields_are_extracted_by_position():
    """Older edition, extracted fields for `[..., request=*.html*, status_code=4*,]`."""
    event = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
    extracted = compile_pattern("[..., request=*.html*, status_code=4*,]").extract(event)
    assert extracted == {
        "$1": "127.0.0.1",
        "$2": "-",
        "$3": "frank",
        "$4": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /index.html HTTP/1.0",
        "$status_code": "404",
        "$7": "1534",
    }


SERVICE = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
]


# Field counts. The guide's "OR Pattern Matching" section spells out which of three events its space-delimited
# patterns match: "[w1=ERROR, w2] matches ERROR (pattern 2), [w1=ERROR || w1=WARN, w2] matches lines containing
# ERROR or WARN (patterns 2 and 3), [w1=!ERROR&&w1=!WARN, w2] matches lines containing both ERROR and WARN
# (pattern 1)" (awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md). A pattern
# without an ellipsis names every field of the event; "In cases where you don't know the number of fields, you
# can use shorthand notification using an ellipsis (...)" (same page, space-delimited section).
THREE = ["ERROR WARN message", "ERROR message", "WARN message"]


def test_a_pattern_without_ellipsis_matches_only_events_with_as_many_fields():
    assert matching("[w1=ERROR, w2]", THREE) == ["ERROR message"]


def test_or_in_a_field_matches_the_two_field_events_with_either_word():
    assert matching("[w1=ERROR || w1=WARN, w2]", THREE) == ["ERROR message", "WARN message"]


def test_and_of_not_equals_matches_the_event_whose_first_field_is_neither():
    assert matching("[w1!=ERROR && w1!=WARN, w2]", THREE) == []
    assert matching("[w1!=ERROR && w1!=WARN, w2, w3]", ["INFO all good", *THREE]) == ["INFO all good"]


def test_an_ellipsis_stands_for_any_number_of_fields():
    assert matching("[w1=ERROR, ...]", THREE) == ["ERROR WARN message", "ERROR message"]
    assert matching("[w1=ERROR || w1=WARN, ...]", THREE) == THREE


def test_match_terms_in_order():
    """Example: Match terms in order, on the guide's four service events (six and seven fields each)."""
    assert matching("[w1=ERROR, ...]", SERVICE) == SERVICE[3:]
    assert matching("[w1=ERROR, w2]", SERVICE) == []  # two fields named, none of the events has two


def test_match_terms_with_or():
    """Example: Match terms with AND (&&) and OR (||)."""
    assert matching("[w1=ERROR || w1=WARNING, ...]", SERVICE) == SERVICE[2:]


def test_exclude_terms_with_not_equal():
    """Example: Exclude terms from matches."""
    assert matching("[w1!=ERROR && w1!=WARNING, ...]", SERVICE) == SERVICE[:2]


def test_match_top_level_item_in_a_resource_uri():
    """Example: Match the top level item in a resource URI."""
    assert (
        matching("[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]", SERVICE)
        == SERVICE[:1]
    )


def test_match_child_level_item_in_a_resource_uri():
    """Example: Match the child level item in a resource URI."""
    pattern = "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]"
    assert matching(pattern, SERVICE) == SERVICE[1:2]


def test_ellipsis_in_the_middle_finds_the_fields_between():
    assert compile_pattern("[first, ..., method = POST, ..., size > 1300]").matches(SERVICE[1])
    assert not compile_pattern("[first, ..., method = POST, ..., size > 1300]").matches(SERVICE[0])


# ---- malformed patterns


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("{ $.a = }", "needs a value"),
        ("{ $.a = 1 ", "must end with }"),
        ("{ a = 1 }", "selector"),
        ('{ $.a < "x" }', "needs a number"),
        ("{ $.a = b@c }", "double quotes"),
        ("{ ($.a = 1 }", "parenthesis"),
        ("{ $.a ~ 1 }", "operator"),
        ("{ $.a[x] = 1 }", "index"),
        ("{ $.a[*].b[*] = 1 }", "more than one wildcard"),
        ('"unterminated', "unterminated"),
        ("[a, b = ]", "needs a value"),
        ("[a, b c]", "operator"),
        ("{ $.a = %x% && $.b = %y% && $.c = %z% }", "at most 2 regular"),
    ],
)
def test_malformed_patterns_raise_a_filter_pattern_error_naming_the_problem(pattern, problem):
    with pytest.raises(FilterPatternError, match=problem) as raised:
        compile_pattern(pattern)
    assert str(raised.value).startswith("Invalid filter pattern")


def test_the_local_cloud_answers_a_malformed_pattern_with_invalid_parameter_and_the_engine_s_message():
    from moto.logs.exceptions import InvalidParameterException

    from localcloud.logs.filter_patterns.hooks import compile_or_refuse

    with pytest.raises(FilterPatternError) as engine:
        compile_pattern("{ $.a = }")
    with pytest.raises(InvalidParameterException) as refused:
        compile_or_refuse("{ $.a = }")
    assert (refused.value.code, refused.value.error_type) == (400, "InvalidParameterException")
    assert refused.value.message == str(engine.value)


# ---- through boto3 against the local cloud


@pytest.fixture()
def logs(local_cloud):
    return boto3.client("logs", endpoint_url=local_cloud, region_name="us-east-1")


def test_filter_log_events_applies_a_json_pattern(logs):
    group = f"/test/filter-patterns/{uuid.uuid4().hex}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    messages = [
        json.dumps({"event": "inference", "status": "ok"}),
        json.dumps({"event": "inference", "status": "model_error"}),
        "plain text status model_error",
    ]
    logs.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": m} for m in messages]
    )
    found = logs.filter_log_events(logGroupName=group, filterPattern='{ $.status = "model_error" }')["events"]
    assert [e["message"] for e in found] == [messages[1]]


def test_filter_log_events_refuses_a_malformed_pattern(logs):
    group = f"/test/filter-patterns/{uuid.uuid4().hex}"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as raised:
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.status = }")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"


def test_test_metric_filter_returns_matches_with_extracted_values(logs):
    answer = logs.test_metric_filter(
        filterPattern="[ip, user, username, timestamp, request, status_code = 4*, bytes]",
        logEventMessages=[ACCESS, ACCESS.replace(" 404 ", " 200 ")],
    )
    assert len(answer["matches"]) == 1
    match = answer["matches"][0]
    assert match["eventNumber"] == 1
    assert match["eventMessage"] == ACCESS
    assert match["extractedValues"]["$status_code"] == "404"


def test_test_metric_filter_with_a_json_pattern(logs):
    events = [json.dumps({"latencyMs": 50}), json.dumps({"latencyMs": 150})]
    answer = logs.test_metric_filter(filterPattern="{ $.latencyMs > 100 }", logEventMessages=events)
    assert answer["matches"] == [
        {"eventNumber": 2, "eventMessage": events[1], "extractedValues": {"$.latencyMs": "150"}}
    ]
