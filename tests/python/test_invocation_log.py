"""The invocation log seen from boto3: what each call sent and got back, at /_awsim/invocations;
the rule that fired, why a quota throttled, and what a guardrail did."""

import json
import time

import pytest
from botocore.exceptions import ClientError, EventStreamError

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
US_HAIKU = "us.anthropic.claude-3-haiku-20240307-v1:0"


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def get(server, path):
    status, _, body = server.http("GET", path)
    assert status == 200, body
    return json.loads(body)


def calls(server, query=""):
    return get(server, f"/_awsim/invocations{query}")["invocations"]


def call(server, request_id):
    return get(server, f"/_awsim/invocations/{request_id}")


def request_id(response):
    return response["ResponseMetadata"]["RequestId"]


def assert_timeline(record, frames):
    """One event per emitted frame, offsets never going back."""
    events = record["events"]
    assert len(events) == frames == record["frames"]
    offsets = [e["offsetMs"] for e in events]
    assert offsets == sorted(offsets)
    assert record["firstTokenMs"] <= record["totalMs"]


def test_a_converse_call(awsim, runtime):
    resp = runtime.converse(modelId=US_HAIKU, messages=[user("What did I send?")], inferenceConfig={"maxTokens": 8})
    record = call(awsim, request_id(resp))
    assert record["operation"] == "Converse"
    assert (record["modelId"], record["resolvedModelId"]) == (US_HAIKU, HAIKU)
    assert record["region"] == "us-east-1"
    assert (record["state"], record["status"], record["error"]) == ("complete", 200, None)
    assert record["request"] == {"messages": [user("What did I send?")], "inferenceConfig": {"maxTokens": 8}}
    assert record["response"]["text"] == resp["output"]["message"]["content"][0]["text"]
    assert record["response"]["stopReason"] == resp["stopReason"] == "max_tokens"
    assert record["response"]["usage"] == {k: resp["usage"][k] for k in ("inputTokens", "outputTokens")}
    assert [e["type"] for e in record["events"]] == ["response"]


def test_a_converse_stream_in_event_stream_frames(awsim, runtime):
    resp = runtime.converse_stream(modelId=HAIKU, messages=[user("stream it")], inferenceConfig={"maxTokens": 5})
    events = list(resp["stream"])
    record = call(awsim, request_id(resp))
    assert record["format"] == "eventstream"
    assert_timeline(record, len(events))
    assert [e["type"] for e in record["events"]] == [next(iter(e)) for e in events]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert record["response"]["text"] == text
    delta = record["events"][1]
    assert delta["headers"][":event-type"] == "contentBlockDelta"
    assert delta["payload"]["delta"]["text"] == events[1]["contentBlockDelta"]["delta"]["text"]


def test_a_converse_stream_as_a_json_array(awsim, runtime):
    # As curl sends it, unsigned: the JSON array.
    status, headers, body = awsim.http(
        "POST",
        f"/model/{HAIKU}/converse-stream",
        {"messages": [user("as json")], "inferenceConfig": {"maxTokens": 3}},
        {"content-type": "application/json"},
    )
    assert status == 200
    elements = json.loads(body)
    record = call(awsim, headers["x-amzn-RequestId"])
    assert record["format"] == "json"
    assert_timeline(record, len(elements))
    assert [(e["type"], e["payload"]) for e in record["events"]] == [next(iter(e.items())) for e in elements]


def test_an_invoke_model_call_keeps_the_native_body(awsim, runtime):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4, "messages": [{"role": "user", "content": "native"}]}
    resp = runtime.invoke_model(modelId=HAIKU, body=json.dumps(body))
    answer = json.loads(resp["body"].read())
    record = call(awsim, request_id(resp))
    assert record["operation"] == "InvokeModel"
    assert record["request"] == body
    assert record["response"]["text"] == answer["content"][0]["text"]
    assert record["events"][0]["payload"] == answer


def test_an_error_before_the_first_byte(awsim, runtime):
    with pytest.raises(ClientError) as err:
        runtime.converse_stream(modelId="anthropic.nope-v1:0", messages=[user("hi")])
    record = call(awsim, err.value.response["ResponseMetadata"]["RequestId"])
    assert record["status"] == 400
    assert record["error"] == {
        "code": err.value.response["Error"]["Code"],
        "message": err.value.response["Error"]["Message"],
    }
    assert record["resolvedModelId"] is None
    assert record["response"] is None
    assert record["events"] == []


def test_count_tokens(awsim, runtime):
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4, "messages": [{"role": "user", "content": "count me"}]})
    resp = runtime.count_tokens(modelId=HAIKU, input={"invokeModel": {"body": body}})
    record = call(awsim, request_id(resp))
    assert record["operation"] == "CountTokens"
    assert record["response"]["usage"] == {"inputTokens": resp["inputTokens"]}


@pytest.fixture(scope="module")
def paced():
    server = Awsim("--bedrock-canned-token-ms", "20")
    yield server
    server.stop()


def test_a_client_that_disconnects_mid_stream(paced):
    runtime = paced.client("bedrock-runtime")
    resp = runtime.converse_stream(modelId=HAIKU, messages=[user("a long one")], inferenceConfig={"maxTokens": 200})
    stream = iter(resp["stream"])
    for _ in range(3):
        next(stream)
    assert call(paced, request_id(resp))["state"] == "inProgress"
    resp["stream"].close()
    for _ in range(500):
        record = call(paced, request_id(resp))
        if record["state"] != "inProgress":
            break
        time.sleep(0.01)
    assert record["state"] == "disconnected"
    assert record["status"] == 200
    assert record["response"]["stopReason"] is None
    assert 3 <= record["frames"] < 200
    assert len(record["events"]) == record["frames"]


def test_filters_limit_and_newest_first(awsim, runtime):
    ids = [
        request_id(runtime.converse(modelId=model, messages=[user("hi")], inferenceConfig={"maxTokens": 1}))
        for model in (HAIKU, US_HAIKU, "amazon.nova-micro-v1:0")
    ]
    assert [c["requestId"] for c in calls(awsim)] == ids[::-1]
    assert [c["requestId"] for c in calls(awsim, f"?modelId={HAIKU}")] == ids[1::-1]
    assert [c["requestId"] for c in calls(awsim, f"?modelId={US_HAIKU}")] == [ids[1]]
    assert [c["requestId"] for c in calls(awsim, "?operation=Converse&limit=1")] == [ids[2]]
    assert calls(awsim, "?operation=ConverseStream") == []


@pytest.mark.parametrize(
    "query,says",
    [
        ("?limit=-1", "limit '-1' is not a positive whole number"),
        ("?limit=many", "limit 'many' is not a positive whole number"),
        ("?operation=Chat", "operation 'Chat' is not one of InvokeModel, "),
        ("?model=x", "'model' is not a filter of the invocation log: use modelId, operation, limit or since"),
    ],
)
def test_a_bad_filter_is_a_validation_exception_that_says_what_to_fix(awsim, query, says):
    status, headers, body = awsim.http("GET", f"/_awsim/invocations{query}")
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert json.loads(body)["message"].startswith(says)


def test_delete_and_reset_empty_the_log(awsim, runtime):
    runtime.converse(modelId=HAIKU, messages=[user("hi")], inferenceConfig={"maxTokens": 1})
    status, _, body = awsim.http("DELETE", "/_awsim/invocations")
    assert (status, json.loads(body)) == (200, {"cleared": 1})
    assert calls(awsim) == []
    runtime.converse(modelId=HAIKU, messages=[user("hi")], inferenceConfig={"maxTokens": 1})
    awsim.reset()
    assert calls(awsim) == []


def test_the_ring_keeps_only_n():
    server = Awsim("--invocation-log", "2")
    try:
        runtime = server.client("bedrock-runtime")
        ids = [request_id(runtime.converse(modelId=HAIKU, messages=[user(str(i))], inferenceConfig={"maxTokens": 1})) for i in range(4)]
        assert [c["requestId"] for c in calls(server)] == [ids[3], ids[2]]
        assert get(server, "/_awsim/health")["invocationLog"] == {"capacity": 2, "size": 2}
    finally:
        server.stop()


def test_zero_turns_the_log_off_and_says_so():
    server = Awsim(env={"AWSIM_INVOCATION_LOG": "0"})
    try:
        runtime = server.client("bedrock-runtime")
        rid = request_id(runtime.converse(modelId=HAIKU, messages=[user("hi")], inferenceConfig={"maxTokens": 1}))
        listed = get(server, "/_awsim/invocations")
        assert (listed["enabled"], listed["invocations"]) == (False, [])
        assert "off" in listed["message"]
        status, headers, body = server.http("GET", f"/_awsim/invocations/{rid}")
        assert status == 404 and headers["x-amzn-errortype"] == "ResourceNotFoundException"
        assert "AWSIM_INVOCATION_LOG=0" in json.loads(body)["message"]
    finally:
        server.stop()


def add_rules(server, rules):
    status, _, body = server.http("POST", "/_awsim/rules", rules, {"content-type": "application/json"})
    assert status == 200, body
    return json.loads(body)["ids"]


@pytest.fixture
def steered(awsim):
    awsim.reset()
    yield awsim
    awsim.reset()


def test_the_rule_that_fired_is_in_the_record(steered):
    add_rules(
        steered,
        [
            {"id": "weather", "match": {"prompt": {"contains": "weather"}}, "respond": {"toolUse": {"name": "get_weather", "input": {"city": "Paris"}}}},
            {"id": "break", "match": {"operation": "ConverseStream"}, "fault": {"kind": "modelStreamErrorException", "at": {"afterTokens": 2}}},
            {"id": "cut", "match": {"operation": "InvokeModelWithResponseStream"}, "fault": {"kind": "disconnect", "at": {"afterTokens": 2}}},
        ],
    )
    runtime = steered.client("bedrock-runtime")

    scripted = runtime.converse(modelId=HAIKU, messages=[user("What's the weather?")])
    record = call(steered, request_id(scripted))
    assert record["rule"] == "weather"
    assert record["response"]["toolUses"] == [{"name": "get_weather", "input": {"city": "Paris"}}]
    assert record["response"]["stopReason"] == "tool_use"

    out = runtime.converse_stream(modelId=HAIKU, messages=[user("hi")])
    with pytest.raises(EventStreamError):
        for _ in out["stream"]:
            pass
    record = call(steered, request_id(out))
    assert (record["rule"], record["state"], record["status"]) == ("break", "complete", 200)
    assert record["error"]["code"] == "ModelStreamErrorException"
    assert record["events"][-1]["messageType"] == "exception"

    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})
    out = runtime.invoke_model_with_response_stream(modelId=HAIKU, body=body)
    with pytest.raises(Exception):
        for _ in out["body"]:
            pass
    record = call(steered, request_id(out))
    # awsim cut the connection: nothing after the cut is in the record.
    assert (record["rule"], record["state"], record["error"]) == ("cut", "aborted", None)
    assert all(e["messageType"] == "event" for e in record["events"])


def test_a_quota_throttle_says_why():
    server = Awsim("--bedrock-quota", "1")
    try:
        runtime = server.client("bedrock-runtime")
        runtime.converse(modelId=US_HAIKU, messages=[user("hi")], inferenceConfig={"maxTokens": 1})
        with pytest.raises(ClientError) as err:
            runtime.converse(modelId=US_HAIKU, messages=[user("hi")], inferenceConfig={"maxTokens": 1})
        record = call(server, err.value.response["ResponseMetadata"]["RequestId"])
        assert (record["status"], record["rule"]) == (429, None)
        assert record["error"] == {
            "code": "ThrottlingException",
            "message": err.value.response["Error"]["Message"],
            "reason": f"--bedrock-quota: over 1 requests per 60 s for {HAIKU} in us-east-1",
        }
    finally:
        server.stop()


def test_a_guardrail_intervention_is_in_the_record(awsim, bedrock, runtime):
    gid = bedrock.create_guardrail(
        name="no-cactus",
        blockedInputMessaging="BLOCKED_INPUT",
        blockedOutputsMessaging="BLOCKED_OUTPUT",
        wordPolicyConfig={"wordsConfig": [{"text": "cactus"}]},
    )["guardrailId"]
    guard = {"guardrailIdentifier": gid, "guardrailVersion": "DRAFT"}

    blocked = runtime.converse(modelId=HAIKU, messages=[user("I love my cactus.")], guardrailConfig=guard)
    assert blocked["stopReason"] == "guardrail_intervened"
    record = call(awsim, request_id(blocked))
    assert record["response"]["stopReason"] == "guardrail_intervened"
    assert record["response"]["text"] == "BLOCKED_INPUT"
    # The trace is kept though the caller did not ask for one.
    assert "trace" not in blocked
    assert record["guardrail"]["action"] == "INTERVENED"
    words = record["guardrail"]["inputAssessment"][gid]["wordPolicy"]["customWords"]
    assert words[0]["match"] == "cactus" and words[0]["action"] == "BLOCKED"

    out = runtime.converse_stream(modelId=HAIKU, messages=[user("I love my garden.")], guardrailConfig=guard)
    stops = [e["messageStop"]["stopReason"] for e in out["stream"] if "messageStop" in e]
    record = call(awsim, request_id(out))
    assert record["response"]["stopReason"] == stops[0] == "end_turn"
    assert record["guardrail"]["action"] == "NONE"

    applied = runtime.apply_guardrail(guardrailIdentifier=gid, guardrailVersion="DRAFT", source="INPUT", content=[{"text": {"text": "a cactus"}}])
    record = call(awsim, request_id(applied))
    assert (record["operation"], record["modelId"]) == ("ApplyGuardrail", gid)
    assert record["response"]["stopReason"] == "guardrail_intervened"
    assert record["response"]["text"] == "BLOCKED_INPUT"
    assert [c["requestId"] for c in calls(awsim, "?operation=ApplyGuardrail")][0] == request_id(applied)
