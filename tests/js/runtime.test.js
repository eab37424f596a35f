// The JS SDK v3 runtime client speaks HTTP/2 by default: every operation must work over h2c.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { startAwsim, clientConfig } from "./awsim.js";

const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
let awsim, runtime;

before(async () => {
  awsim = await startAwsim();
  runtime = new BedrockRuntimeClient(clientConfig(awsim.url));
});
after(() => {
  runtime.destroy();
  awsim.stop();
});

test("Converse answers over HTTP/2", async () => {
  const out = await runtime.send(
    new ConverseCommand({
      modelId: HAIKU,
      messages: [{ role: "user", content: [{ text: "What is 2+2?" }] }],
      inferenceConfig: { maxTokens: 100 },
    }),
  );
  assert.equal(out.stopReason, "end_turn");
  assert.match(out.output.message.content[0].text, /What is 2\+2\?/);
  assert.equal(out.usage.totalTokens, out.usage.inputTokens + out.usage.outputTokens);
});

test("ConverseStream events arrive in Bedrock's order", async () => {
  const out = await runtime.send(
    new ConverseStreamCommand({ modelId: HAIKU, messages: [{ role: "user", content: [{ text: "hi" }] }] }),
  );
  const names = [];
  let text = "";
  for await (const event of out.stream) {
    const name = Object.keys(event)[0];
    names.push(name);
    if (name === "contentBlockDelta") text += event.contentBlockDelta.delta.text;
  }
  assert.equal(names[0], "messageStart");
  assert.deepEqual(names.slice(-3), ["contentBlockStop", "messageStop", "metadata"]);
  assert.ok(names.filter((n) => n === "contentBlockDelta").length > 20);
  assert.match(text, /hi/);
});

test("InvokeModel and InvokeModelWithResponseStream with a Claude body", async () => {
  const body = JSON.stringify({
    anthropic_version: "bedrock-2023-05-31",
    max_tokens: 256,
    messages: [{ role: "user", content: "Hello!" }],
  });
  const whole = await runtime.send(new InvokeModelCommand({ modelId: HAIKU, body, contentType: "application/json" }));
  const result = JSON.parse(Buffer.from(whole.body).toString());
  assert.equal(result.type, "message");
  assert.match(result.content[0].text, /Hello!/);

  const streamed = await runtime.send(new InvokeModelWithResponseStreamCommand({ modelId: HAIKU, body }));
  const types = [];
  for await (const event of streamed.body) {
    types.push(JSON.parse(Buffer.from(event.chunk.bytes).toString()).type);
  }
  assert.equal(types[0], "message_start");
  assert.equal(types.at(-1), "message_stop");
});

test("errors are modeled exceptions", async () => {
  await assert.rejects(
    runtime.send(new ConverseCommand({ modelId: "nope", messages: [{ role: "user", content: [{ text: "x" }] }] })),
    (err) => err.name === "ValidationException" && err.message === "The provided model identifier is invalid.",
  );
});
