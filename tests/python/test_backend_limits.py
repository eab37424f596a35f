"""boto3 through awsim to upstreams that misbehave: one that goes silent mid-answer, one that ignores
max_tokens. What boto3 gets is a modeled exception or a proper max_tokens stop, never a hang."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import EventStreamError

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def chunk(delta):
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


class Upstream:
    """Answers every chat request with `tokens`, then nothing more until awsim hangs up (the
    connection is left open, as a stalled server leaves it); `hung_up` is set when it does."""

    def __init__(self, tokens):
        self.bodies = []
        self.hung_up = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                upstream.bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                try:
                    for item in [chunk({"role": "assistant", "content": ""})] + [chunk({"content": t}) for t in tokens]:
                        self.wfile.write(f"data: {json.dumps(item)}\n\n".encode())
                        self.wfile.flush()
                    self.connection.settimeout(30)
                    if self.rfile.read(1) == b"":
                        upstream.hung_up.set()
                except OSError:
                    upstream.hung_up.set()  # awsim hung up while we wrote
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def silent():
    upstream = Upstream(["Hello", ","])
    server = Awsim("--bedrock-backend", upstream.url, "--bedrock-backend-idle-timeout", "1")
    yield server, upstream
    server.stop()
    upstream.close()


def test_a_backend_gone_silent_reaches_boto3_as_a_modeled_exception(silent):
    server, upstream = silent
    rt = server.client("bedrock-runtime")
    resp = rt.converse_stream(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    texts = []
    with pytest.raises(EventStreamError) as err:
        for event in resp["stream"]:
            if "contentBlockDelta" in event:
                texts.append(event["contentBlockDelta"]["delta"]["text"])
    assert texts == ["Hello", ","]
    assert err.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert "--bedrock-backend-idle-timeout" in err.value.response["Error"]["Message"]
    assert upstream.hung_up.wait(10), "awsim closed the stalled backend connection"


@pytest.fixture
def runaway():
    upstream = Upstream([f" t{i}" for i in range(40)])
    server = Awsim("--bedrock-backend", upstream.url)
    yield server, upstream
    server.stop()
    upstream.close()


def test_a_backend_that_ignores_max_tokens_is_stopped_there(runaway):
    server, upstream = runaway
    rt = server.client("bedrock-runtime")
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 4, "messages": [{"role": "user", "content": "count"}]}
    resp = rt.invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(body))
    events = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == " t0 t1 t2 t3"
    stop = next(e for e in events if e["type"] == "message_delta")
    assert stop["delta"]["stop_reason"] == "max_tokens"
    assert stop["usage"]["output_tokens"] == 4
    assert upstream.bodies[0]["max_tokens"] == 4
    assert upstream.hung_up.wait(10), "awsim closed the backend connection instead of reading on"
