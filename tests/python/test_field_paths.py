"""additionalModelResponseFieldPaths from boto3: Converse returns the requested fields of the model's
native InvokeModel response, ConverseStream those of its native stream in messageStop, nested as
the JSON Pointers are; a pointer that is not one is a ValidationException."""

import pytest
from botocore.exceptions import ClientError

from conftest import Awsim
from test_backend import Fake, chunk

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
# Only the second occurs in a canned answer ("This is a canned answer from …").
STOPS = {"stopSequences": ["NEVER SAID", "canned"]}


def user(text):
    return {"role": "user", "content": [{"text": text}]}


def message_stop(resp):
    return next(e["messageStop"] for e in resp["stream"] if "messageStop" in e)


def test_converse_reads_claudes_invoke_model_response(runtime):
    out = runtime.converse(
        modelId=HAIKU,
        messages=[user("Say something")],
        inferenceConfig=STOPS,
        additionalModelResponseFieldPaths=["/stop_sequence", "/stop_reason", "/delta/stop_sequence"],
    )
    assert out["stopReason"] == "stop_sequence"
    assert out["additionalModelResponseFields"] == {"stop_sequence": "canned", "stop_reason": "stop_sequence"}


def test_converse_stream_reads_claudes_message_delta(runtime):
    stop = message_stop(
        runtime.converse_stream(
            modelId=HAIKU,
            messages=[user("Say something")],
            inferenceConfig=STOPS,
            additionalModelResponseFieldPaths=["/stop_sequence", "/delta/stop_sequence"],
        )
    )
    assert stop == {"stopReason": "stop_sequence", "additionalModelResponseFields": {"delta": {"stop_sequence": "canned"}}}


def test_null_fields_come_back_null_and_absent_ones_not_at_all(runtime):
    stop = message_stop(runtime.converse_stream(modelId=HAIKU, messages=[user("hi")], additionalModelResponseFieldPaths=["/delta/stop_sequence"]))
    assert stop["additionalModelResponseFields"] == {"delta": {"stop_sequence": None}}
    out = runtime.converse(modelId=HAIKU, messages=[user("hi")], additionalModelResponseFieldPaths=["/delta/stop_sequence"])
    assert "additionalModelResponseFields" not in out
    out = runtime.converse(modelId=HAIKU, messages=[user("hi")], additionalModelResponseFieldPaths=["/stop_sequence"])
    assert out["additionalModelResponseFields"] == {"stop_sequence": None}


def test_other_families_answer_from_their_own_format(runtime):
    out = runtime.converse(
        modelId="mistral.mistral-large-2407-v1:0",
        messages=[user("Say something")],
        inferenceConfig=STOPS,
        additionalModelResponseFieldPaths=["/choices/0/stop_reason"],
    )
    assert out["additionalModelResponseFields"] == {"choices": [{"stop_reason": "stop"}]}
    stop = message_stop(
        runtime.converse_stream(
            modelId="amazon.titan-text-express-v1",
            messages=[user("Say something")],
            inferenceConfig=STOPS,
            additionalModelResponseFieldPaths=["/completionReason"],
        )
    )
    assert stop["additionalModelResponseFields"] == {"completionReason": "STOP_CRITERIA_MET"}


@pytest.mark.parametrize(
    "paths, where",
    [
        (["stop_sequence"], "additionalModelResponseFieldPaths.1.member"),
        (["/ok", "/bad~escape"], "additionalModelResponseFieldPaths.2.member"),
        ([f"/f{i}" for i in range(11)], "additionalModelResponseFieldPaths"),
    ],
)
def test_what_is_not_a_json_pointer_is_refused(runtime, paths, where):
    for call in (runtime.converse, runtime.converse_stream):
        with pytest.raises(ClientError) as err:
            call(modelId=HAIKU, messages=[user("hi")], additionalModelResponseFieldPaths=paths)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert f"at '{where}' failed to satisfy constraint" in err.value.response["Error"]["Message"]


def test_the_stop_sequence_a_backend_names_comes_back():
    fake = Fake()
    server = Awsim("--bedrock-backend", fake.url)
    try:
        # vLLM names the stop sequence in `stop_reason` beside the finish reason.
        fake.script = {
            "/v1/chat/completions": [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "one two"}),
                {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "three"}]},
                {"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 2}},
                "[DONE]",
            ]
        }
        rt = server.client("bedrock-runtime")
        paths = ["/stop_sequence", "/delta/stop_sequence"]
        config = {"stopSequences": ["END", "three"]}
        out = rt.converse(modelId=HAIKU, messages=[user("count")], inferenceConfig=config, additionalModelResponseFieldPaths=paths)
        assert out["additionalModelResponseFields"] == {"stop_sequence": "three"}
        stop = message_stop(rt.converse_stream(modelId=HAIKU, messages=[user("count")], inferenceConfig=config, additionalModelResponseFieldPaths=paths))
        assert stop == {"stopReason": "stop_sequence", "additionalModelResponseFields": {"delta": {"stop_sequence": "three"}}}
        assert fake.last()["body"]["stop"] == ["END", "three"]
    finally:
        server.stop()
        fake.close()
