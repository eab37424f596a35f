"""HTTPS on awsim's one port: boto3 trusts the generated CA (verify= or AWS_CA_BUNDLE) and sends a
Bedrock API key (AWS_BEARER_TOKEN_BEDROCK), which botocore sends over https only."""

import os
import subprocess
import sys

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hello over TLS"}]}]
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ca = tmp_path_factory.mktemp("tls") / "ca.pem"
    server = Awsim("--tls-ca-out", str(ca))
    assert server.ca == str(ca)
    yield server
    server.stop()


def converse_both_ways(runtime):
    reply = runtime.converse(modelId=HAIKU, messages=MESSAGES)
    assert reply["output"]["message"]["content"][0]["text"]
    events = list(runtime.converse_stream(modelId=HAIKU, messages=MESSAGES)["stream"])
    assert "messageStart" in events[0] and "metadata" in events[-1]
    assert sum("contentBlockDelta" in e for e in events) > 1


def test_boto3_over_https_trusting_the_generated_ca(server):
    runtime = boto3.client(
        "bedrock-runtime",
        endpoint_url=server.https_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        verify=server.ca,
        config=NO_RETRIES,
    )
    converse_both_ways(runtime)


def test_a_client_that_does_not_trust_the_ca_is_refused(server):
    runtime = boto3.client(
        "bedrock-runtime",
        endpoint_url=server.https_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=NO_RETRIES,
    )
    with pytest.raises(botocore.exceptions.SSLError):
        runtime.converse(modelId=HAIKU, messages=MESSAGES)


def test_bedrock_api_key_over_https(server, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-test")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    session = boto3.Session(region_name="us-east-1")
    runtime = session.client("bedrock-runtime", endpoint_url=server.https_url, verify=server.ca, config=NO_RETRIES)
    converse_both_ways(runtime)
    # The same client over plain http: botocore will not send a bearer token in the clear.
    plain = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRIES)
    with pytest.raises(Exception, match="HTTPS"):
        plain.converse(modelId=HAIKU, messages=MESSAGES)


def test_aws_ca_bundle_in_a_fresh_process(server):
    """The environment variable every AWS SDK for Python user can set without touching code."""
    code = (
        "import boto3\n"
        f"r = boto3.client('bedrock-runtime', endpoint_url='{server.https_url}', region_name='us-east-1',"
        " aws_access_key_id='test', aws_secret_access_key='test')\n"
        f"print(r.converse(modelId='{HAIKU}', messages={MESSAGES!r})['stopReason'])\n"
    )
    env = {**os.environ, "AWS_CA_BUNDLE": server.ca}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in ("end_turn", "max_tokens")


def test_requests_hyper_refuses_reach_boto3_as_modeled_errors(awsim):
    """A 100,000-character model id makes a request line hyper refuses before awsim runs: the
    answer still carries X-Amzn-ErrorType, so boto3 names the error instead of "Unknown"."""
    runtime = awsim.client("bedrock-runtime")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        runtime.converse(modelId="m" * 100_000, messages=MESSAGES)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 414
    assert "path and query string" in err.value.response["Error"]["Message"]
