"""The runtime seen from boto3: its own event-stream parser consumes every stream."""

import base64
import json

import pytest
from botocore.exceptions import ClientError, EventStreamError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SIGV4 = "AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock-runtime/aws4_request, SignedHeaders=host, Signature=fake"


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def test_converse_stream_in_bedrock_order(runtime):
    resp = runtime.converse_stream(modelId=HAIKU, messages=[user("What is AWS?")])
    events = list(resp["stream"])
    names = [next(iter(e)) for e in events]
    assert names[0] == "messageStart"
    assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert "contentBlockStart" not in names  # text blocks have none
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert "What is AWS?" in text
    assert names.count("contentBlockDelta") > 20
    meta = events[-1]["metadata"]
    assert meta["usage"]["outputTokens"] == names.count("contentBlockDelta")
    assert isinstance(meta["metrics"]["latencyMs"], int)
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"


def test_converse_matches_the_stream(runtime):
    whole = runtime.converse(modelId=HAIKU, messages=[user("hello")], inferenceConfig={"maxTokens": 10})
    assert whole["stopReason"] == "max_tokens"
    assert whole["usage"]["outputTokens"] == 10
    streamed = list(runtime.converse_stream(modelId=HAIKU, messages=[user("hello")], inferenceConfig={"maxTokens": 10})["stream"])
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in streamed if "contentBlockDelta" in e)
    assert whole["output"]["message"]["content"][0]["text"] == text


def test_converse_stream_tool_use_reassembles(runtime):
    tools = {
        "tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}],
        "toolChoice": {"tool": {"name": "get_weather"}},
    }
    events = list(runtime.converse_stream(modelId=HAIKU, messages=[user("weather?")], toolConfig=tools)["stream"])
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    assert start["start"]["toolUse"]["toolUseId"].startswith("tooluse_")
    fragments = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e]
    assert len(fragments) > 1
    assert json.loads("".join(fragments)) == {"city": "Seattle"}
    assert next(e for e in events if "messageStop" in e)["messageStop"]["stopReason"] == "tool_use"


def test_invoke_model_anthropic(runtime):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "messages": [{"role": "user", "content": "What is AWS?"}]}
    resp = runtime.invoke_model(modelId=HAIKU, body=json.dumps(body))
    out = json.loads(resp["body"].read())
    assert out["type"] == "message"
    assert out["id"].startswith("msg_bdrk_")
    assert out["model"] == "claude-3-haiku-20240307"
    assert "What is AWS?" in out["content"][0]["text"]
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-output-token-count"]) == out["usage"]["output_tokens"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) == out["usage"]["input_tokens"]
    assert "x-amzn-bedrock-invocation-latency" in headers


def test_invoke_model_with_response_stream_anthropic(runtime):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]}
    resp = runtime.invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(body))
    assert resp["contentType"] == "application/json"
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    types = [c["type"] for c in chunks]
    assert types[0] == "message_start" and types[1] == "content_block_start"
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    assert "hi" in text
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == chunks[-2]["usage"]["output_tokens"]
    assert set(metrics) == {"inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency"}


def test_inference_profile_ids_and_encoded_arns_resolve(runtime):
    for model in [f"us.{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"]:
        out = runtime.converse(modelId=model, messages=[user("hi")])
        assert out["stopReason"] == "end_turn"


def test_unknown_model_is_a_validation_error(runtime):
    with pytest.raises(ClientError) as err:
        runtime.converse(modelId="nope", messages=[user("hi")])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == "The provided model identifier is invalid."


def test_malformed_anthropic_body_names_the_key(runtime):
    with pytest.raises(ClientError) as err:
        runtime.invoke_model(modelId=HAIKU, body=json.dumps({"anthropic_version": "bedrock-2023-05-31", "messages": []}))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "required key [max_tokens] not found" in err.value.response["Error"]["Message"]


def test_image_and_document_bytes_must_be_base64(awsim, runtime):
    # boto3 base64-encodes `bytes` itself: real bytes are taken.
    out = runtime.converse(
        modelId=HAIKU,
        messages=[{"role": "user", "content": [
            {"text": "What is in these?"},
            {"image": {"format": "png", "source": {"bytes": b"\x89PNG\r\n\x1a\n"}}},
            {"document": {"format": "pdf", "name": "report", "source": {"bytes": b"%PDF-1.4"}}},
        ]}],
    )
    assert out["stopReason"] == "end_turn"

    # A hand-written body whose bytes are not base64 is refused before any model sees it.
    image = {"image": {"format": "png", "source": {"bytes": "!!!notbase64"}}}
    status, headers, body = awsim.http(
        "POST",
        f"/model/{HAIKU}/converse",
        {"messages": [{"role": "user", "content": [{"text": "What is this?"}, image]}]},
        {"Content-Type": "application/json"},
    )
    assert status == 400
    assert headers["X-Amzn-ErrorType"] == "ValidationException"
    assert json.loads(body)["message"] == (
        "The format of the value at messages.0.content.1.image.source.bytes is invalid. "
        "Provide base64-encoded bytes for the field and try again."
    )

    # In an InvokeModel body the base64 is the caller's own, whatever the client.
    messages = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "!!!notbase64"}},
    ]}]}
    with pytest.raises(ClientError) as err:
        runtime.invoke_model(modelId=HAIKU, body=json.dumps(messages))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == "messages.0.content.0.image.source.base64: invalid base64 data"


def test_count_tokens_matches_converse_usage(runtime):
    messages = [user("How many tokens is this?")]
    counted = runtime.count_tokens(modelId=HAIKU, input={"converse": {"messages": messages}})
    used = runtime.converse(modelId=HAIKU, messages=messages)["usage"]["inputTokens"]
    assert counted["inputTokens"] == used
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "abc def"}]})
    counted = runtime.count_tokens(modelId=HAIKU, input={"invokeModel": {"body": body}})
    out = json.loads(runtime.invoke_model(modelId=HAIKU, body=body)["body"].read())
    assert counted["inputTokens"] == out["usage"]["input_tokens"]


def test_curl_gets_the_json_array(awsim):
    status, headers, body = awsim.http(
        "POST",
        "/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream",
        {"messages": [user("Hello!")], "inferenceConfig": {"maxTokens": 5}},
        {"Content-Type": "application/json", "Authorization": SIGV4},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    events = json.loads(body)
    assert list(events[0]) == ["messageStart"]
    assert list(events[-1]) == ["metadata"]

    status, _, body = awsim.http(
        "POST",
        f"/model/{HAIKU}/invoke-with-response-stream",
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        {"Content-Type": "application/json"},
    )
    chunks = json.loads(body)
    assert chunks[0]["contentType"] == "application/json"
    assert chunks[0]["body"]["type"] == "message_start"
    assert chunks[-1]["body"]["type"] == "message_stop"


def test_a_library_that_signs_its_own_requests_gets_frames(awsim):
    # As LiteLLM-style libraries do: botocore's signer, their own HTTP client, no AWS SDK headers,
    # `Accept: application/json`, and an event-stream decoder on the body whatever they asked for.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.eventstream import EventStreamBuffer

    url = f"{awsim.url}/model/{HAIKU}/invoke-with-response-stream"
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    request = AWSRequest("POST", url, data=body, headers={"Content-Type": "application/json", "Accept": "application/json"})
    SigV4Auth(Credentials("test", "test"), "bedrock", "us-east-1").add_auth(request)
    status, headers, raw = awsim.http("POST", url.removeprefix(awsim.url), body.encode(), dict(request.headers))
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.amazon.eventstream"
    frames = EventStreamBuffer()
    frames.add_data(raw)
    types = [json.loads(base64.b64decode(json.loads(f.payload)["bytes"]))["type"] for f in frames]
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    assert types.count("content_block_delta") == 5


def test_per_request_header_forces_frames_for_curl(awsim):
    status, headers, body = awsim.http(
        "POST",
        f"/model/{HAIKU}/converse-stream",
        {"messages": [user("Hello!")]},
        {"x-awsim-stream-format": "eventstream"},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.amazon.eventstream"
    assert body[:4] != b"[{\"m"
