"""The invocation log seen from boto3: what each call sent and got back, at /_awsim/invocations."""

import json
import time

import pytest
from botocore.exceptions import ClientError

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
    status, headers, body = awsim.http("GET", "/_awsim/invocations?limit=-1")
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert "limit '-1'" in json.loads(body)["message"]


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
