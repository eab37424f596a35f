"""The README's examples, verbatim: every block marked `<!-- tested: … -->` runs against awsim."""

import pathlib
import re
import subprocess
import sys

import pytest

README = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
BLOCKS = re.findall(r"<!-- tested: (\w+) -->\n```\w*\n(.*?)```", README, re.S)


def test_the_readme_has_tested_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("lang,code", BLOCKS, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(BLOCKS)])
def test_readme_example(awsim, lang, code):
    code = code.replace("http://localhost:4566", awsim.url).replace("https://localhost:4566", awsim.https_url)
    code = code.replace("/tmp/awsim-4566-ca.pem", awsim.ca)
    cmd = ["bash", "-euo", "pipefail", "-c", code] if lang == "sh" else [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip(), "the example prints something"
    assert "Exception" not in out.stdout, out.stdout
