// HTTPS on awsim's one port: the JavaScript SDK v3 runtime client speaks HTTP/2 over TLS (ALPN h2),
// trusting the generated CA through NODE_EXTRA_CA_CERTS — which Node reads only at start-up, so the
// client runs in a child process, exactly as a user's program would.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startAwsim } from "./awsim.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "awsim-js-tls-"));
const ca = path.join(dir, "ca.pem");
let awsim, httpsUrl;

before(async () => {
  awsim = await startAwsim("--tls-ca-out", ca);
  httpsUrl = `https://localhost:${new URL(awsim.url).port}`;
});
after(() => {
  awsim.stop();
  rmSync(dir, { recursive: true, force: true });
});

// The README's example, run by a fresh node with the CA trusted.
const program = (endpoint) => `
import { BedrockRuntimeClient, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";

const runtime = new BedrockRuntimeClient({
  region: "us-east-1",
  endpoint: "${endpoint}",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});
const out = await runtime.send(new ConverseStreamCommand({
  modelId: "anthropic.claude-3-haiku-20240307-v1:0",
  messages: [{ role: "user", content: [{ text: "Hello over TLS!" }] }],
}));
let deltas = 0;
for await (const event of out.stream) {
  if (event.contentBlockDelta) deltas += 1;
}
console.log(JSON.stringify({ deltas, status: out.$metadata.httpStatusCode }));
runtime.destroy();
`;

const run = (env) =>
  promisify(execFile)(process.execPath, ["--input-type=module", "-e", program(httpsUrl)], {
    cwd: here,
    env: { ...process.env, ...env },
  });

test("ConverseStream over HTTP/2 with TLS, trusting the CA with NODE_EXTRA_CA_CERTS", async () => {
  const { stdout } = await run({ NODE_EXTRA_CA_CERTS: ca });
  const result = JSON.parse(stdout);
  assert.equal(result.status, 200);
  assert.ok(result.deltas > 1, stdout);
});

test("without the CA, Node refuses the certificate", async () => {
  await assert.rejects(run({ NODE_EXTRA_CA_CERTS: "" }), /certificate|self[- ]signed|UNABLE_TO/i);
});
