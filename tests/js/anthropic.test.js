// The Anthropic Bedrock SDK (@anthropic-ai/bedrock-sdk, `AnthropicBedrock`) against awsim. It is not
// built on the AWS SDK's client: it sends its own requests (fetch), signs them with SigV4, puts its
// own API version (`anthropic_version: "2026-10-21"`) and betas in the body, and reads every stream as
// event-stream frames. No stream-format header or flag is set here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AnthropicBedrock } from "@anthropic-ai/bedrock-sdk";
import { startAwsim, anthropicConfig } from "./awsim.js";

const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET_PROFILE = "us.anthropic.claude-3-5-sonnet-20241022-v2:0";
const WEATHER = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
let awsim, claude;

before(async () => {
  awsim = await startAwsim();
  claude = new AnthropicBedrock(anthropicConfig(awsim.url));
});
after(() => awsim.stop());

test("messages.create", async () => {
  const msg = await claude.messages.create({
    model: HAIKU,
    max_tokens: 256,
    messages: [{ role: "user", content: "What is AWS?" }],
  });
  assert.equal(msg.type, "message");
  assert.match(msg.id, /^msg_bdrk_/);
  assert.equal(msg.model, "claude-3-haiku-20240307");
  assert.equal(msg.stop_reason, "end_turn");
  assert.match(msg.content[0].text, /What is AWS\?/);
  assert.ok(msg.usage.input_tokens > 0);
  assert.ok(msg.usage.output_tokens > 20);
});

test("messages.stream reassembles the text", async () => {
  const stream = claude.messages.stream({
    model: SONNET_PROFILE,
    max_tokens: 256,
    messages: [{ role: "user", content: "Tell me about S3." }],
  });
  const pieces = [];
  stream.on("text", (text) => pieces.push(text));
  const final = await stream.finalMessage();
  assert.ok(pieces.length > 20);
  assert.match(pieces.join(""), /Tell me about S3\./);
  assert.equal(final.content[0].text, pieces.join(""));
  assert.equal(final.stop_reason, "end_turn");
  assert.ok(final.usage.input_tokens > 0);
  assert.equal(final.usage.output_tokens, pieces.length);
});

test("create with stream: true yields the Messages events", async () => {
  const params = { model: HAIKU, max_tokens: 12, messages: [{ role: "user", content: "hello" }] };
  const events = [];
  for await (const event of await claude.messages.create({ ...params, stream: true })) events.push(event);
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 2), ["message_start", "content_block_start"]);
  assert.deepEqual(types.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
  const deltas = events.filter((e) => e.type === "content_block_delta").map((e) => e.delta.text);
  assert.equal(deltas.length, 12);
  assert.ok(events[0].message.usage.input_tokens > 0);
  assert.equal(events.at(-2).delta.stop_reason, "max_tokens");
  assert.equal(events.at(-2).usage.output_tokens, 12);

  const whole = await claude.messages.create(params);
  assert.equal(whole.content[0].text, deltas.join(""));
  assert.equal(whole.usage.input_tokens, events[0].message.usage.input_tokens);
});

test("a forced tool call", async () => {
  const msg = await claude.messages.create({
    model: HAIKU,
    max_tokens: 256,
    messages: [{ role: "user", content: "Is it raining?" }],
    tools: [WEATHER],
    tool_choice: { type: "tool", name: "get_weather" },
  });
  assert.equal(msg.stop_reason, "tool_use");
  assert.equal(msg.content[0].type, "tool_use");
  assert.equal(msg.content[0].name, "get_weather");
  assert.match(msg.content[0].id, /^toolu_bdrk_/);
  assert.deepEqual(msg.content[0].input, { city: "Seattle" });
});

test("a streamed tool call named in the prompt", async () => {
  const stream = claude.messages.stream({
    model: HAIKU,
    max_tokens: 256,
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: [WEATHER],
  });
  const fragments = [];
  stream.on("inputJson", (partial) => fragments.push(partial));
  const final = await stream.finalMessage();
  assert.ok(fragments.length > 1);
  assert.equal(final.stop_reason, "tool_use");
  const [preface, call] = final.content;
  assert.equal(preface.text, "I will call the get_weather tool to answer that.");
  assert.equal(call.name, "get_weather");
  assert.deepEqual(call.input, JSON.parse(fragments.join("")));
  assert.deepEqual(call.input, { city: "Seattle" });
});

test("betas travel in the body", async () => {
  const msg = await claude.beta.messages.create({
    model: HAIKU,
    max_tokens: 20,
    messages: [{ role: "user", content: "hi" }],
    betas: ["interleaved-thinking-2025-05-14", "token-efficient-tools-2025-02-19"],
  });
  assert.equal(msg.stop_reason, "max_tokens");
});

test("a Bedrock API key streams too", async () => {
  const keyed = new AnthropicBedrock({ baseURL: awsim.url, awsRegion: "us-east-1", apiKey: "bedrock-api-key-test", maxRetries: 0 });
  const pieces = [];
  const stream = keyed.messages.stream({ model: HAIKU, max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
  stream.on("text", (text) => pieces.push(text));
  await stream.finalMessage();
  assert.equal(pieces.length, 5);
});

test("countTokens posts to a path Bedrock Runtime does not serve", async () => {
  // The client drops countTokens from its types, but the method still posts the Anthropic API's
  // `/v1/messages/count_tokens`; Bedrock Runtime counts tokens at `/model/{id}/count-tokens`.
  await assert.rejects(
    claude.messages.countTokens({ model: HAIKU, messages: [{ role: "user", content: "How many tokens?" }] }),
    (err) => err.status === 404 && err.headers.get("x-amzn-errortype") === "UnknownOperationException",
  );
});
