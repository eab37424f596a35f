"""The README's examples, verbatim. The line before each code block says how it is tested:

- `<!-- tested: sh -->`, `<!-- tested: python -->`: run here against a live awsim, with
  `http://localhost:4566` replaced by its URL and `awsim` on the PATH (as after `cargo install`);
  a Python block that defines `test_` functions is a pytest module, and pytest runs it;
- `<!-- tested: js -->`: run the same way by tests/js/readme.test.js;
- `<!-- tested: rust -->`: the file examples/converse_stream.rs, which `cargo test` builds; run here;
- `<!-- tested: dependencies -->`: the Cargo.toml lines that example needs, which awsim's own
  dev-dependencies must provide;
- `<!-- tested: model-map -->`: a model map file a real awsim must load;
- `<!-- tested: scenario -->`: a scenario file (`--scenario`) a real awsim must load;
- `<!-- tested: invocation -->`: a call as the invocation log shows it, which must have the fields
  of a real one, in order;
- `<!-- syntax-checked: sh -->`: commands that build, install, start a server or need a backend,
  only parsed.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest

from conftest import Awsim

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
RUST_EXAMPLE = ROOT / "examples" / "converse_stream.rs"
MARKER = re.compile(r"<!-- (tested|syntax-checked): ([\w-]+) -->")
KINDS = {
    "tested": {"sh", "python", "js", "rust", "dependencies", "model-map", "scenario", "invocation"},
    "syntax-checked": {"sh"},
}


@dataclass
class Block:
    line: int
    how: str  # "tested: sh", … or "" when the block carries no marker
    code: str


def blocks():
    lines = README.split("\n")
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            marker = MARKER.fullmatch(lines[i - 1]) if i > 0 else None
            how = f"{marker[1]}: {marker[2]}" if marker and marker[2] in KINDS[marker[1]] else ""
            found.append(Block(i + 1, how, "\n".join(lines[i + 1 : end]) + "\n"))
            i = end + 1
        else:
            i += 1
    return found


def marked(how):
    chosen = [b for b in blocks() if b.how == how]
    return pytest.mark.parametrize("block", chosen, ids=[f"line-{b.line}" for b in chosen])


def awsim_dir():
    return pathlib.Path(os.environ.get("AWSIM_BIN", str(ROOT / "target" / "debug" / "awsim"))).parent


def test_every_code_block_says_how_it_is_tested():
    unmarked = [b.line for b in blocks() if not b.how]
    assert not unmarked, f"README code blocks at lines {unmarked} need a <!-- tested: … --> marker"
    assert len([b for b in blocks() if b.how.startswith("tested")]) >= 8


@marked("tested: sh")
def test_shell_example(awsim, block, tmp_path):
    if "curl " in block.code and shutil.which("curl") is None:
        pytest.skip("curl not installed")
    env = {**os.environ, "PATH": f"{awsim_dir()}{os.pathsep}{os.environ['PATH']}"}
    code = (
        block.code.replace("http://localhost:4566", awsim.url)
        .replace("https://localhost:4566", awsim.https_url)
        .replace("/tmp/awsim-4566-ca.pem", awsim.ca)
    )
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip(), "the example prints something"
    assert_no_error(out.stdout)


def assert_no_error(stdout):
    """No AWS error in an example's output: an error body, or an exception raised or streamed.
    (Rules and fault kinds that name an exception are not errors; Converse's `"message": {…}` is
    an answer, an error's message is a string.)"""
    assert not re.search(r'"message"\s*:\s*"', stdout), stdout
    assert not re.search(r"\w+Exception[:(]|Traceback", stdout), stdout


@marked("tested: python")
def test_python_example(awsim, block, tmp_path):
    code = (
        block.code.replace("http://localhost:4566", awsim.url)
        .replace("https://localhost:4566", awsim.https_url)
        .replace("/tmp/awsim-4566-ca.pem", awsim.ca)
    )
    if re.search(r"^def test_", code, re.MULTILINE):
        (tmp_path / "test_example.py").write_text(code)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"]
    else:
        command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip(), "the example prints something"
    assert_no_error(out.stdout)


@marked("syntax-checked: sh")
def test_shell_commands_parse(block):
    out = subprocess.run(["bash", "-n", "-c", block.code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_each_rust_example_is_a_runnable_one_and_runs(awsim):
    rust = [b for b in blocks() if b.how == "tested: rust"]
    examples = {path.stem: path.read_text() for path in (ROOT / "examples").glob("*.rs")}
    # Each program takes the endpoint (and, over https, the CA file) as arguments.
    arguments = {"converse_stream": [awsim.url], "converse_https": [awsim.https_url, awsim.ca]}
    assert len(rust) == len(arguments), "every README Rust example is a program in examples/"
    for block in rust:
        names = [name for name, text in examples.items() if text == block.code]
        assert names, f"README's Rust example at line {block.line} must be a file of examples/, verbatim"
        binary = awsim_dir() / "examples" / names[0]
        assert binary.exists(), f"{binary} is missing: build it with `cargo build --examples`"
        out = subprocess.run([binary, *arguments[names[0]]], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "awsim" in out.stdout, out.stdout


def test_the_rust_example_needs_only_the_dependencies_shown():
    (block,) = [b for b in blocks() if b.how == "tested: dependencies"]
    shown = tomllib.loads(block.code)["dependencies"]
    ours = tomllib.loads((ROOT / "Cargo.toml").read_text())["dev-dependencies"]
    major = lambda spec: (spec if isinstance(spec, str) else spec["version"]).split(".")[0]
    for name, spec in shown.items():
        assert name in ours, f"{name} is not among awsim's dev-dependencies, with which the example is built"
        assert major(spec) == major(ours[name]), f"{name}: README says {spec}, Cargo.toml {ours[name]}"
    uses = set(re.findall(r"\b(aws_sdk_\w+|tokio)\b", RUST_EXAMPLE.read_text()))
    assert {u.replace("_", "-") for u in uses} <= set(shown), f"the example uses {uses}"


@marked("tested: scenario")
def test_the_scenario_loads(block, tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(block.code)
    server = Awsim("--scenario", str(path))
    try:
        status, _, body = server.http("GET", "/_awsim/rules")
        assert status == 200
        assert len(json.loads(body)["rules"]) == block.code.count("[[rules]]")
    finally:
        server.stop()


@marked("tested: model-map")
def test_the_model_map_loads(block, tmp_path):
    path = tmp_path / "my-models.toml"
    path.write_text(block.code)
    # Nothing listens on port 9: awsim only has to accept the map at start-up.
    server = Awsim("--bedrock-backend", "http://127.0.0.1:9/v1", "--bedrock-model-map", str(path))
    server.stop()


@marked("tested: invocation")
def test_the_invocation_shown_has_the_fields_of_a_real_one(awsim, block):
    shown = json.loads(block.code)
    runtime = awsim.client("bedrock-runtime", region=shown["region"])
    response = runtime.converse_stream(modelId=shown["modelId"], messages=shown["request"]["messages"])
    for _ in response["stream"]:
        pass
    request_id = response["ResponseMetadata"]["RequestId"]
    status, _, body = awsim.http("GET", f"/_awsim/invocations/{request_id}")
    assert status == 200
    real = json.loads(body)
    assert [k for k in real if k not in ("events", "eventsOmitted")] == list(shown)
    assert list(real["response"]) == list(shown["response"])
    assert list(real["response"]["usage"]) == list(shown["response"]["usage"])
    for same in ("operation", "modelId", "resolvedModelId", "region", "state", "status", "error", "request",
                 "format", "rule", "backendModel"):
        assert real[same] == shown[same], same
