"""Bounded work for every request, seen from boto3: a schema that asks a canned answer for far more
than it should hold gets a tool input within the caps, and a second client served by the same
serving thread (`--workers 1`) is answered meanwhile."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
TOOL_INPUT_MAX_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def one_thread():
    """awsim with one serving thread: every connection shares its event loop."""
    server = Awsim("--workers", "1")
    yield server
    server.stop()


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def nested_arrays(levels, leaf):
    for _ in range(levels):
        leaf = {"type": "array", "minItems": 16, "items": leaf}
    return leaf


# Sixteen items a level, six levels deep: 16^6 numbers asked for by a request of a few hundred bytes.
DEEP = {"type": "object", "properties": {"a": nested_arrays(6, {"type": "integer"})}}
# Ten million characters of one string.
LONG = {"type": "object", "properties": {"s": {"type": "string", "minLength": 10_000_000}}}


def test_costly_tool_schemas_get_capped_inputs_while_another_client_is_served(one_thread):
    # The read timeout is a hang guard only: the caps keep every call far below it.
    costly = one_thread.client("bedrock-runtime", read_timeout=120)
    other = one_thread.client("bedrock-runtime", read_timeout=120)

    def converse_deep():
        out = costly.converse(
            modelId=HAIKU,
            messages=[user("fill it in")],
            toolConfig={"tools": [{"toolSpec": {"name": "fill", "inputSchema": {"json": DEEP}}}], "toolChoice": {"any": {}}},
        )
        assert out["stopReason"] == "tool_use"
        return out["output"]["message"]["content"][0]["toolUse"]["input"]

    def invoke_long():
        body = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "fill it in"}],
            "tools": [{"name": "fill", "input_schema": LONG}],
            "tool_choice": {"type": "any"},
        }
        out = json.loads(costly.invoke_model(modelId=HAIKU, body=json.dumps(body))["body"].read())
        assert out["stop_reason"] == "tool_use"
        return out["content"][0]["input"]

    def hello():
        out = other.converse(modelId=HAIKU, messages=[user("Hello!")])
        return out["output"]["message"]["content"][0]["text"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        deep = pool.submit(converse_deep)
        long = pool.submit(invoke_long)
        greetings = [pool.submit(hello) for _ in range(5)]
        deep, long = deep.result(), long.result()
        greetings = [g.result() for g in greetings]

    assert all("Hello!" in text for text in greetings)
    for tool_input in (deep, long):
        assert len(json.dumps(tool_input, separators=(",", ":"))) <= TOOL_INPUT_MAX_BYTES
    assert deep["a"][0][0][0][0][0][0] == 1
    assert len(long["s"]) == 4096
