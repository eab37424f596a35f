"""The foundation seen from boto3: modeled errors for everything awsim does not do."""

import pytest
from botocore.exceptions import ClientError


def test_an_operation_awsim_does_not_implement_is_a_named_error(bedrock):
    with pytest.raises(ClientError) as err:
        bedrock.list_evaluation_jobs()
    assert err.value.response["Error"]["Code"] == "NotImplementedException"
    assert "ListEvaluationJobs" in err.value.response["Error"]["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert len(err.value.response["ResponseMetadata"]["RequestId"]) == 36


def test_health_reports_mode(awsim):
    status, headers, body = awsim.http("GET", "/_awsim/health")
    assert status == 200
    assert b'"backend":"canned"' in body
