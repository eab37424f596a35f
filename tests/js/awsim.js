// Starts the real awsim binary on an ephemeral port and builds SDK clients for it.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function startAwsim(...args) {
  const bin = process.env.AWSIM_BIN ?? path.join(root, "target/debug/awsim");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWSIM_")));
  const child = spawn(bin, ["--port", "0", ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
  const lines = createInterface({ input: child.stderr });
  const url = await new Promise((resolve, reject) => {
    lines.on("line", (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`awsim exited with ${code}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

export const clientConfig = (url) => ({
  region: "us-east-1",
  endpoint: url,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});

// The Anthropic Bedrock SDK's client options: its own fetch-based HTTP stack, SigV4 by
// @smithy/signature-v4, streams decoded from event-stream frames.
export const anthropicConfig = (url) => ({
  baseURL: url,
  awsRegion: "us-east-1",
  awsAccessKey: "test",
  awsSecretKey: "test",
  maxRetries: 0,
});
