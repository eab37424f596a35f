"""The Bedrock control plane seen from boto3: every implemented operation and its errors, parsed by
botocore's own deserializers, plus the product page's curl examples sent as plain HTTP."""

import datetime
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
ROLE = "arn:aws:iam::123456789012:role/BedrockCustomization"
PAGE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=host, Signature=fake"
)


# ---------------------------------------------------------------------------------------------
# helpers and fixtures


@pytest.fixture(scope="module")
def fast_server():
    """A server whose customization jobs and provisioned throughput finish in 0.5 s."""
    server = Awsim("--bedrock-customization-seconds", "0.5")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slow_server():
    """A server whose jobs run long enough to be stopped and observed."""
    server = Awsim("--bedrock-customization-seconds", "2")
    yield server
    server.stop()


@pytest.fixture
def fast(fast_server):
    fast_server.reset()
    return fast_server.client("bedrock")


@pytest.fixture
def slow(slow_server):
    slow_server.reset()
    return slow_server.client("bedrock")


def error_of(excinfo):
    """(HTTP status, error code, message) of a ClientError."""
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.03)


def job(client, name, model, **extra):
    args = dict(
        jobName=name,
        customModelName=model,
        roleArn=ROLE,
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://my-training-bucket/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://my-output-bucket/out/"},
        hyperParameters={"epochCount": "2"},
    )
    args.update(extra)
    return client.create_model_customization_job(**args)


def guardrail(client, name, **extra):
    args = dict(name=name, blockedInputMessaging="Sorry.", blockedOutputsMessaging="Sorry.")
    args.update(extra)
    return client.create_guardrail(**args)


FULL_POLICIES = dict(
    topicPolicyConfig={
        "topicsConfig": [
            {
                "name": "Investment advice",
                "definition": "Personalized financial or investment advice.",
                "examples": ["Which stocks should I buy?"],
                "type": "DENY",
            }
        ]
    },
    contentPolicyConfig={
        "filtersConfig": [
            {"type": "HATE", "inputStrength": "HIGH", "outputStrength": "HIGH"},
            {"type": "PROMPT_ATTACK", "inputStrength": "MEDIUM", "outputStrength": "NONE"},
        ]
    },
    wordPolicyConfig={
        "wordsConfig": [{"text": "competitor-x"}],
        "managedWordListsConfig": [{"type": "PROFANITY"}],
    },
    sensitiveInformationPolicyConfig={
        "piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}],
        "regexesConfig": [{"name": "order-id", "pattern": "ORD-[0-9]{6}", "action": "BLOCK"}],
    },
    contextualGroundingPolicyConfig={"filtersConfig": [{"type": "GROUNDING", "threshold": 0.75}]},
)


# ---------------------------------------------------------------------------------------------
# foundation models


def test_list_foundation_models_returns_a_catalog_of_real_models(bedrock):
    models = bedrock.list_foundation_models()["modelSummaries"]
    assert len(models) >= 60
    haiku = next(m for m in models if m["modelId"] == HAIKU)
    assert haiku == {
        "modelArn": HAIKU_ARN,
        "modelId": HAIKU,
        "modelName": "Claude 3 Haiku",
        "providerName": "Anthropic",
        "inputModalities": ["TEXT", "IMAGE"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE"},
    }
    ids = {m["modelId"] for m in models}
    for expected in [
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "amazon.nova-pro-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "cohere.command-r-plus-v1:0",
        "ai21.jamba-1-5-large-v1:0",
        "deepseek.r1-v1:0",
        "openai.gpt-oss-120b-1:0",
        "amazon.titan-embed-text-v2:0",
        "cohere.embed-english-v3",
    ]:
        assert expected in ids


def test_list_foundation_models_filters_by_provider_ignoring_case_and_by_modality(bedrock):
    models = bedrock.list_foundation_models(byProvider="meta")["modelSummaries"]
    assert models and all(m["providerName"] == "Meta" for m in models)
    embeddings = bedrock.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    assert {"amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"} <= {m["modelId"] for m in embeddings}
    tunable = bedrock.list_foundation_models(byCustomizationType="FINE_TUNING", byInferenceType="PROVISIONED")
    assert all("FINE_TUNING" in m["customizationsSupported"] for m in tunable["modelSummaries"])


def test_an_invalid_filter_value_is_a_validation_exception(bedrock):
    with pytest.raises(ClientError) as err:
        bedrock.list_foundation_models(byInferenceType="BATCH")
    status, code, message = error_of(err)
    assert (status, code) == (400, "ValidationException")
    assert "'BATCH' at 'byInferenceType'" in message


def test_get_foundation_model_by_id_or_arn(bedrock):
    by_id = bedrock.get_foundation_model(modelIdentifier="amazon.nova-pro-v1:0")["modelDetails"]
    assert by_id["modelName"] == "Nova Pro"
    by_arn = bedrock.get_foundation_model(
        modelIdentifier="arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0"
    )["modelDetails"]
    assert by_arn == by_id


def test_an_unknown_foundation_model_is_not_found(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException) as err:
        bedrock.get_foundation_model(modelIdentifier="anthropic.claude-99-v1:0")
    assert error_of(err)[0] == 404


# ---------------------------------------------------------------------------------------------
# inference profiles


def test_us_callers_see_us_and_global_system_profiles(bedrock):
    profiles = bedrock.list_inference_profiles()["inferenceProfileSummaries"]
    ids = [p["inferenceProfileId"] for p in profiles]
    assert f"us.{HAIKU}" in ids
    assert "global.anthropic.claude-sonnet-4-5-20250929-v1:0" in ids
    assert all(i.startswith(("us.", "global.")) for i in ids)
    haiku = next(p for p in profiles if p["inferenceProfileId"] == f"us.{HAIKU}")
    assert haiku["inferenceProfileName"] == "US Anthropic Claude 3 Haiku"
    assert haiku["type"] == "SYSTEM_DEFINED" and haiku["status"] == "ACTIVE"
    assert haiku["inferenceProfileArn"] == f"arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.{HAIKU}"
    assert [m["modelArn"].split(":")[3] for m in haiku["models"]] == ["us-east-1", "us-east-2", "us-west-2"]
    assert isinstance(haiku["createdAt"], datetime.datetime)


def test_eu_callers_see_eu_profiles_with_their_region_in_the_arn(awsim):
    eu = awsim.client("bedrock", region="eu-west-1")
    profiles = eu.list_inference_profiles()["inferenceProfileSummaries"]
    assert any(p["inferenceProfileId"] == f"eu.{HAIKU}" for p in profiles)
    assert not any(p["inferenceProfileId"].startswith("us.") for p in profiles)
    assert all(p["inferenceProfileArn"].startswith("arn:aws:bedrock:eu-west-1:") for p in profiles)


def test_the_paginator_walks_every_system_profile_once(bedrock):
    everything = [p["inferenceProfileId"] for p in bedrock.list_inference_profiles()["inferenceProfileSummaries"]]
    pages = list(bedrock.get_paginator("list_inference_profiles").paginate(PaginationConfig={"PageSize": 7}))
    assert len(pages) > 2
    assert all(len(p["inferenceProfileSummaries"]) <= 7 for p in pages)
    assert [p["inferenceProfileId"] for page in pages for p in page["inferenceProfileSummaries"]] == everything


def test_a_made_up_next_token_is_a_validation_exception(bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        bedrock.list_guardrails(nextToken="bm90LWEtdG9rZW4")
    assert "nextToken" in error_of(err)[2]


def test_an_application_profile_is_created_read_listed_and_deleted(bedrock):
    created = bedrock.create_inference_profile(
        inferenceProfileName="team-a haiku",
        description="Chargeback for team A",
        modelSource={"copyFrom": HAIKU_ARN},
        tags=[{"key": "team", "value": "a"}],
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = created["inferenceProfileArn"]
    assert re.fullmatch(r"arn:aws:bedrock:us-east-1:000000000000:application-inference-profile/[a-z0-9]{12}", arn)
    got = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert got["type"] == "APPLICATION"
    assert got["models"] == [{"modelArn": HAIKU_ARN}]
    assert bedrock.get_inference_profile(inferenceProfileIdentifier=got["inferenceProfileId"])["inferenceProfileArn"] == arn
    listed = bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [p["inferenceProfileName"] for p in listed] == ["team-a haiku"]
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "team", "value": "a"}]
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_inference_profile(inferenceProfileIdentifier=arn)


def test_an_application_profile_copies_a_system_profiles_regions(bedrock):
    created = bedrock.create_inference_profile(
        inferenceProfileName="cross-region",
        modelSource={"copyFrom": f"arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.{HAIKU}"},
    )
    got = bedrock.get_inference_profile(inferenceProfileIdentifier=created["inferenceProfileArn"])
    assert len(got["models"]) == 3


def test_system_profiles_cannot_be_deleted_and_names_must_be_unique(bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException):
        bedrock.delete_inference_profile(inferenceProfileIdentifier=f"us.{HAIKU}")
    bedrock.create_inference_profile(inferenceProfileName="same", modelSource={"copyFrom": HAIKU_ARN})
    with pytest.raises(bedrock.exceptions.ConflictException):
        bedrock.create_inference_profile(inferenceProfileName="same", modelSource={"copyFrom": HAIKU_ARN})


def test_copying_an_unknown_model_is_not_found(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.create_inference_profile(
            inferenceProfileName="nope",
            modelSource={"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/acme.unknown-v1:0"},
        )


# ---------------------------------------------------------------------------------------------
# model customization and custom models


def test_a_job_trains_then_completes_into_a_custom_model(fast):
    created = job(fast, "tune-1", "my-titan", validationDataConfig={"validators": [{"s3Uri": "s3://my-training-bucket/v.jsonl"}]})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = created["jobArn"]
    assert arn.startswith(
        "arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-express-v1:0:8k/"
    )
    assert fast.get_model_customization_job(jobIdentifier=arn)["status"] == "InProgress"
    done = eventually(
        lambda: (lambda j: j if j["status"] == "Completed" else None)(fast.get_model_customization_job(jobIdentifier=arn))
    )
    assert 0 < done["trainingMetrics"]["trainingLoss"] < 2
    assert len(done["validationMetrics"]) == 1
    assert done["endTime"] > done["creationTime"]
    assert done["hyperParameters"] == {"epochCount": "2"}
    model = fast.get_custom_model(modelIdentifier=done["outputModelArn"])
    assert model["modelName"] == "my-titan"
    assert model["jobArn"] == arn
    assert model["baseModelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k"
    summaries = fast.list_custom_models()["modelSummaries"]
    assert [m["modelArn"] for m in summaries] == [done["outputModelArn"]]


def test_a_stopped_job_passes_through_stopping_to_stopped(slow):
    job(slow, "to-stop", "never")
    slow.stop_model_customization_job(jobIdentifier="to-stop")
    assert slow.get_model_customization_job(jobIdentifier="to-stop")["status"] == "Stopping"
    eventually(lambda: slow.get_model_customization_job(jobIdentifier="to-stop")["status"] == "Stopped")
    assert slow.list_custom_models()["modelSummaries"] == []


def test_a_finished_job_cannot_be_stopped(fast):
    job(fast, "quick", "quick-model")
    eventually(lambda: fast.get_model_customization_job(jobIdentifier="quick")["status"] == "Completed")
    with pytest.raises(fast.exceptions.ValidationException) as err:
        fast.stop_model_customization_job(jobIdentifier="quick")
    assert "Completed" in error_of(err)[2]


def test_missing_required_members_are_reported_by_the_server(awsim):
    unchecked = awsim.client("bedrock", parameter_validation=False)
    with pytest.raises(ClientError) as err:
        unchecked.create_model_customization_job(jobName="incomplete")
    status, code, message = error_of(err)
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("5 validation errors detected")
    assert "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in message


def test_uris_must_be_s3_and_roles_must_be_iam_role_arns(bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        job(bedrock, "bad", "m", roleArn="BedrockRole", outputDataConfig={"s3Uri": "https://example.com/out"})
    message = error_of(err)[2]
    assert message.startswith("2 validation errors detected")
    assert "Value 'BedrockRole' at 'roleArn'" in message
    assert "Value 'https://example.com/out' at 'outputDataConfig.s3Uri'" in message


def test_a_duplicate_job_name_is_refused_as_bedrock_does(bedrock):
    job(bedrock, "same-name", "model-a")
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        job(bedrock, "same-name", "model-b")
    assert error_of(err)[2] == "The provided job name is currently in use."


def test_base_models_must_exist_and_support_the_customization(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        job(bedrock, "unknown-base", "m1", baseModelIdentifier="acme.unknown-v1:0")
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        job(bedrock, "fixed-base", "m2", baseModelIdentifier="anthropic.claude-sonnet-4-20250514-v1:0")
    assert "does not support the customization type FINE_TUNING" in error_of(err)[2]


def test_jobs_are_found_by_name_or_arn_and_unknown_ones_are_not_found(bedrock):
    arn = job(bedrock, "by-name", "m")["jobArn"]
    assert bedrock.get_model_customization_job(jobIdentifier="by-name")["jobArn"] == arn
    assert bedrock.get_model_customization_job(jobIdentifier=arn)["jobName"] == "by-name"
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_model_customization_job(jobIdentifier="no-such-job")


def test_jobs_are_filtered_sorted_and_paginated(slow):
    for name in ["alpha-1", "beta-1", "alpha-2"]:
        job(slow, name, f"{name}-model")
        time.sleep(0.005)
    slow.stop_model_customization_job(jobIdentifier="beta-1")
    names = [j["jobName"] for j in slow.list_model_customization_jobs()["modelCustomizationJobSummaries"]]
    assert names == ["alpha-2", "beta-1", "alpha-1"]
    alpha = slow.list_model_customization_jobs(nameContains="ALPHA", sortOrder="Ascending")
    assert [j["jobName"] for j in alpha["modelCustomizationJobSummaries"]] == ["alpha-1", "alpha-2"]
    stopping = slow.list_model_customization_jobs(statusEquals="Stopping")
    assert [j["jobName"] for j in stopping["modelCustomizationJobSummaries"]] == ["beta-1"]
    pages = list(slow.get_paginator("list_model_customization_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["modelCustomizationJobSummaries"]) for p in pages] == [2, 1]


def test_creation_time_filters_bound_the_job_list(bedrock):
    job(bedrock, "old-job", "old-model")
    time.sleep(0.05)
    cut = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(0.05)
    job(bedrock, "new-job", "new-model")
    after = bedrock.list_model_customization_jobs(creationTimeAfter=cut)["modelCustomizationJobSummaries"]
    assert [j["jobName"] for j in after] == ["new-job"]
    before = bedrock.list_model_customization_jobs(creationTimeBefore=cut)["modelCustomizationJobSummaries"]
    assert [j["jobName"] for j in before] == ["old-job"]


def test_custom_models_are_filtered_paginated_and_deleted(fast):
    for name in ["support-bot", "sales-bot", "support-faq"]:
        job(fast, f"{name}-job", name)
    eventually(lambda: len(fast.list_custom_models()["modelSummaries"]) == 3)
    assert len(fast.list_custom_models(nameContains="support")["modelSummaries"]) == 2
    pages = list(fast.get_paginator("list_custom_models").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 3
    fast.delete_custom_model(modelIdentifier="sales-bot")
    with pytest.raises(fast.exceptions.ResourceNotFoundException):
        fast.get_custom_model(modelIdentifier="sales-bot")


def test_create_time_tags_land_on_the_job_and_on_its_model(fast):
    arn = job(
        fast,
        "tagged-job",
        "tagged-model",
        jobTags=[{"key": "stage", "value": "training"}],
        customModelTags=[{"key": "owner", "value": "ml-team"}],
    )["jobArn"]
    assert fast.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "stage", "value": "training"}]
    done = eventually(
        lambda: (lambda j: j if j["status"] == "Completed" else None)(fast.get_model_customization_job(jobIdentifier=arn))
    )
    tags = fast.list_tags_for_resource(resourceARN=done["outputModelArn"])["tags"]
    assert tags == [{"key": "owner", "value": "ml-team"}]


# ---------------------------------------------------------------------------------------------
# provisioned throughput


def test_provisioned_throughput_is_creating_then_in_service_and_can_be_updated(fast):
    created = fast.create_provisioned_model_throughput(
        provisionedModelName="haiku-pt", modelId=f"{HAIKU}:200k", modelUnits=2, commitmentDuration="OneMonth"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = created["provisionedModelArn"]
    assert re.fullmatch(r"arn:aws:bedrock:us-east-1:000000000000:provisioned-model/[a-z0-9]{12}", arn)
    got = fast.get_provisioned_model_throughput(provisionedModelId=arn)
    assert got["status"] == "Creating"
    assert got["foundationModelArn"] == f"{HAIKU_ARN}:200k"
    eventually(lambda: fast.get_provisioned_model_throughput(provisionedModelId="haiku-pt")["status"] == "InService")
    fast.update_provisioned_model_throughput(
        provisionedModelId="haiku-pt", desiredProvisionedModelName="renamed", desiredModelId=f"{HAIKU}:48k"
    )
    updating = fast.get_provisioned_model_throughput(provisionedModelId="renamed")
    assert updating["status"] == "Updating" and updating["desiredModelArn"].endswith(":48k")
    eventually(lambda: fast.get_provisioned_model_throughput(provisionedModelId="renamed")["modelArn"].endswith(":48k"))
    fast.delete_provisioned_model_throughput(provisionedModelId=arn)
    with pytest.raises(fast.exceptions.ResourceNotFoundException):
        fast.get_provisioned_model_throughput(provisionedModelId=arn)


def test_provisioned_throughput_is_validated(bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException):
        bedrock.create_provisioned_model_throughput(
            provisionedModelName="nope", modelId="anthropic.claude-sonnet-4-20250514-v1:0", modelUnits=1
        )
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.create_provisioned_model_throughput(provisionedModelName="nope", modelId="acme.x-v1:0", modelUnits=1)


def test_provisioned_throughputs_are_listed_filtered_and_paginated(bedrock):
    for name in ["prod-a", "prod-b", "dev-a"]:
        bedrock.create_provisioned_model_throughput(provisionedModelName=name, modelId=f"{HAIKU}:200k", modelUnits=1)
    assert len(bedrock.list_provisioned_model_throughputs(nameContains="prod")["provisionedModelSummaries"]) == 2
    pages = list(bedrock.get_paginator("list_provisioned_model_throughputs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["provisionedModelSummaries"]) for p in pages] == [2, 1]


# ---------------------------------------------------------------------------------------------
# invocation logging


def test_logging_configuration_round_trips_and_deletes(bedrock):
    assert "loggingConfig" not in bedrock.get_model_invocation_logging_configuration()
    config = {
        "cloudWatchConfig": {
            "logGroupName": "/bedrock/invocations",
            "roleArn": "arn:aws:iam::123456789012:role/BedrockLogging",
            "largeDataDeliveryS3Config": {"bucketName": "large-payloads", "keyPrefix": "big/"},
        },
        "s3Config": {"bucketName": "invocation-logs", "keyPrefix": "bedrock/"},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": True,
    }
    bedrock.put_model_invocation_logging_configuration(loggingConfig=config)
    assert bedrock.get_model_invocation_logging_configuration()["loggingConfig"] == config
    bedrock.delete_model_invocation_logging_configuration()
    assert "loggingConfig" not in bedrock.get_model_invocation_logging_configuration()


def test_logging_configuration_is_validated(bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        bedrock.put_model_invocation_logging_configuration(loggingConfig={"textDataDeliveryEnabled": True})
    assert "destination" in error_of(err)[2]
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        bedrock.put_model_invocation_logging_configuration(
            loggingConfig={"cloudWatchConfig": {"logGroupName": "/g", "roleArn": "not-a-role"}}
        )
    assert "at 'loggingConfig.cloudWatchConfig.roleArn'" in error_of(err)[2]


# ---------------------------------------------------------------------------------------------
# tags


def test_every_taggable_resource_round_trips_its_tags(fast):
    arns = [
        guardrail(fast, "tagged")["guardrailArn"],
        job(fast, "tag-job", "tag-model")["jobArn"],
        fast.create_inference_profile(inferenceProfileName="tagged", modelSource={"copyFrom": HAIKU_ARN})[
            "inferenceProfileArn"
        ],
        fast.create_provisioned_model_throughput(
            provisionedModelName="tagged", modelId="amazon.nova-lite-v1:0:300k", modelUnits=1
        )["provisionedModelArn"],
    ]
    eventually(lambda: fast.list_custom_models()["modelSummaries"])
    arns.append(fast.get_custom_model(modelIdentifier="tag-model")["modelArn"])
    for arn in arns:
        fast.tag_resource(resourceARN=arn, tags=[{"key": "env", "value": "test"}, {"key": "owner", "value": "me"}])
        assert fast.list_tags_for_resource(resourceARN=arn)["tags"] == [
            {"key": "env", "value": "test"},
            {"key": "owner", "value": "me"},
        ], arn
        fast.untag_resource(resourceARN=arn, tagKeys=["env"])
        assert fast.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "owner", "value": "me"}], arn


def test_more_than_two_hundred_tags_is_too_many(bedrock):
    arn = guardrail(bedrock, "crowded")["guardrailArn"]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(200)])
    with pytest.raises(bedrock.exceptions.TooManyTagsException) as err:
        bedrock.tag_resource(resourceARN=arn, tags=[{"key": "one-more", "value": "v"}])
    assert err.value.response["resourceName"] == arn
    assert error_of(err)[0] == 400
    assert len(bedrock.list_tags_for_resource(resourceARN=arn)["tags"]) == 200


def test_tagging_an_unknown_arn_is_not_found(bedrock):
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.tag_resource(
            resourceARN="arn:aws:bedrock:us-east-1:000000000000:guardrail/doesnotexist",
            tags=[{"key": "a", "value": "b"}],
        )


def test_the_product_pages_tag_paths_take_the_arn_in_the_path(awsim, bedrock):
    arn = guardrail(bedrock, "curl-tags")["guardrailArn"]
    status, _, _ = awsim.http("POST", f"/tags/{arn}", {"tags": [{"key": "env", "value": "dev"}]}, {"Authorization": PAGE_AUTH})
    assert status == 200
    status, _, body = awsim.http("GET", f"/tags/{arn}", headers={"Authorization": PAGE_AUTH})
    assert (status, json.loads(body)) == (200, {"tags": [{"key": "env", "value": "dev"}]})
    status, _, _ = awsim.http("DELETE", f"/tags/{arn}", {"tagKeys": ["env"]}, {"Authorization": PAGE_AUTH})
    assert status == 200
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == []


# ---------------------------------------------------------------------------------------------
# guardrails


def test_a_guardrail_with_every_policy_is_read_back_in_the_read_shape(bedrock):
    created = guardrail(bedrock, "full", description="All policies", tags=[{"key": "team", "value": "safety"}], **FULL_POLICIES)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["version"] == "DRAFT"
    g = bedrock.get_guardrail(guardrailIdentifier=created["guardrailId"])
    assert g["status"] == "READY" and g["version"] == "DRAFT"
    assert g["guardrailArn"] == f"arn:aws:bedrock:us-east-1:000000000000:guardrail/{created['guardrailId']}"
    topic = g["topicPolicy"]["topics"][0]
    assert topic["name"] == "Investment advice" and topic["examples"] == ["Which stocks should I buy?"]
    assert [f["type"] for f in g["contentPolicy"]["filters"]] == ["HATE", "PROMPT_ATTACK"]
    assert g["wordPolicy"]["words"][0]["text"] == "competitor-x"
    assert g["wordPolicy"]["managedWordLists"][0]["type"] == "PROFANITY"
    assert g["sensitiveInformationPolicy"]["piiEntities"][0]["action"] == "ANONYMIZE"
    assert g["sensitiveInformationPolicy"]["regexes"][0]["pattern"] == "ORD-[0-9]{6}"
    assert g["contextualGroundingPolicy"]["filters"][0]["threshold"] == 0.75
    assert isinstance(g["createdAt"], datetime.datetime)


def test_guardrail_versions_are_immutable_snapshots(bedrock):
    gid = guardrail(bedrock, "versioned", **FULL_POLICIES)["guardrailId"]
    v1 = bedrock.create_guardrail_version(guardrailIdentifier=gid, description="first release")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert v1["version"] == "1"
    updated = bedrock.update_guardrail(
        guardrailIdentifier=gid,
        name="versioned",
        blockedInputMessaging="Changed.",
        blockedOutputsMessaging="Changed.",
        topicPolicyConfig={"topicsConfig": [{"name": "Medical advice", "definition": "Diagnoses.", "type": "DENY"}]},
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["version"] == "DRAFT"
    assert bedrock.create_guardrail_version(guardrailIdentifier=gid)["version"] == "2"
    one = bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="1")
    assert one["description"] == "first release"
    assert one["topicPolicy"]["topics"][0]["name"] == "Investment advice"
    two = bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="2")
    assert two["topicPolicy"]["topics"][0]["name"] == "Medical advice"
    assert "contentPolicy" not in two
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_guardrail(guardrailIdentifier=gid, guardrailVersion="3")


def test_list_guardrails_shows_drafts_or_every_version_of_one(bedrock):
    a = guardrail(bedrock, "guard-a")["guardrailArn"]
    guardrail(bedrock, "guard-b")
    guardrail(bedrock, "guard-c")
    bedrock.create_guardrail_version(guardrailIdentifier=a)
    drafts = bedrock.list_guardrails()["guardrails"]
    assert [g["name"] for g in drafts] == ["guard-a", "guard-b", "guard-c"]
    assert {g["version"] for g in drafts} == {"DRAFT"}
    versions = bedrock.list_guardrails(guardrailIdentifier=a)["guardrails"]
    assert [g["version"] for g in versions] == ["DRAFT", "1"]
    pages = list(bedrock.get_paginator("list_guardrails").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["guardrails"]) for p in pages] == [2, 1]


def test_deleting_one_version_or_the_whole_guardrail(bedrock):
    created = guardrail(bedrock, "prune")
    gid = created["guardrailId"]
    for _ in range(3):
        bedrock.create_guardrail_version(guardrailIdentifier=gid)
    deleted = bedrock.delete_guardrail(guardrailIdentifier=created["guardrailArn"], guardrailVersion="2")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert [g["version"] for g in bedrock.list_guardrails(guardrailIdentifier=gid)["guardrails"]] == ["DRAFT", "1", "3"]
    bedrock.delete_guardrail(guardrailIdentifier=gid)
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_guardrail(guardrailIdentifier=gid)


def test_guardrail_input_is_validated(bedrock):
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        guardrail(bedrock, "not a valid name", blockedOutputsMessaging="x" * 501)
    message = error_of(err)[2]
    assert message.startswith("2 validation errors detected")
    assert "Value 'not a valid name' at 'name'" in message
    assert "Member must have length less than or equal to 500" in message
    with pytest.raises(bedrock.exceptions.ValidationException) as err:
        guardrail(
            bedrock,
            "attack",
            contentPolicyConfig={"filtersConfig": [{"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "HIGH"}]},
        )
    assert "PROMPT_ATTACK" in error_of(err)[2]
    guardrail(bedrock, "unique")
    with pytest.raises(bedrock.exceptions.ConflictException):
        guardrail(bedrock, "unique")


# ---------------------------------------------------------------------------------------------
# regions, the product page, and what is not implemented


def test_a_guardrail_created_in_eu_west_1_lives_only_there(awsim, bedrock):
    eu = awsim.client("bedrock", region="eu-west-1")
    created = guardrail(eu, "european")
    assert created["guardrailArn"].startswith("arn:aws:bedrock:eu-west-1:000000000000:guardrail/")
    assert len(eu.list_guardrails()["guardrails"]) == 1
    assert bedrock.list_guardrails()["guardrails"] == []
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_guardrail(guardrailIdentifier=created["guardrailId"])


def test_the_product_pages_list_foundation_models_curl_works_verbatim(awsim):
    status, headers, body = awsim.http("GET", "/foundation-models", headers={"Authorization": PAGE_AUTH})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    ids = [m["modelId"] for m in json.loads(body)["modelSummaries"]]
    assert HAIKU in ids and "anthropic.claude-3-sonnet-20240229-v1:0" in ids


def test_timestamps_on_the_wire_are_rfc3339_strings_with_milliseconds(awsim, bedrock):
    guardrail(bedrock, "clock")
    _, _, body = awsim.http("GET", "/guardrails")
    created = json.loads(body)["guardrails"][0]["createdAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created), created


def test_operations_awsim_does_not_emulate_are_named_501s(bedrock):
    with pytest.raises(ClientError) as err:
        bedrock.list_model_import_jobs()
    status, code, message = error_of(err)
    assert (status, code) == (501, "NotImplementedException")
    assert "ListModelImportJobs" in message
