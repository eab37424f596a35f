"""`--auth sigv4` through boto3 and the Anthropic SDK's Bedrock client: signing with test:test gets
through on both APIs; a wrong secret, an unknown key, a stale date, a body changed after signing and
a bad API key each get Bedrock's error, read by the client; presigned URLs; `/_awsim/` stays open."""

import datetime
import json
import urllib.request
from unittest import mock

import anthropic
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Awsim

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
API_KEY = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl"
HELLO = [{"role": "user", "content": [{"text": "hi"}]}]


@pytest.fixture(scope="module")
def server():
    awsim = Awsim("--auth", "sigv4", "--api-keys", API_KEY)
    yield awsim
    awsim.stop()


def client(server, service="bedrock-runtime", key="test", secret="test"):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-west-2",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def refusal(call):
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_boto3_signing_with_test_test_gets_through_on_both_apis(server):
    runtime = client(server)
    stream = runtime.converse_stream(modelId=HAIKU, messages=HELLO)["stream"]
    events = [next(iter(event)) for event in stream]
    assert events[0] == "messageStart" and events[-1] == "metadata"
    models = client(server, "bedrock").list_foundation_models(byProvider="Meta")["modelSummaries"]
    assert models
    # botocore sends the ARN's `:` and `/` percent-encoded and signs them encoded twice.
    arn = f"arn:aws:bedrock:us-west-2:000000000000:inference-profile/us.{HAIKU}"
    assert runtime.converse(modelId=arn, messages=HELLO)["stopReason"] == "end_turn"


def test_a_wrong_secret_is_an_invalid_signature_that_shows_the_canonical_request(server):
    runtime = client(server, secret="wrong")
    status, code, message = refusal(lambda: runtime.converse(modelId=HAIKU, messages=HELLO))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )
    assert "\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse\n" in message
    assert "/us-west-2/bedrock/aws4_request" in message


def test_an_unknown_access_key_is_an_unrecognized_client(server):
    runtime = client(server, key="AKIAUNKNOWN")
    assert refusal(lambda: runtime.converse(modelId=HAIKU, messages=HELLO)) == (
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def test_a_signature_dated_20_minutes_ago_has_expired(server):
    runtime = client(server)
    stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        status, code, message = refusal(lambda: runtime.converse(modelId=HAIKU, messages=HELLO))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {stale:%Y%m%dT%H%M%SZ} is now earlier than ")
    assert message.endswith(" - 15 min.)")


def test_a_body_changed_after_signing_is_an_invalid_signature(server):
    runtime = client(server)

    def tamper(request, **_):
        request.body = request.body.replace(b'"hi"', b'"ho"')

    runtime.meta.events.register("before-send.bedrock-runtime.Converse", tamper)
    status, code, message = refusal(lambda: runtime.converse(modelId=HAIKU, messages=HELLO))
    assert (status, code) == (403, "InvalidSignatureException")
    assert "The Canonical String for this request should have been" in message


def bearer(server, key):
    body = json.dumps({"messages": HELLO}).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return server.http("POST", f"/model/{HAIKU}/converse", body, headers)


def test_a_configured_api_key_gets_through_and_another_is_access_denied(server):
    status, _, body = bearer(server, API_KEY)
    assert status == 200, body
    assert json.loads(body)["stopReason"] == "end_turn"
    status, headers, body = bearer(server, "ABSK-not-configured")
    assert (status, headers["x-amzn-errortype"]) == (403, "AccessDeniedException")
    assert json.loads(body) == {"message": "Authentication failed: Please make sure your API Key is valid."}


def test_boto3_sends_an_api_key_over_https_only(server, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY)
    runtime = boto3.client("bedrock-runtime", endpoint_url=server.url, region_name="us-east-1")
    if server.url.startswith("http://"):
        with pytest.raises(Exception, match="Bearer authorization requires an HTTPS endpoint"):
            runtime.converse(modelId=HAIKU, messages=HELLO)
        pytest.skip("awsim serves plain http here: boto3 sends a bearer token over https only")
    assert runtime.converse(modelId=HAIKU, messages=HELLO)["stopReason"] == "end_turn"


def test_no_credentials_is_a_missing_token_and_awsim_endpoints_stay_open(server):
    status, headers, body = server.http("POST", f"/model/{HAIKU}/converse", {"messages": HELLO})
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
    assert json.loads(body) == {"message": "Missing Authentication Token"}
    assert server.http("GET", "/_awsim/health")[0] == 200
    assert server.http("POST", "/_awsim/reset")[0] in (200, 204)


def fetch(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers=headers or {})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_a_presigned_url_gets_through_and_a_changed_one_does_not(server):
    url = client(server, "bedrock").generate_presigned_url("list_foundation_models", Params={"byProvider": "Meta"})
    assert "X-Amz-Signature=" in url
    status, _, body = fetch(url)
    assert status == 200, body
    assert json.loads(body)["modelSummaries"]
    status, headers, _ = fetch(url.replace("byProvider=Meta", "byProvider=Amazon"))
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")


def test_a_presigned_runtime_call_is_authenticated_but_botocore_moves_its_body_into_the_query(server):
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
    url = client(server).generate_presigned_url(
        "invoke_model", Params={"modelId": HAIKU, "body": body, "contentType": "application/json"}
    )
    # botocore signs an empty body and the JSON's members as query parameters: the signature holds,
    # and InvokeModel finds no body.
    assert "anthropic_version=bedrock-2023-05-31" in url
    status, headers, answer = fetch(url, b"", {"Content-Type": "application/json"})
    assert (status, headers["x-amzn-errortype"]) == (400, "ValidationException"), answer
    status, headers, _ = fetch(url.replace("max_tokens=10", "max_tokens=11"), b"", {"Content-Type": "application/json"})
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")


def test_anthropic_bedrock_client_gets_through_signed_and_with_an_api_key(server):
    for claude in (server.anthropic(), server.anthropic(api_key=API_KEY)):
        msg = claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
        assert msg.stop_reason in ("end_turn", "max_tokens")
    with pytest.raises(anthropic.PermissionDeniedError, match="Please make sure your API Key is valid"):
        server.anthropic(api_key="ABSK-not-configured").messages.create(
            model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
