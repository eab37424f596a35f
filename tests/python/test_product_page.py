"""The product page's curl examples, verbatim (only the host:port changes), run with real curl."""

import json
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")

LIST_MODELS = """curl -s http://localhost:4566/foundation-models \\
  -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=fake" \\
  | python3 -c 'import json,sys; [print(m["modelId"]) for m in json.load(sys.stdin)["modelSummaries"]]'"""

INVOKE_HAIKU = """curl -s -X POST "http://localhost:4566/model/anthropic.claude-3-haiku-20240307-v1:0/invoke" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock-runtime/aws4_request, SignedHeaders=host, Signature=fake" \\
  -d '{"anthropic_version":"bedrock-2023-05-31","max_tokens":256,"messages":[{"role":"user","content":"What is AWS?"}]}'"""

INVOKE_SONNET = """curl -s -X POST "http://localhost:4566/model/anthropic.claude-3-sonnet-20240229-v1:0/invoke" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock-runtime/aws4_request, SignedHeaders=host, Signature=fake" \\
  -d '{"anthropic_version":"bedrock-2023-05-31","max_tokens":512,"messages":[{"role":"user","content":"Explain S3 in one sentence."}]}'"""

CONVERSE_TITAN = """curl -s -X POST "http://localhost:4566/model/amazon.titan-text-express-v1/converse" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock-runtime/aws4_request, SignedHeaders=host, Signature=fake" \\
  -d '{"messages":[{"role":"user","content":[{"type":"text","text":"Hello!"}]}],"inferenceConfig":{"maxTokens":100}}'"""


# The page's curl examples, pointed at the streaming operations: what a person types gets the JSON array.
STREAM_HAIKU = INVOKE_HAIKU.replace("/invoke", "/invoke-with-response-stream")
STREAM_TITAN = CONVERSE_TITAN.replace("/converse", "/converse-stream")


def run(awsim, command):
    out = subprocess.run(["bash", "-c", command.replace("http://localhost:4566", awsim.url)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_list_foundation_models(awsim):
    ids = run(awsim, LIST_MODELS).split()
    assert "anthropic.claude-3-haiku-20240307-v1:0" in ids
    assert len(ids) >= 60


@pytest.mark.parametrize("command,asked", [(INVOKE_HAIKU, "What is AWS?"), (INVOKE_SONNET, "Explain S3 in one sentence.")])
def test_invoke_claude(awsim, command, asked):
    out = json.loads(run(awsim, command))
    assert out["role"] == "assistant"
    assert out["content"][0]["type"] == "text"
    assert asked in out["content"][0]["text"]
    assert out["stop_reason"] == "end_turn"


def test_converse_with_the_type_text_blocks(awsim):
    out = json.loads(run(awsim, CONVERSE_TITAN))
    assert out["output"]["message"]["role"] == "assistant"
    assert "Hello!" in out["output"]["message"]["content"][0]["text"]
    assert set(out["usage"]) >= {"inputTokens", "outputTokens", "totalTokens"}
    assert out["stopReason"] in ("end_turn", "max_tokens")


def test_streaming_with_the_pages_curl_prints_the_json_array(awsim):
    chunks = json.loads(run(awsim, STREAM_HAIKU))
    assert [c["body"]["type"] for c in chunks[:2]] == ["message_start", "content_block_start"]
    assert chunks[-1]["body"]["type"] == "message_stop"
    text = "".join(c["body"]["delta"]["text"] for c in chunks if c["body"]["type"] == "content_block_delta")
    assert "What is AWS?" in text

    events = json.loads(run(awsim, STREAM_TITAN))
    assert list(events[0]) == ["messageStart"]
    assert list(events[-1]) == ["metadata"]
