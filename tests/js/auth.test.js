// `--auth sigv4` through the AWS SDK for JavaScript v3. Its runtime client talks HTTP/2 (h2c here)
// and signs `:authority` instead of `host`; its control-plane client talks HTTP/1.1. Signing with
// test:test gets through; a wrong secret, an unknown key, a clock 20 minutes behind, a body changed
// after signing and a bad API key each get Bedrock's error, read by the SDK.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { BedrockClient, ListFoundationModelsCommand } from "@aws-sdk/client-bedrock";
import { startAwsim, clientConfig } from "./awsim.js";

const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const API_KEY = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl";
const HELLO = [{ role: "user", content: [{ text: "hi" }] }];
let awsim;
const clients = [];

before(async () => {
  awsim = await startAwsim("--auth", "sigv4", "--api-keys", API_KEY);
});
after(() => {
  for (const c of clients) c.destroy();
  awsim.stop();
});

function runtime(overrides = {}) {
  const client = new BedrockRuntimeClient({ ...clientConfig(awsim.url), ...overrides });
  clients.push(client);
  return client;
}

async function refusal(client) {
  const err = await client.send(new ConverseCommand({ modelId: HAIKU, messages: HELLO })).then(
    () => assert.fail("the call was accepted"),
    (e) => e,
  );
  assert.equal(err.$metadata.httpStatusCode, 403);
  return err;
}

test("signing with test:test gets through: ConverseStream over h2c on an ARN, ListFoundationModels", async () => {
  const arn = `arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.${HAIKU}`;
  const out = await runtime().send(new ConverseStreamCommand({ modelId: arn, messages: HELLO }));
  const names = [];
  for await (const event of out.stream) names.push(Object.keys(event)[0]);
  assert.equal(names[0], "messageStart");
  assert.equal(names.at(-1), "metadata");
  const bedrock = new BedrockClient(clientConfig(awsim.url));
  clients.push(bedrock);
  const models = await bedrock.send(new ListFoundationModelsCommand({ byProvider: "Meta" }));
  assert.ok(models.modelSummaries.length > 0);
});

test("a wrong secret is an InvalidSignatureException showing the canonical request", async () => {
  const err = await refusal(runtime({ credentials: { accessKeyId: "test", secretAccessKey: "wrong" } }));
  assert.equal(err.name, "InvalidSignatureException");
  assert.match(err.message, /^The request signature we calculated does not match the signature you provided\./);
  // The JS SDK signs the host as `:authority` over HTTP/2.
  assert.match(err.message, /\n:authority:127\.0\.0\.1:\d+\n/);
  assert.match(err.message, /\n\/model\/anthropic\.claude-3-haiku-20240307-v1%253A0\/converse\n/);
});

test("an unknown access key is an UnrecognizedClientException", async () => {
  const err = await refusal(runtime({ credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "test" } }));
  assert.equal(err.name, "UnrecognizedClientException");
  assert.equal(err.message, "The security token included in the request is invalid.");
});

test("a clock 20 minutes behind signs an expired request", async () => {
  const err = await refusal(runtime({ systemClockOffset: -20 * 60 * 1000 }));
  assert.equal(err.name, "InvalidSignatureException");
  assert.match(err.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
});

test("a body changed after signing is an InvalidSignatureException", async () => {
  const client = runtime();
  client.middlewareStack.add(
    (next) => async (args) => {
      const body = args.request.body;
      const text = typeof body === "string" ? body : new TextDecoder().decode(body);
      args.request.body = text.replace('"hi"', '"ho"');
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "tamperWithBody" },
  );
  const err = await refusal(client);
  assert.equal(err.name, "InvalidSignatureException");
  assert.match(err.message, /The Canonical String for this request should have been/);
});

test("a configured API key gets through as a bearer token, another is AccessDeniedException", async () => {
  const bearer = (token) =>
    runtime({ credentials: undefined, token: { token }, authSchemePreference: ["httpBearerAuth"] });
  const out = await bearer(API_KEY).send(new ConverseCommand({ modelId: HAIKU, messages: HELLO }));
  assert.equal(out.stopReason, "end_turn");
  const err = await refusal(bearer("ABSK-not-configured"));
  assert.equal(err.name, "AccessDeniedException");
  assert.equal(err.message, "Authentication failed: Please make sure your API Key is valid.");
});
