#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/seeds/<target>/ from golden/ and the examples
below. Run it again after golden/ changes or a target's input layout changes; the output is
committed, so fuzzing needs nothing but the repository."""

import base64
import glob
import json
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")

# awsim::fuzzing::INVOKE_MODELS, in order: the InvokeModel target picks input[0] % len.
INVOKE_MODELS = [
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "anthropic.claude-v2:1",
    "amazon.titan-text-express-v1",
    "amazon.nova-lite-v1:0",
    "meta.llama3-8b-instruct-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "cohere.command-r-plus-v1:0",
    "cohere.command-text-v14",
    "deepseek.r1-v1:0",
    "openai.gpt-oss-20b-1:0",
    "amazon.titan-embed-text-v1",
    "amazon.titan-embed-text-v2:0",
    "amazon.titan-embed-image-v1",
    "cohere.embed-english-v3",
    "cohere.embed-v4:0",
]

# The family a golden model id reads its InvokeModel body with: the first INVOKE_MODELS entry
# sharing its provider prefix.
PREFIXES = [
    ("anthropic.claude-v2", 1), ("anthropic.", 0), ("amazon.titan-text", 2), ("amazon.nova", 3),
    ("us.amazon.nova", 3), ("meta.llama", 4), ("mistral.", 5), ("cohere.command-r", 6),
    ("cohere.command", 7), ("deepseek.", 8), ("openai.", 9),
]

PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()

CONVERSE = [
    {"messages": [{"role": "user", "content": [{"text": "Hello"}]}]},
    {
        "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
        "messages": [
            {"role": "user", "content": [
                {"text": "What is in these?"},
                {"image": {"format": "png", "source": {"bytes": PIXEL}}},
                {"document": {"format": "pdf", "name": "doc", "source": {"bytes": "JVBERi0xLjQ="}}},
                {"guardContent": {"text": {"text": "check this"}}},
            ]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "sig"}}},
                {"toolUse": {"toolUseId": "t1", "name": "look", "input": {"q": "x"}}},
            ]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "t1", "status": "error", "content": [
                    {"text": "no"}, {"json": {"a": [1, 2]}},
                    {"image": {"format": "jpeg", "source": {"bytes": PIXEL}}}]}},
            ]},
        ],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
        "toolConfig": {
            "tools": [{"toolSpec": {"name": "look", "description": "d", "inputSchema": {"json": {
                "type": "object", "properties": {"q": {"type": "string", "minLength": 2},
                                                 "n": {"type": "array", "items": {"type": "integer"}, "minItems": 1}},
                "required": ["q"]}}}}],
            "toolChoice": {"tool": {"name": "look"}},
        },
        "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}, "top_k": 5},
        "additionalModelResponseFieldPaths": ["/stop_sequence", "/usage/output_tokens"],
        "guardrailConfig": {"guardrailIdentifier": "g1", "guardrailVersion": "1", "trace": "enabled"},
    },
]

INVOKE_EXTRA = [
    (10, {"inputText": "Hello, embeddings!"}),
    (11, {"inputText": "What is S3?", "dimensions": 256, "normalize": False, "embeddingTypes": ["float", "binary"]}),
    (12, {"inputText": "a red bicycle", "inputImage": PIXEL, "embeddingConfig": {"outputEmbeddingLength": 384}}),
    (13, {"texts": ["first", "second"], "input_type": "search_document", "truncate": "END",
          "embedding_types": ["float", "int8", "uint8", "binary", "ubinary"]}),
    (14, {"texts": ["hola"], "input_type": "search_query", "output_dimension": 512}),
    (8, {"prompt": "Why is the sky blue?", "max_tokens": 20, "stop": ["END"]}),
    (9, {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
         "max_completion_tokens": 20, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
]


def write(target, name, data):
    folder = os.path.join(SEEDS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)

    frames = sorted(glob.glob(os.path.join(ROOT, "golden", "frames", "*", "*.bin")))
    streams = sorted(glob.glob(os.path.join(ROOT, "golden", "streams", "*", "expected.bin")))
    for path in frames + streams:
        name = os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path)
        data = open(path, "rb").read()
        write("frames_decode", name, data)
    for path in frames:
        if "/valid/" not in path:
            continue
        data = open(path, "rb").read()
        headers_len = struct.unpack(">I", data[4:8])[0]
        write("frames_checksummed", os.path.basename(path), struct.pack(">H", headers_len) + data[12:-4])

    for path in sorted(glob.glob(os.path.join(ROOT, "golden", "streams", "*", "request.json"))):
        case = os.path.basename(os.path.dirname(path))
        request = json.load(open(path))
        body = compact(request["body"])
        if request["operation"].startswith("converse"):
            write("converse_request", case + ".json", body)
        else:
            pick = next(i for prefix, i in PREFIXES if request["modelId"].startswith(prefix))
            write("invoke_request", case, bytes([pick]) + body)
    for i, body in enumerate(CONVERSE):
        write("converse_request", f"example-{i}.json", compact(body))
    for pick, body in INVOKE_EXTRA:
        write("invoke_request", "example-" + INVOKE_MODELS[pick].replace(":", "_"), bytes([pick]) + compact(body))

    # The SSE parser in pieces of 1, 7 and 64 bytes; the backend stream as frames and as the JSON
    # array, for Converse and for an InvokeModel family.
    for path in sorted(glob.glob(os.path.join(ROOT, "golden", "streams", "*", "upstream.sse"))):
        case = os.path.basename(os.path.dirname(path))
        data = open(path, "rb").read()
        for step in (0, 6, 63):
            write("sse_parser", f"{case}-{step + 1}", bytes([step]) + data)
        for pick in (0, 1, 2, 3):
            write("backend_stream", f"{case}-{pick}", bytes([pick]) + data)


if __name__ == "__main__":
    main()
