"""Rules, faults and quotas through boto3: retries meet scripted throttles, streams die after N
tokens with botocore's own typed exception, stalls trip the read timeout, disconnects are transport
errors, quotas throttle and recover, and --scenario files load rules at start-up."""

import json
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError, ReadTimeoutError

from conftest import ROOT, Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HELLO = [{"role": "user", "content": [{"text": "hi"}]}]


def add_rules(awsim, rules):
    status, _, body = awsim.http("POST", "/_awsim/rules", rules, {"content-type": "application/json"})
    assert status == 200, body
    return json.loads(body)["ids"]


def hits(awsim, rule_id):
    _, _, body = awsim.http("GET", "/_awsim/rules")
    return next(r["hits"] for r in json.loads(body)["rules"] if r["id"] == rule_id)


@pytest.fixture
def steered(awsim):
    """The shared awsim with no rules before and after the test."""
    awsim.reset()
    yield awsim
    awsim.reset()


def runtime_client(awsim, **config):
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=awsim.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**config),
    )


def test_standard_retries_meet_two_throttles_then_the_scripted_answer(steered):
    add_rules(
        steered,
        [
            {"id": "throttle-twice", "fault": {"kind": "throttling"}, "times": 2},
            {"id": "answer", "respond": {"text": "Third time lucky."}},
        ],
    )
    # Standard mode as shipped: three attempts in all.
    runtime = runtime_client(steered, retries={"mode": "standard"})
    reply = runtime.converse(modelId=HAIKU, messages=HELLO)
    assert reply["output"]["message"]["content"][0]["text"] == "Third time lucky."
    assert reply["ResponseMetadata"]["RetryAttempts"] == 2
    assert (hits(steered, "throttle-twice"), hits(steered, "answer")) == (2, 1), "three attempts"
    # The invocation log shows the three attempts, newest first, each with the rule that fired.
    _, _, body = steered.http("GET", "/_awsim/invocations?operation=Converse")
    attempts = json.loads(body)["invocations"][::-1]
    assert [(a["status"], a["rule"]) for a in attempts] == [
        (429, "throttle-twice"),
        (429, "throttle-twice"),
        (200, "answer"),
    ]
    assert [a["error"]["code"] for a in attempts[:2]] == ["ThrottlingException"] * 2
    assert attempts[2]["requestId"] == reply["ResponseMetadata"]["RequestId"]
    assert attempts[2]["response"]["text"] == "Third time lucky."
    assert len({a["requestId"] for a in attempts}) == 3


REQUEST_FAULTS = [
    ("throttling", 429, "ThrottlingException"),
    ("serviceUnavailable", 503, "ServiceUnavailableException"),
    ("modelNotReady", 429, "ModelNotReadyException"),
    ("modelTimeout", 408, "ModelTimeoutException"),
    ("modelError", 424, "ModelErrorException"),
    ("internalServer", 500, "InternalServerException"),
    ("serviceQuotaExceeded", 400, "ServiceQuotaExceededException"),
    ("accessDenied", 403, "AccessDeniedException"),
    ("validation", 400, "ValidationException"),
    ("resourceNotFound", 404, "ResourceNotFoundException"),
]


@pytest.mark.parametrize("kind,status,code", REQUEST_FAULTS, ids=[k for k, _, _ in REQUEST_FAULTS])
def test_each_request_fault_is_the_exact_aws_error(steered, kind, status, code):
    add_rules(steered, {"fault": {"kind": kind}})
    with pytest.raises(ClientError) as caught:
        steered.client("bedrock-runtime").converse(modelId=HAIKU, messages=HELLO)
    err = caught.value.response
    print(f"boto3, {kind}: {type(caught.value).__name__} {err['Error']['Code']}")
    assert (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]) == (status, code)
    assert err["Error"]["Message"]


STREAM_FAULTS = [
    ("modelStreamErrorException", "modelStreamErrorException"),
    ("throttlingException", "throttlingException"),
    ("internalServerException", "internalServerException"),
    ("serviceUnavailableException", "serviceUnavailableException"),
    ("validationException", "validationException"),
    # ConverseStream has no modelTimeoutException member: Bedrock's stream error stands in.
    ("modelTimeoutException", "modelStreamErrorException"),
]


@pytest.mark.parametrize("kind,code", STREAM_FAULTS, ids=[k for k, _ in STREAM_FAULTS])
def test_converse_stream_gets_n_deltas_then_botocores_typed_exception(steered, kind, code):
    add_rules(steered, {"match": {"operation": "ConverseStream"}, "fault": {"kind": kind, "at": {"afterTokens": 3}}})
    stream = steered.client("bedrock-runtime").converse_stream(modelId=HAIKU, messages=HELLO)["stream"]
    deltas = []
    with pytest.raises(EventStreamError) as caught:
        for event in stream:
            if "contentBlockDelta" in event:
                deltas.append(event["contentBlockDelta"]["delta"]["text"])
    print(f"boto3, {kind}: EventStreamError {caught.value.response['Error']['Code']}")
    assert len(deltas) == 3
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"]


def test_invoke_model_with_response_stream_gets_its_model_timeout_exception(steered):
    add_rules(steered, {"fault": {"kind": "modelTimeoutException", "at": {"afterTokens": 2}}})
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})
    stream = steered.client("bedrock-runtime").invoke_model_with_response_stream(modelId=HAIKU, body=body)["body"]
    chunks = []
    with pytest.raises(EventStreamError) as caught:
        for event in stream:
            chunks.append(json.loads(event["chunk"]["bytes"]))
    assert [c["type"] for c in chunks].count("content_block_delta") == 2
    assert caught.value.response["Error"]["Code"] == "modelTimeoutException"


def test_a_stall_trips_the_read_timeout_before_and_inside_the_stream(steered):
    add_rules(
        steered,
        [
            {"match": {"operation": "Converse"}, "fault": {"kind": "stall"}},
            {"match": {"operation": "ConverseStream"}, "fault": {"kind": "stall", "at": {"afterTokens": 2}}},
        ],
    )
    runtime = runtime_client(steered, read_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"})
    with pytest.raises(ReadTimeoutError) as before:
        runtime.converse(modelId=HAIKU, messages=HELLO)
    print(f"boto3, stall before the response: {type(before.value).__name__}")
    deltas = 0
    with pytest.raises(Exception) as inside:
        for event in runtime.converse_stream(modelId=HAIKU, messages=HELLO)["stream"]:
            deltas += "contentBlockDelta" in event
    print(f"boto3, stall inside the stream: {type(inside.value).__module__}.{type(inside.value).__name__}: {inside.value}")
    assert deltas == 2
    assert "Read timed out" in str(inside.value)


def test_a_disconnect_is_a_transport_error_never_a_hang(steered):
    add_rules(
        steered,
        [
            {"match": {"operation": "Converse"}, "fault": {"kind": "disconnect"}},
            {"match": {"operation": "ConverseStream"}, "fault": {"kind": "disconnect", "at": {"afterTokens": 3}}},
        ],
    )
    # The read timeout is a guard against a hang: a disconnect never lets it fire.
    runtime = runtime_client(steered, read_timeout=30, retries={"total_max_attempts": 1, "mode": "standard"})
    with pytest.raises(Exception) as before:
        runtime.converse(modelId=HAIKU, messages=HELLO)
    print(f"boto3, disconnect before the response: {type(before.value).__module__}.{type(before.value).__name__}: {before.value}")
    assert not isinstance(before.value, (ClientError, ReadTimeoutError))
    deltas = 0
    with pytest.raises(Exception) as inside:
        for event in runtime.converse_stream(modelId=HAIKU, messages=HELLO)["stream"]:
            deltas += "contentBlockDelta" in event
    print(f"boto3, disconnect inside the stream: {type(inside.value).__module__}.{type(inside.value).__name__}: {inside.value}")
    assert deltas == 3
    assert not isinstance(inside.value, (EventStreamError, ReadTimeoutError))
    assert "reset" in str(inside.value).lower()


def test_a_quota_of_three_requests_throttles_the_fourth_and_recovers_after_the_window(steered):
    add_rules(steered, {"id": "three", "quota": {"rpm": 3, "windowSeconds": 3}})
    runtime = runtime_client(steered, retries={"total_max_attempts": 1, "mode": "standard"})
    for _ in range(3):
        runtime.converse(modelId=HAIKU, messages=HELLO)
    with pytest.raises(ClientError) as caught:
        runtime.converse(modelId=HAIKU, messages=HELLO)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert hits(steered, "three") == 1
    time.sleep(3)
    runtime.converse(modelId=HAIKU, messages=HELLO)


def test_a_rule_matched_on_the_prompt_answers_with_a_tool_call_boto3_parses(steered):
    add_rules(
        steered,
        {
            "match": {"modelId": "anthropic.*", "prompt": {"contains": "weather"}},
            "respond": {"toolUse": [{"name": "get_weather", "input": {"city": "Paris"}}]},
        },
    )
    runtime = steered.client("bedrock-runtime")
    reply = runtime.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "What's the weather?"}]}])
    assert reply["stopReason"] == "tool_use"
    call = reply["output"]["message"]["content"][0]["toolUse"]
    assert (call["name"], call["input"]) == ("get_weather", {"city": "Paris"})
    assert call["toolUseId"].startswith("tooluse_")


def test_bad_rule_json_is_a_validation_exception_that_names_the_field(steered):
    status, headers, body = steered.http(
        "POST",
        "/_awsim/rules",
        [{"respond": {"text": "x"}}, {"fault": {"kind": "throttle"}}],
        {"content-type": "application/json"},
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"
    assert json.loads(body)["message"].startswith("rules[1].fault.kind: unknown variant `throttle`, expected one of `throttling`")


SCENARIO_TOML = """
[[rules]]
id = "weather"
[rules.match]
prompt = { contains = "weather" }
[rules.respond]
text = "Sunny all week."

[[rules]]
[rules.match]
operation = "ConverseStream"
[rules.fault]
kind = "throttlingException"
at = { afterTokens = 1 }
"""

SCENARIO_JSON = [
    {"id": "weather", "match": {"prompt": {"contains": "weather"}}, "respond": {"text": "Sunny all week."}},
    {"match": {"operation": "ConverseStream"}, "fault": {"kind": "throttlingException", "at": {"afterTokens": 1}}},
]


@pytest.mark.parametrize("name", ["scenario.toml", "scenario.json"])
def test_rules_load_from_a_scenario_file(tmp_path, name):
    path = tmp_path / name
    path.write_text(SCENARIO_TOML if name.endswith(".toml") else json.dumps(SCENARIO_JSON))
    server = Awsim("--scenario", str(path))
    try:
        runtime = server.client("bedrock-runtime")
        reply = runtime.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "weather?"}]}])
        assert reply["output"]["message"]["content"][0]["text"] == "Sunny all week."
        with pytest.raises(EventStreamError) as caught:
            for _ in runtime.converse_stream(modelId=HAIKU, messages=HELLO)["stream"]:
                pass
        assert caught.value.response["Error"]["Code"] == "throttlingException"
    finally:
        server.stop()


def test_a_bad_scenario_file_stops_start_up_naming_the_rule_and_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[rules]]\n[rules.respond]\ntext = "x"\n\n[[rules]]\n[rules.fault]\nkind = "throttle"\n')
    import os

    binary = os.environ.get("AWSIM_BIN", str(ROOT / "target" / "debug" / "awsim"))
    out = subprocess.run([binary, "--port", "0", "--scenario", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert f"--scenario {path}: rules[1].fault.kind: unknown variant `throttle`" in out.stderr, out.stderr
