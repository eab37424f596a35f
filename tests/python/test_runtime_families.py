"""InvokeModel and InvokeModelWithResponseStream for every model family, seen from boto3.

Each family's body goes in its own native format; streams are read with botocore's own
event-stream parser (``response["body"]``), each chunk's ``bytes`` decoded as the provider's JSON.
"""

import json
import math

import pytest
from botocore.exceptions import ClientError

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


class Family:
    """How one family asks, answers and streams: enough to reassemble and check any answer."""

    def __init__(self, model, body, text, chunk_text, chunk_stop, stop, first=0):
        self.model = model
        self.body = body  # question -> request body
        self.text = text  # InvokeModel response -> answer text
        self.chunk_text = chunk_text  # chunk -> its text ("" for none)
        self.chunk_stop = chunk_stop  # last chunk -> its stop reason
        self.stop = stop  # the stop reason of a natural end
        self.first = first  # chunks before the first text chunk


def nova_text(c):
    return c.get("contentBlockDelta", {}).get("delta", {}).get("text", "")


FAMILIES = {
    "claude-text-completions": Family(
        "anthropic.claude-v2:1",
        lambda q: {"prompt": f"\n\nHuman: {q}\n\nAssistant:", "max_tokens_to_sample": 300},
        lambda o: o["completion"],
        lambda c: c["completion"],
        lambda c: (c["stop_reason"], c["stop"]),
        ("stop_sequence", "\n\nHuman:"),
    ),
    "nova": Family(
        "amazon.nova-micro-v1:0",
        lambda q: {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": q}]}], "inferenceConfig": {"max_new_tokens": 300}},
        lambda o: o["output"]["message"]["content"][0]["text"],
        nova_text,
        lambda c: c["metadata"] and None,
        None,
        first=1,
    ),
    "llama": Family(
        "meta.llama3-3-70b-instruct-v1:0",
        lambda q: {"prompt": f"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", "max_gen_len": 300},
        lambda o: o["generation"],
        lambda c: c["generation"],
        lambda c: c["stop_reason"],
        "stop",
    ),
    "mistral-text": Family(
        "mistral.mistral-small-2402-v1:0",
        lambda q: {"prompt": f"<s>[INST] {q} [/INST]", "max_tokens": 300},
        lambda o: o["outputs"][0]["text"],
        lambda c: c["outputs"][0]["text"],
        lambda c: c["outputs"][0]["stop_reason"],
        "stop",
    ),
    "mistral-chat": Family(
        "mistral.mistral-large-2407-v1:0",
        lambda q: {"messages": [{"role": "user", "content": q}], "max_tokens": 300},
        lambda o: o["choices"][0]["message"]["content"],
        lambda c: c["choices"][0]["message"]["content"],
        lambda c: c["choices"][0]["stop_reason"],
        "stop",
    ),
    "cohere-command": Family(
        "cohere.command-text-v14",
        lambda q: {"prompt": q, "max_tokens": 300, "p": 0.9, "k": 5},
        lambda o: o["generations"][0]["text"],
        lambda c: c.get("text", ""),
        lambda c: c["finish_reason"],
        "COMPLETE",
    ),
    "cohere-command-r": Family(
        "cohere.command-r-plus-v1:0",
        lambda q: {"message": q, "preamble": "Be brief.", "max_tokens": 300},
        lambda o: o["text"],
        lambda c: c.get("text", "") if c["event_type"] == "text-generation" else "",
        lambda c: c["finish_reason"],
        "COMPLETE",
        first=1,
    ),
    "openai-gpt-oss": Family(
        "openai.gpt-oss-120b-1:0",
        lambda q: {"messages": [{"role": "user", "content": q}], "max_completion_tokens": 300},
        lambda o: o["choices"][0]["message"]["content"],
        lambda c: c["choices"][0]["delta"].get("content", ""),
        lambda c: c["choices"][0]["finish_reason"],
        "stop",
        first=1,
    ),
    "ai21-jamba": Family(
        "ai21.jamba-1-5-large-v1:0",
        lambda q: {"messages": [{"role": "user", "content": q}], "max_tokens": 300},
        lambda o: o["choices"][0]["message"]["content"],
        lambda c: c["choices"][0]["delta"].get("content", ""),
        lambda c: c["choices"][0]["finish_reason"],
        "stop",
        first=1,
    ),
    "deepseek-r1-prompt": Family(
        "deepseek.r1-v1:0",
        lambda q: {"prompt": f"<｜begin▁of▁sentence｜><｜User｜>{q}<｜Assistant｜>", "max_tokens": 300},
        lambda o: o["choices"][0]["text"],
        lambda c: c["choices"][0]["text"],
        lambda c: c["choices"][0]["stop_reason"],
        "stop",
    ),
}


def chunks_of(resp):
    assert resp["contentType"] == "application/json"
    return [json.loads(event["chunk"]["bytes"]) for event in resp["body"]]


def metrics(chunk):
    m = chunk["amazon-bedrock-invocationMetrics"]
    assert set(m) == {"inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency"}
    assert all(isinstance(v, int) for v in m.values())
    return m


@pytest.mark.parametrize("name", FAMILIES)
def test_invoke_model_answers_in_the_family_format(runtime, name):
    f = FAMILIES[name]
    resp = runtime.invoke_model(modelId=f.model, body=json.dumps(f.body("What is Amazon S3?")))
    out = json.loads(resp["body"].read())
    assert "What is Amazon S3?" in f.text(out)
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) > 0
    assert int(headers["x-amzn-bedrock-output-token-count"]) > 10
    counted = runtime.count_tokens(modelId=f.model, input={"invokeModel": {"body": json.dumps(f.body("What is Amazon S3?"))}})
    assert counted["inputTokens"] == int(headers["x-amzn-bedrock-input-token-count"])


@pytest.mark.parametrize("name", FAMILIES)
def test_stream_reassembles_the_same_answer_with_metrics_in_the_last_chunk(runtime, name):
    f = FAMILIES[name]
    body = json.dumps(f.body("Tell me about DynamoDB"))
    whole = runtime.invoke_model(modelId=f.model, body=body)
    answer = f.text(json.loads(whole["body"].read()))
    chunks = chunks_of(runtime.invoke_model_with_response_stream(modelId=f.model, body=body))
    assert "".join(f.chunk_text(c) for c in chunks) == answer
    assert all("amazon-bedrock-invocationMetrics" not in c for c in chunks[:-1])
    m = metrics(chunks[-1])
    headers = whole["ResponseMetadata"]["HTTPHeaders"]
    assert m["outputTokenCount"] == int(headers["x-amzn-bedrock-output-token-count"])
    assert m["inputTokenCount"] == int(headers["x-amzn-bedrock-input-token-count"])
    text_chunks = [c for c in chunks if f.chunk_text(c)]
    assert len(text_chunks) == m["outputTokenCount"], "one chunk per token"
    assert chunks.index(text_chunks[0]) == f.first
    if f.stop is not None:
        assert f.chunk_stop(chunks[-1]) == f.stop


def test_nova_stream_events_in_converse_order(runtime):
    f = FAMILIES["nova"]
    chunks = chunks_of(runtime.invoke_model_with_response_stream(modelId=f.model, body=json.dumps(f.body("hi"))))
    names = [next(iter(c)) for c in chunks]
    assert names[0] == "messageStart"
    assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert chunks[-2]["messageStop"]["stopReason"] == "end_turn"
    assert chunks[-1]["metadata"]["usage"]["outputTokens"] == names.count("contentBlockDelta")


@pytest.mark.parametrize(
    "model,body,stop",
    [
        ("anthropic.claude-instant-v1", {"prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": 3}, lambda o: o["stop_reason"] == "max_tokens"),
        ("amazon.nova-pro-v1:0", {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 3}}, lambda o: o["stopReason"] == "max_tokens"),
        ("meta.llama3-8b-instruct-v1:0", {"prompt": "hi", "max_gen_len": 3}, lambda o: o["stop_reason"] == "length"),
        ("mistral.mistral-7b-instruct-v0:2", {"prompt": "hi", "max_tokens": 3}, lambda o: o["outputs"][0]["stop_reason"] == "length"),
        ("mistral.mistral-large-2407-v1:0", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}, lambda o: o["choices"][0]["stop_reason"] == "length"),
        ("cohere.command-light-text-v14", {"prompt": "hi", "max_tokens": 3}, lambda o: o["generations"][0]["finish_reason"] == "MAX_TOKENS"),
        ("cohere.command-r-v1:0", {"message": "hi", "max_tokens": 3}, lambda o: o["finish_reason"] == "MAX_TOKENS"),
        ("deepseek.v3-v1:0", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}, lambda o: o["choices"][0]["finish_reason"] == "length"),
        ("deepseek.r1-v1:0", {"prompt": "hi", "max_tokens": 3}, lambda o: o["choices"][0]["stop_reason"] == "length"),
    ],
)
def test_the_token_limit_cuts_every_family(runtime, model, body, stop):
    resp = runtime.invoke_model(modelId=model, body=json.dumps(body))
    assert stop(json.loads(resp["body"].read()))
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-output-token-count"] == "3"


def test_nova_tool_use_streams_input_fragments(runtime):
    body = {
        "messages": [{"role": "user", "content": [{"text": "weather in Seattle?"}]}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": WEATHER}}}], "toolChoice": {"any": {}}},
    }
    chunks = chunks_of(runtime.invoke_model_with_response_stream(modelId="amazon.nova-lite-v1:0", body=json.dumps(body)))
    start = next(c["contentBlockStart"] for c in chunks if "contentBlockStart" in c)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    fragments = [c["contentBlockDelta"]["delta"]["toolUse"]["input"] for c in chunks if "toolUse" in c.get("contentBlockDelta", {}).get("delta", {})]
    assert len(fragments) > 1
    assert json.loads("".join(fragments)) == {"city": "Seattle"}
    assert next(c for c in chunks if "messageStop" in c)["messageStop"]["stopReason"] == "tool_use"


def test_mistral_chat_tool_calls_stream_argument_fragments(runtime):
    body = {
        "messages": [{"role": "user", "content": "weather in Seattle?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}],
        "tool_choice": "any",
    }
    chunks = chunks_of(runtime.invoke_model_with_response_stream(modelId="mistral.mistral-large-2407-v1:0", body=json.dumps(body)))
    calls = [c["choices"][0]["message"]["tool_calls"][0] for c in chunks if c["choices"][0]["message"].get("tool_calls")]
    assert calls[0]["function"]["name"] == "get_weather"
    assert len(calls) > 2
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"city": "Seattle"}
    assert chunks[-1]["choices"][0]["stop_reason"] == "tool_calls"


def test_command_r_tool_calls_stream_parameter_fragments(runtime):
    body = {
        "message": "Use get_weather for Seattle",
        "tools": [{"name": "get_weather", "description": "Weather", "parameter_definitions": {"city": {"description": "City", "type": "str", "required": True}}}],
    }
    chunks = chunks_of(runtime.invoke_model_with_response_stream(modelId="cohere.command-r-v1:0", body=json.dumps(body)))
    deltas = [c["tool_call_delta"] for c in chunks if c["event_type"] == "tool-calls-chunk"]
    assert deltas[0] == {"index": 0, "name": "get_weather"}
    assert json.loads("".join(d["parameters"] for d in deltas[1:])) == {"city": "Seattle"}
    generation = next(c for c in chunks if c["event_type"] == "tool-calls-generation")
    assert generation["tool_calls"] == [{"name": "get_weather", "parameters": {"city": "Seattle"}}]
    assert chunks[-1]["event_type"] == "stream-end"


def test_openai_style_tool_calls_stream_argument_fragments(runtime):
    body = {
        "messages": [{"role": "user", "content": "weather in Seattle?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    chunks = chunks_of(runtime.invoke_model_with_response_stream(modelId="ai21.jamba-1-5-mini-v1:0", body=json.dumps(body)))
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    assert calls[0]["function"]["name"] == "get_weather"
    assert calls[0]["id"].startswith("call_")
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"city": "Seattle"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["completion_tokens"] == metrics(chunks[-1])["outputTokenCount"]


@pytest.mark.parametrize(
    "model,body,named",
    [
        ("anthropic.claude-v2", {"prompt": "\n\nHuman: hi\n\nAssistant:"}, "required key [max_tokens_to_sample] not found"),
        ("anthropic.claude-v2", {"prompt": "hi", "max_tokens_to_sample": 5}, 'prompt must start with "\n\nHuman:" turn'),
        ("amazon.nova-lite-v1:0", {"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"max_new_tokens": 0}}, "inferenceConfig.max_new_tokens"),
        ("amazon.nova-lite-v1:0", {"messages": [{"role": "user", "content": [{"text": "x"}]}], "temperature": 0.5}, "extraneous key [temperature]"),
        ("meta.llama3-8b-instruct-v1:0", {"max_gen_len": 5}, "required key [prompt] not found"),
        ("meta.llama3-8b-instruct-v1:0", {"prompt": "x", "max_gen_len": "many"}, "'max_gen_len' must be an integer"),
        ("mistral.mistral-7b-instruct-v0:2", {"prompt": "x", "temperature": 9}, "'temperature'"),
        ("mistral.mistral-large-2407-v1:0", {"messages": [{"role": "bot", "content": "x"}]}, "#/messages/0/role"),
        ("cohere.command-text-v14", {"prompt": "x", "return_likelihoods": "SOME"}, "#/return_likelihoods"),
        ("cohere.command-r-v1:0", {"preamble": "x"}, "required key [message] not found"),
        ("cohere.command-r-v1:0", {"message": "x", "stream": True}, "extraneous key [stream]"),
        ("openai.gpt-oss-20b-1:0", {"messages": [{"role": "user", "content": "x"}], "top_p": 2}, "'top_p'"),
        ("deepseek.r1-v1:0", {"prompt": "x", "max_tokens": -1}, "'max_tokens'"),
    ],
)
def test_bad_bodies_are_validation_errors_naming_the_field(runtime, model, body, named):
    for call in (runtime.invoke_model, runtime.invoke_model_with_response_stream):
        with pytest.raises(ClientError) as err:
            call(modelId=model, body=json.dumps(body))
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert named in err.value.response["Error"]["Message"]


def embed(runtime, model, body):
    resp = runtime.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json", accept="application/json")
    return json.loads(resp["body"].read())


def norm(v):
    return math.sqrt(sum(x * x for x in v))


@pytest.mark.parametrize("dimensions", [256, 512, 1024])
def test_titan_v2_embeddings_have_the_dimension_asked_and_unit_length(runtime, dimensions):
    out = embed(runtime, "amazon.titan-embed-text-v2:0", {"inputText": "hello world", "dimensions": dimensions, "normalize": True})
    assert len(out["embedding"]) == dimensions
    assert abs(norm(out["embedding"]) - 1) < 1e-3
    assert out["embeddingsByType"] == {"float": out["embedding"]}
    assert out["inputTextTokenCount"] == 2


def test_titan_embeddings_are_deterministic_and_v1_is_1536_wide(runtime):
    a = embed(runtime, "amazon.titan-embed-text-v1", {"inputText": "same"})
    b = embed(runtime, "amazon.titan-embed-text-v1", {"inputText": "same"})
    assert a == b and len(a["embedding"]) == 1536
    assert embed(runtime, "amazon.titan-embed-text-v1", {"inputText": "different"})["embedding"] != a["embedding"]
    binary = embed(runtime, "amazon.titan-embed-text-v2:0", {"inputText": "same", "embeddingTypes": ["binary"]})
    assert set(binary["embeddingsByType"]) == {"binary"}
    assert set(binary["embeddingsByType"]["binary"]) <= {0, 1}


def test_titan_multimodal_embeds_an_image(runtime):
    out = embed(runtime, "amazon.titan-embed-image-v1", {"inputImage": "iVBORw0KGgo=", "embeddingConfig": {"outputEmbeddingLength": 256}})
    assert len(out["embedding"]) == 256


def test_cohere_embed_batches_and_types(runtime):
    out = embed(runtime, "cohere.embed-english-v3", {"texts": ["a", "b"], "input_type": "search_document"})
    assert out["response_type"] == "embeddings_floats"
    assert [len(v) for v in out["embeddings"]] == [1024, 1024]
    assert out["texts"] == ["a", "b"]
    typed = embed(runtime, "cohere.embed-english-v3", {"texts": ["a"], "input_type": "classification", "embedding_types": ["int8", "ubinary"]})
    assert typed["response_type"] == "embeddings_by_type"
    assert len(typed["embeddings"]["int8"][0]) == 1024
    assert len(typed["embeddings"]["ubinary"][0]) == 128
    assert all(0 <= b <= 255 for b in typed["embeddings"]["ubinary"][0])


@pytest.mark.parametrize(
    "model,body,named",
    [
        ("amazon.titan-embed-text-v2:0", {"inputText": "x", "dimensions": 768}, "#/dimensions: 768 is not a valid enum value"),
        ("amazon.titan-embed-text-v2:0", {"text": "x"}, "required key [inputText] not found"),
        ("cohere.embed-english-v3", {"texts": [str(i) for i in range(97)], "input_type": "clustering"}, "#/texts: expected maximum item count: 96, found: 97"),
        ("cohere.embed-english-v3", {"texts": ["x"]}, "required key [input_type] not found"),
        ("cohere.embed-multilingual-v3", {"texts": ["x"], "input_type": "documents"}, "#/input_type: documents is not a valid enum value"),
    ],
)
def test_bad_embedding_bodies_are_validation_errors(runtime, model, body, named):
    with pytest.raises(ClientError) as err:
        runtime.invoke_model(modelId=model, body=json.dumps(body))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert named in err.value.response["Error"]["Message"]


def test_embedding_models_do_not_stream(runtime):
    with pytest.raises(ClientError) as err:
        runtime.invoke_model_with_response_stream(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "x"}))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == "The model is unsupported for streaming."
