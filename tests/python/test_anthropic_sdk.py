"""The Anthropic SDK's Bedrock client (`anthropic[bedrock]`, `AnthropicBedrock`) against awsim.

It is not built on boto3's client: it sends its own requests (httpx), signs them with botocore's
SigV4 signer, puts its own API version (`anthropic_version: "2026-10-21"`) and betas in the body,
and decodes every stream as event-stream frames. No stream-format header or flag is set here.
"""

import json

import anthropic
import pytest

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET_PROFILE = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_messages_create(claude):
    msg = claude.messages.create(model=HAIKU, max_tokens=256, messages=[{"role": "user", "content": "What is AWS?"}])
    assert msg.type == "message"
    assert msg.id.startswith("msg_bdrk_")
    assert msg.model == "claude-3-haiku-20240307"
    assert msg.stop_reason == "end_turn"
    assert "What is AWS?" in msg.content[0].text
    assert msg.usage.input_tokens > 0
    assert msg.usage.output_tokens > 20


def test_messages_stream_reassembles_the_text(claude):
    with claude.messages.stream(
        model=SONNET_PROFILE, max_tokens=256, messages=[{"role": "user", "content": "Tell me about S3."}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 20
    assert "Tell me about S3." in "".join(pieces)
    assert final.content[0].text == "".join(pieces)
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens == len(pieces)


def test_create_with_stream_true_yields_the_messages_events(claude):
    events = list(
        claude.messages.create(model=HAIKU, max_tokens=12, messages=[{"role": "user", "content": "hello"}], stream=True)
    )
    types = [e.type for e in events]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert len(deltas) == 12
    assert events[0].message.usage.input_tokens > 0
    assert events[-2].delta.stop_reason == "max_tokens"
    assert events[-2].usage.output_tokens == 12

    whole = claude.messages.create(model=HAIKU, max_tokens=12, messages=[{"role": "user", "content": "hello"}])
    assert whole.content[0].text == "".join(deltas)
    assert whole.usage.input_tokens == events[0].message.usage.input_tokens


def test_a_forced_tool_call(claude):
    msg = claude.messages.create(
        model=HAIKU,
        max_tokens=256,
        messages=[{"role": "user", "content": "Is it raining?"}],
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert msg.stop_reason == "tool_use"
    call = msg.content[0]
    assert call.type == "tool_use"
    assert call.name == "get_weather"
    assert call.id.startswith("toolu_bdrk_")
    assert call.input == {"city": "Seattle"}


def test_a_streamed_tool_call_named_in_the_prompt(claude):
    with claude.messages.stream(
        model=HAIKU, max_tokens=256, messages=[{"role": "user", "content": "What is the weather in Paris?"}], tools=[WEATHER]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    fragments = [e.delta.partial_json for e in events if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    assert len(fragments) > 1
    assert final.stop_reason == "tool_use"
    preface, call = final.content
    assert preface.text == "I will call the get_weather tool to answer that."
    assert call.name == "get_weather"
    assert call.input == json.loads("".join(fragments)) == {"city": "Seattle"}


def test_betas_travel_in_the_body(claude):
    msg = claude.beta.messages.create(
        model=HAIKU,
        max_tokens=20,
        messages=[{"role": "user", "content": "hi"}],
        betas=["interleaved-thinking-2025-05-14", "token-efficient-tools-2025-02-19"],
    )
    assert msg.stop_reason == "max_tokens"


def test_a_bedrock_api_key_streams_too(awsim):
    claude = awsim.anthropic(api_key="bedrock-api-key-test")
    with claude.messages.stream(model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "hi"}]) as stream:
        assert len(list(stream.text_stream)) == 5


def test_what_is_not_an_api_version_is_refused(claude):
    with pytest.raises(anthropic.BadRequestError) as err:
        claude.messages.create(
            model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "hi"}], extra_body={"anthropic_version": "latest"}
        )
    assert err.value.status_code == 400
    assert "Invalid API version" in str(err.value)


def test_count_tokens(claude, awsim):
    # The SDK's Bedrock client refuses token counting itself, before any request is sent.
    with pytest.raises(anthropic.AnthropicError, match="Token counting is not supported in Bedrock yet"):
        claude.messages.count_tokens(model=HAIKU, messages=[{"role": "user", "content": "How many tokens?"}])
    # Bedrock's own CountTokens reads the body the SDK sends and counts what the SDK's call reports.
    body = {"anthropic_version": anthropic._constants.ANTHROPIC_API_VERSION, "max_tokens": 5, "messages": [{"role": "user", "content": "How many tokens?"}]}
    counted = awsim.client("bedrock-runtime").count_tokens(modelId=HAIKU, input={"invokeModel": {"body": json.dumps(body)}})
    used = claude.messages.create(model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "How many tokens?"}])
    assert counted["inputTokens"] == used.usage.input_tokens
