// Rules, faults and quotas through the AWS SDK for JavaScript v3, its runtime client over h2c:
// N text deltas then the SDK's own typed stream exception, a stall caught by the request timeout,
// a disconnect as a transport error, a scripted tool call, and the invocation log's record of a
// stream a rule broke off.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { startAwsim, clientConfig } from "./awsim.js";

const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const HELLO = [{ role: "user", content: [{ text: "hi" }] }];
let awsim, runtime;

async function rules(method, body) {
  const resp = await fetch(`${awsim.url}/_awsim/rules`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: resp.status, type: resp.headers.get("x-amzn-errortype"), body: await resp.json() };
}

before(async () => {
  awsim = await startAwsim();
  runtime = new BedrockRuntimeClient(clientConfig(awsim.url));
});
after(() => {
  runtime.destroy();
  awsim.stop();
});
beforeEach(async () => {
  await rules("DELETE");
});

test("each request fault is the exact AWS error, by err.name and status", async () => {
  const faults = [
    ["throttling", 429, "ThrottlingException"],
    ["serviceUnavailable", 503, "ServiceUnavailableException"],
    ["modelNotReady", 429, "ModelNotReadyException"],
    ["modelTimeout", 408, "ModelTimeoutException"],
    ["modelError", 424, "ModelErrorException"],
    ["internalServer", 500, "InternalServerException"],
    ["serviceQuotaExceeded", 400, "ServiceQuotaExceededException"],
    ["accessDenied", 403, "AccessDeniedException"],
    ["validation", 400, "ValidationException"],
    ["resourceNotFound", 404, "ResourceNotFoundException"],
  ];
  for (const [kind, status, name] of faults) {
    await rules("POST", { fault: { kind }, times: 1 });
    await assert.rejects(runtime.send(new ConverseCommand({ modelId: HAIKU, messages: HELLO })), (err) => {
      console.log(`JS SDK v3, ${kind}: ${err.name}`);
      assert.equal(err.name, name, kind);
      assert.equal(err.$metadata.httpStatusCode, status, kind);
      assert.ok(err.message.length > 0);
      return true;
    });
  }
});

test("ConverseStream over h2c: N text deltas, then the SDK's typed stream exception", async () => {
  const faults = [
    ["modelStreamErrorException", "ModelStreamErrorException"],
    ["throttlingException", "ThrottlingException"],
    ["internalServerException", "InternalServerException"],
    ["serviceUnavailableException", "ServiceUnavailableException"],
    ["validationException", "ValidationException"],
    // ConverseStream has no modelTimeoutException member: Bedrock's stream error stands in.
    ["modelTimeoutException", "ModelStreamErrorException"],
  ];
  for (const [kind, name] of faults) {
    await rules("POST", { match: { operation: "ConverseStream" }, fault: { kind, at: { afterTokens: 3 } }, times: 1 });
    const out = await runtime.send(new ConverseStreamCommand({ modelId: HAIKU, messages: HELLO }));
    const deltas = [];
    await assert.rejects(
      (async () => {
        for await (const event of out.stream) {
          if (event.contentBlockDelta) deltas.push(event.contentBlockDelta.delta.text);
        }
      })(),
      (err) => {
        console.log(`JS SDK v3, ${kind}: ${err.name}`);
        assert.equal(err.name, name, kind);
        return true;
      },
    );
    assert.equal(deltas.length, 3, kind);
  }
});

test("a stall inside the stream trips the request timeout, which ends the stream early", async () => {
  await rules("POST", { match: { operation: "ConverseStream" }, fault: { kind: "stall", at: { afterTokens: 2 } } });
  const patient = new BedrockRuntimeClient({ ...clientConfig(awsim.url), requestHandler: { requestTimeout: 1000 } });
  try {
    const out = await patient.send(new ConverseStreamCommand({ modelId: HAIKU, messages: HELLO }));
    const names = [];
    let error;
    try {
      for await (const event of out.stream) names.push(Object.keys(event)[0]);
    } catch (err) {
      error = err;
    }
    console.log(`JS SDK v3, stall inside the stream: ${error ? `${error.name}: ${error.message}` : "the stream ends without an error"} after ${names.join(", ")}`);
    // The SDK closes the HTTP/2 stream and its event iterator simply ends: a consumer tells a
    // stalled answer from a whole one by the missing messageStop.
    assert.deepEqual(names, ["messageStart", "contentBlockDelta", "contentBlockDelta"]);
  } finally {
    patient.destroy();
  }
});

test("a stall before the response trips the request timeout", async () => {
  await rules("POST", { match: { operation: "Converse" }, fault: { kind: "stall" } });
  const patient = new BedrockRuntimeClient({ ...clientConfig(awsim.url), requestHandler: { requestTimeout: 1000 } });
  try {
    await assert.rejects(patient.send(new ConverseCommand({ modelId: HAIKU, messages: HELLO })), (err) => {
      console.log(`JS SDK v3, stall before the response: ${err.name}: ${err.message}`);
      assert.equal(err.name, "TimeoutError");
      return true;
    });
  } finally {
    patient.destroy();
  }
});

test("a disconnect resets the HTTP/2 stream: a transport error after the tokens, never a hang", async () => {
  await rules("POST", [
    { match: { operation: "ConverseStream" }, fault: { kind: "disconnect", at: { afterTokens: 3 } } },
    { match: { operation: "Converse" }, fault: { kind: "disconnect" } },
  ]);
  const out = await runtime.send(new ConverseStreamCommand({ modelId: HAIKU, messages: HELLO }));
  let deltas = 0;
  await assert.rejects(
    (async () => {
      for await (const event of out.stream) {
        if (event.contentBlockDelta) deltas += 1;
      }
    })(),
    (err) => {
      console.log(`JS SDK v3, disconnect inside the stream: ${err.name}: ${err.message}`);
      assert.match(err.message, /NGHTTP2_INTERNAL_ERROR|stream/i);
      return true;
    },
  );
  assert.equal(deltas, 3);
  await assert.rejects(runtime.send(new ConverseCommand({ modelId: HAIKU, messages: HELLO })), (err) => {
    console.log(`JS SDK v3, disconnect before the response: ${err.name}: ${err.message}`);
    assert.ok(!err.$metadata?.httpStatusCode, "no HTTP status reached the client");
    return true;
  });
});

test("a rule matched on the prompt answers with a tool call the SDK parses", async () => {
  await rules("POST", {
    match: { modelId: "anthropic.*", prompt: { contains: "weather" } },
    respond: { toolUse: [{ name: "get_weather", input: { city: "Paris" } }] },
  });
  const out = await runtime.send(
    new ConverseCommand({ modelId: HAIKU, messages: [{ role: "user", content: [{ text: "weather in Paris?" }] }] }),
  );
  assert.equal(out.stopReason, "tool_use");
  const call = out.output.message.content[0].toolUse;
  assert.equal(call.name, "get_weather");
  assert.deepEqual(call.input, { city: "Paris" });
});

test("a quota of three requests throttles the fourth", async () => {
  const { body } = await rules("POST", { quota: { rpm: 3, windowSeconds: 60 } });
  for (let i = 0; i < 3; i++) await runtime.send(new ConverseCommand({ modelId: HAIKU, messages: HELLO }));
  await assert.rejects(runtime.send(new ConverseCommand({ modelId: HAIKU, messages: HELLO })), { name: "ThrottlingException" });
  const listed = await rules("GET");
  assert.equal(listed.body.rules.find((r) => r.id === body.ids[0]).hits, 1);
});

test("bad rule JSON is a ValidationException that names the field", async () => {
  const { status, type, body } = await rules("POST", [{ respond: { text: "x" } }, { fault: { kind: "throttle" } }]);
  assert.equal(status, 400);
  assert.equal(type, "ValidationException");
  assert.match(body.message, /^rules\[1\]\.fault\.kind: unknown variant `throttle`/);
});

test("the invocation log shows a stream a rule broke off, by the request id the SDK saw", async () => {
  await rules("POST", {
    id: "break-after-two",
    match: { operation: "ConverseStream" },
    fault: { kind: "modelStreamErrorException", at: { afterTokens: 2 } },
  });
  const out = await runtime.send(new ConverseStreamCommand({ modelId: HAIKU, messages: HELLO }));
  const names = [];
  await assert.rejects(
    (async () => {
      for await (const event of out.stream) names.push(Object.keys(event)[0]);
    })(),
    { name: "ModelStreamErrorException" },
  );
  const resp = await fetch(`${awsim.url}/_awsim/invocations/${out.$metadata.requestId}`);
  assert.equal(resp.status, 200);
  const call = await resp.json();
  assert.equal(call.operation, "ConverseStream");
  assert.equal(call.rule, "break-after-two");
  assert.equal(call.format, "eventstream");
  assert.equal(call.error.code, "ModelStreamErrorException");
  // One event per frame: those the SDK parsed, then the exception that ended the stream.
  assert.deepEqual(
    call.events.map((e) => e.type),
    [...names, "modelStreamErrorException"],
  );
  const offsets = call.events.map((e) => e.offsetMs);
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
});
