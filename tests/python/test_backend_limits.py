"""boto3 through awsim to an upstream that goes silent mid-answer: what boto3 gets is a modeled
exception, never a hang."""

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
