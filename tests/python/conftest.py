"""boto3 against a real awsim binary on an ephemeral port.

The binary is target/debug/awsim (or $AWSIM_BIN); scripts/test builds it first.
"""

import json
import os
import pathlib
import re
import subprocess
import urllib.request

import boto3
import pytest
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Awsim:
    """A running awsim process."""

    def __init__(self, *args, env=None):
        binary = os.environ.get("AWSIM_BIN", str(ROOT / "target" / "debug" / "awsim"))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWSIM_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [binary, "--port", "0", *args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=full_env,
            text=True,
        )
        self.log = []
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                break
        else:
            raise RuntimeError("awsim did not start:\n" + "".join(self.log))
        # HTTPS on the same port, with the generated CA (health names where it was written).
        with urllib.request.urlopen(self.url + "/_awsim/health") as resp:
            tls = json.load(resp).get("tls") or {}
        self.ca = tls.get("caCertificate")
        self.https_url = "https://localhost:" + self.url.rsplit(":", 1)[1]

    def client(self, service, region="us-east-1", **config):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def anthropic(self, api_key=None):
        """The Anthropic SDK's Bedrock client: its own HTTP stack, SigV4 by botocore's signer (or a
        Bedrock API key as a bearer token), streams decoded by botocore's event-stream parser."""
        import anthropic

        credentials = {"api_key": api_key} if api_key else {"aws_access_key": "test", "aws_secret_key": "test"}
        return anthropic.AnthropicBedrock(base_url=self.url, aws_region="us-east-1", max_retries=0, **credentials)

    def http(self, method, path, body=None, headers=None):
        """A plain HTTP request (curl-style); returns (status, headers (case-insensitive), body bytes)."""
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def reset(self):
        self.http("POST", "/_awsim/reset")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="session")
def awsim():
    server = Awsim()
    yield server
    server.stop()


@pytest.fixture
def bedrock(awsim):
    awsim.reset()
    return awsim.client("bedrock")


@pytest.fixture
def runtime(awsim):
    awsim.reset()
    return awsim.client("bedrock-runtime")


@pytest.fixture
def claude(awsim):
    awsim.reset()
    return awsim.anthropic()
