// The JS SDK v3 control-plane client (HTTP/1.1): awsim's responses must parse with its own
// deserializers — RFC 3339 timestamps, 201/202 statuses, modeled errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  BedrockClient,
  CreateGuardrailCommand,
  CreateGuardrailVersionCommand,
  CreateInferenceProfileCommand,
  CreateModelCustomizationJobCommand,
  GetFoundationModelCommand,
  GetGuardrailCommand,
  GetModelCustomizationJobCommand,
  ListFoundationModelsCommand,
  ListGuardrailsCommand,
  ListInferenceProfilesCommand,
  ListTagsForResourceCommand,
  PutModelInvocationLoggingConfigurationCommand,
  GetModelInvocationLoggingConfigurationCommand,
  TagResourceCommand,
} from "@aws-sdk/client-bedrock";
import { startAwsim, clientConfig } from "./awsim.js";

const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
let awsim, bedrock;

before(async () => {
  awsim = await startAwsim();
  bedrock = new BedrockClient(clientConfig(awsim.url));
});
after(() => {
  bedrock.destroy();
  awsim.stop();
});

test("foundation models: list with a filter, get by id", async () => {
  const { modelSummaries } = await bedrock.send(new ListFoundationModelsCommand({ byProvider: "anthropic" }));
  assert.ok(modelSummaries.length > 5);
  assert.ok(modelSummaries.every((m) => m.providerName === "Anthropic"));
  const { modelDetails } = await bedrock.send(new GetFoundationModelCommand({ modelIdentifier: HAIKU }));
  assert.equal(modelDetails.modelArn, `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}`);
});

test("guardrails: create (202), version, get, list with Date timestamps", async () => {
  const created = await bedrock.send(
    new CreateGuardrailCommand({
      name: "js-guardrail",
      blockedInputMessaging: "no",
      blockedOutputsMessaging: "no",
      contentPolicyConfig: { filtersConfig: [{ type: "HATE", inputStrength: "HIGH", outputStrength: "HIGH" }] },
      tags: [{ key: "team", value: "js" }],
    }),
  );
  assert.equal(created.version, "DRAFT");
  assert.ok(created.createdAt instanceof Date);
  const v1 = await bedrock.send(new CreateGuardrailVersionCommand({ guardrailIdentifier: created.guardrailId }));
  assert.equal(v1.version, "1");
  const got = await bedrock.send(new GetGuardrailCommand({ guardrailIdentifier: created.guardrailArn, guardrailVersion: "1" }));
  assert.equal(got.contentPolicy.filters[0].type, "HATE");
  assert.ok(got.updatedAt instanceof Date);
  const { guardrails } = await bedrock.send(new ListGuardrailsCommand({}));
  assert.ok(guardrails.some((g) => g.id === created.guardrailId));
  const { tags } = await bedrock.send(new ListTagsForResourceCommand({ resourceARN: created.guardrailArn }));
  assert.deepEqual(tags, [{ key: "team", value: "js" }]);
});

test("inference profiles: system-defined list and an application profile (201)", async () => {
  const { inferenceProfileSummaries } = await bedrock.send(new ListInferenceProfilesCommand({ typeEquals: "SYSTEM_DEFINED" }));
  assert.ok(inferenceProfileSummaries.some((p) => p.inferenceProfileId === `us.${HAIKU}`));
  const created = await bedrock.send(
    new CreateInferenceProfileCommand({
      inferenceProfileName: "js-profile",
      modelSource: { copyFrom: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}` },
    }),
  );
  assert.match(created.inferenceProfileArn, /application-inference-profile\//);
  await bedrock.send(new TagResourceCommand({ resourceARN: created.inferenceProfileArn, tags: [{ key: "k", value: "v" }] }));
});

test("customization job: create (201) and read back", async () => {
  const { jobArn } = await bedrock.send(
    new CreateModelCustomizationJobCommand({
      jobName: "js-job",
      customModelName: "js-model",
      roleArn: "arn:aws:iam::000000000000:role/bedrock",
      baseModelIdentifier: "amazon.titan-text-express-v1",
      trainingDataConfig: { s3Uri: "s3://bucket/train.jsonl" },
      outputDataConfig: { s3Uri: "s3://bucket/out/" },
    }),
  );
  const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  assert.equal(job.jobName, "js-job");
  assert.ok(["InProgress", "Completed"].includes(job.status));
  assert.ok(job.creationTime instanceof Date);
});

test("invocation logging round-trips", async () => {
  await bedrock.send(
    new PutModelInvocationLoggingConfigurationCommand({
      loggingConfig: { s3Config: { bucketName: "bkt" }, textDataDeliveryEnabled: true },
    }),
  );
  const { loggingConfig } = await bedrock.send(new GetModelInvocationLoggingConfigurationCommand({}));
  assert.equal(loggingConfig.s3Config.bucketName, "bkt");
});

test("errors are modeled exceptions", async () => {
  await assert.rejects(
    bedrock.send(new GetFoundationModelCommand({ modelIdentifier: "nope.model-v1" })),
    (err) => err.name === "ResourceNotFoundException" && err.$metadata.httpStatusCode === 404,
  );
});
