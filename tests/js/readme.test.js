// The README's JavaScript examples, verbatim: every block marked `<!-- tested: js -->` runs as its own
// Node program (an ES module resolving packages from this directory) against a live awsim, with
// `http://localhost:4566` replaced by its URL (`https://localhost:4566` by its HTTPS URL, with the CA
// file it wrote in `NODE_EXTRA_CA_CERTS`, as README says to run them).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startAwsim } from "./awsim.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(path.join(here, "../../README.md"), "utf8");
const examples = [...readme.matchAll(/<!-- tested: js -->\n```js\n(.*?)```/gs)].map(([, code]) => ({
  code,
  sdk: code.match(/from "([^"]+)"/)[1],
}));
let awsim;

before(async () => {
  awsim = await startAwsim();
});
after(() => awsim.stop());

test("the README has a JavaScript example for each SDK", () => {
  const sdks = examples.map((e) => e.sdk);
  for (const sdk of ["@aws-sdk/client-bedrock-runtime", "@anthropic-ai/bedrock-sdk"]) {
    assert.ok(sdks.includes(sdk), `no README example uses ${sdk}`);
  }
});

for (const { code, sdk } of examples) {
  test(`the README's ${sdk} example streams an answer`, async () => {
    const health = await (await fetch(`${awsim.url}/_awsim/health`)).json();
    const httpsUrl = awsim.url.replace(/^http:\/\/[^:]+/, "https://localhost");
    const program = code
      .replaceAll("http://localhost:4566", awsim.url)
      .replaceAll("https://localhost:4566", httpsUrl);
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", program], {
      cwd: here,
      timeout: 60_000,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: health.tls.caCertificate },
    });
    assert.match(stdout, /\S/, "the example prints the answer");
    assert.doesNotMatch(stdout, /Exception/);
  });
}
