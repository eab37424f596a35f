"""boto3 through awsim to a scripted fake OpenAI upstream (--bedrock-backend).

The fake records every request so the translated body is checked as closely as the answer.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError, EventStreamError

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def chunk(delta, finish=None):
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def answer(tokens, finish="stop", prompt=9):
    return (
        [chunk({"role": "assistant", "content": ""})]
        + [chunk({"content": t}) for t in tokens]
        + [chunk({}, finish), {"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": len(tokens)}}, "[DONE]"]
    )


def tool_calls():
    return [
        chunk({"role": "assistant"}),
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Rome"}'}}]}),
        chunk({}, "tool_calls"),
        {"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 12}},
        "[DONE]",
    ]


class Fake:
    """A scripted upstream: `script` maps a path to a list of SSE items (dicts or "[DONE]"), or to a
    (status, body) pair; `cut` ends an SSE answer without a finish."""

    def __init__(self):
        self.requests = []
        self.script = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.reply()

            def do_POST(self):
                self.reply()

            def reply(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": json.loads(raw) if raw else None})
                item = fake.script.get(self.path, (404, {"error": f"no route {self.path}"}))
                if isinstance(item, tuple):
                    status, body = item
                    data = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                for event in item:
                    if event == "cut":
                        break
                    data = event if isinstance(event, str) else json.dumps(event)
                    self.wfile.write(f"data: {data}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(0.005)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def last(self):
        return self.requests[-1]

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def fake():
    f = Fake()
    yield f
    f.close()


@pytest.fixture(scope="module")
def backed(fake):
    server = Awsim("--bedrock-backend", fake.url, "--bedrock-api-key", "sk-py", "--bedrock-backend-timeout", "3")
    yield server
    server.stop()


@pytest.fixture
def rt(backed, fake):
    fake.requests.clear()
    fake.script = {"/v1/chat/completions": answer(["Hello", ",", " world"])}
    return backed.client("bedrock-runtime")


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def test_converse_stream_carries_each_backend_token_and_its_usage(rt, fake):
    resp = rt.converse_stream(
        modelId=HAIKU,
        system=[{"text": "Be brief."}],
        messages=[user("Say hello")],
        inferenceConfig={"maxTokens": 20, "temperature": 0.3, "stopSequences": ["END"]},
    )
    events = list(resp["stream"])
    deltas = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert deltas == ["Hello", ",", " world"]
    assert list(events[0]) == ["messageStart"]
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"] == {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12}
    sent = fake.last()
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-py"
    assert sent["body"] == {
        "model": "llama3.1:8b",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 20,
        "temperature": 0.3,
        "stop": ["END"],
    }


def test_invoke_stream_anthropic_and_titan_bodies(rt, fake):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 30, "top_k": 4, "messages": [{"role": "user", "content": "hi"}]}
    resp = rt.invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(body))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    texts = [c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta"]
    assert texts == ["Hello", ",", " world"]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 3
    assert fake.last()["body"]["top_k"] == 4

    body = {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 30, "topP": 0.8}}
    resp = rt.invoke_model_with_response_stream(modelId="amazon.titan-text-express-v1", body=json.dumps(body))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    assert [c["outputText"] for c in chunks if c.get("outputText")] == ["Hello", ",", " world"]
    assert chunks[-1]["completionReason"] == "FINISH"
    assert fake.last()["body"]["top_p"] == 0.8


def test_parallel_tool_calls_become_tool_use_blocks(rt, fake):
    fake.script["/v1/chat/completions"] = tool_calls()
    tool = {"toolSpec": {"name": "weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}
    out = rt.converse(
        modelId=HAIKU,
        messages=[user("weather in Paris and Rome")],
        toolConfig={"tools": [tool], "toolChoice": {"any": {}}},
    )
    assert out["stopReason"] == "tool_use"
    uses = [b["toolUse"] for b in out["output"]["message"]["content"] if "toolUse" in b]
    assert [u["input"] for u in uses] == [{"city": "Paris"}, {"city": "Rome"}]
    assert fake.last()["body"]["tool_choice"] == "required"
    assert out["usage"]["outputTokens"] == 12


def test_converse_stream_json_array_format(backed, rt):
    status, headers, body = backed.http(
        "POST",
        f"/model/{HAIKU}/converse-stream",
        {"messages": [user("hi")]},
        {"content-type": "application/json", "x-awsim-stream-format": "json"},
    )
    assert status == 200
    events = json.loads(body)
    assert [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e] == ["Hello", ",", " world"]
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 3


def test_embeddings_come_from_the_backend(rt, fake):
    fake.script["/v1/embeddings"] = (200, {"data": [{"index": 0, "embedding": [0.5] * 640}], "usage": {"prompt_tokens": 2}})
    out = json.loads(rt.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "hi", "dimensions": 512}))["body"].read())
    assert len(out["embedding"]) == 512
    assert out["inputTextTokenCount"] == 2
    assert fake.last()["body"] == {"model": "nomic-embed-text", "input": ["hi"]}


def test_backend_errors_are_bedrock_errors(rt, fake):
    fake.script["/v1/chat/completions"] = (404, {"error": 'model "llama3.1:8b" not found, try pulling it first'})
    with pytest.raises(ClientError) as err:
        rt.converse(modelId=HAIKU, messages=[user("hi")])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "ollama pull llama3.1:8b" in err.value.response["Error"]["Message"]

    fake.script["/v1/chat/completions"] = (503, {"error": {"message": "overloaded"}})
    with pytest.raises(ClientError) as err:
        rt.converse_stream(modelId=HAIKU, messages=[user("hi")])
    assert err.value.response["Error"]["Code"] == "ModelErrorException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424


def test_a_truncated_backend_stream_ends_in_an_exception_event(rt, fake):
    fake.script["/v1/chat/completions"] = [chunk({"content": "half"}), "cut"]
    resp = rt.converse_stream(modelId=HAIKU, messages=[user("hi")])
    seen = []
    with pytest.raises(EventStreamError) as err:
        for event in resp["stream"]:
            seen.append(event)
    assert err.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert any("contentBlockDelta" in e for e in seen)


def test_an_unreachable_backend_is_service_unavailable():
    server = Awsim("--bedrock-backend", "http://127.0.0.1:9/v1")
    try:
        rt = server.client("bedrock-runtime")
        with pytest.raises(ClientError) as err:
            rt.converse(modelId=HAIKU, messages=[user("hi")])
        assert err.value.response["Error"]["Code"] == "ServiceUnavailableException"
        assert "127.0.0.1:9" in err.value.response["Error"]["Message"]
        status, _, body = server.http("GET", "/_awsim/health")
        assert status == 200
        assert json.loads(body)["backendStatus"]["reachable"] is False
    finally:
        server.stop()
