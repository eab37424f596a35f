"""End to end against a real backend: llama.cpp's llama-server with Gemma 3 270M (scripts/real-backend),
awsim in front of it (the real binary), boto3 in front of awsim.

Figures measured along the way (time to first token, frames per answer) are printed at the end of
the run.
"""

import os
import pathlib
import re
import subprocess
import threading
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]
REPORT = []


def report(line):
    """Adds a line to the figures printed after the tests."""
    REPORT.append(line)


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("real backend figures")
        for line in REPORT:
            terminalreporter.write_line(line)


class LlamaServer:
    def __init__(self):
        self.log = open(ROOT / "target" / "llama-server.log", "w")
        self.proc = subprocess.Popen(
            [str(ROOT / "scripts" / "real-backend"), "serve"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("url="):
            raise RuntimeError(f"scripts/real-backend serve said {line!r}; see target/llama-server.log")
        self.url = line[len("url="):]
        base = self.url.rsplit("/v1", 1)[0]
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("llama-server did not become healthy; see target/llama-server.log")
            time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()


class Awsim:
    def __init__(self, *args):
        binary = os.environ.get("AWSIM_BIN", str(ROOT / "target" / "debug" / "awsim"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWSIM_")}
        self.proc = subprocess.Popen(
            [binary, "--port", "0", *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True
        )
        for line in self.proc.stderr:
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                break
        else:
            raise RuntimeError("awsim did not start")
        # Keep reading its log so a full pipe never blocks it.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def client(self):
        return boto3.client(
            "bedrock-runtime",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="session")
def llama():
    server = LlamaServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def awsim(llama):
    server = Awsim("--bedrock-backend", llama.url, "--bedrock-backend-timeout", "120")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rt(awsim):
    return awsim.client()
