"""The inspector at /_awsim/, as a person uses it: calls made with boto3 appear without a reload,
a stream opens as a timeline with one tick per text delta and its time to first token, and a rule
added through the page's form changes what the next call gets."""

import json
import shutil

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import quit_chromium, start_chromium

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE = "us." + HAIKU


def bedrock(awsim):
    """boto3's runtime client, one attempt per call (no retry hides a throttle)."""
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=awsim.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def user(text):
    return [{"role": "user", "content": [{"text": text}]}]


def wait(chrome, predicate, what, timeout=30):
    """Waits for the page to show something (a hang guard, not a timing assertion). The page
    re-renders rows as it polls, so an element read mid-way may go stale: the wait reads again."""
    waiting = WebDriverWait(chrome, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException])
    return waiting.until(lambda d: predicate(d), message=what)


def open_page(chrome, url):
    chrome.get(url + "/_awsim/")
    wait(chrome, lambda d: d.find_element(By.ID, "status-version").text not in ("", "…", "unreachable"), "the status bar")
    # Set once: still there later means the page was never reloaded.
    chrome.execute_script("window.awsimNotReloaded = true")


def row(chrome, request_id):
    rows = chrome.find_elements(By.CSS_SELECTOR, f'#invocation-rows tr[data-request-id="{request_id}"]')
    return rows[0] if rows else None


def stream_text_deltas(response):
    return sum(
        1 for event in response["stream"] if "contentBlockDelta" in event and "text" in event["contentBlockDelta"]["delta"]
    )


def open_call(chrome, request_id, ticks):
    """Clicks the call's row and waits for its timeline, drawn with `ticks` text ticks."""
    row(chrome, request_id).click()
    wait(
        chrome,
        lambda d: d.find_element(By.ID, "detail").is_displayed()
        and d.find_elements(By.CSS_SELECTOR, f'#timeline path.tick-text[data-count="{ticks}"]'),
        f"the timeline of {request_id}",
    )
    return chrome.find_element(By.CSS_SELECTOR, "#timeline svg")


def test_a_stream_appears_live_and_opens_as_a_timeline(awsim, chrome, screenshots):
    awsim.reset()
    open_page(chrome, awsim.url)
    assert chrome.current_url.startswith("http://127.0.0.1:")
    runtime = bedrock(awsim)

    response = runtime.converse_stream(modelId=PROFILE, messages=user("Where is my order?"))
    deltas = stream_text_deltas(response)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert deltas > 5

    listed = wait(chrome, lambda d: (r := row(d, request_id)) and r.get_attribute("data-status") == "ok" and r, "the call in the list")
    assert chrome.execute_script("return window.awsimNotReloaded") is True
    cells = [c.text for c in listed.find_elements(By.TAG_NAME, "td")]
    assert cells[1] == "ConverseStream"
    assert cells[2].split("\n") == [PROFILE, f"→ {HAIKU}"]  # the model id as sent, and what it resolved to
    assert cells[3] == "200"
    assert cells[4] == "end_turn"
    assert cells[6].endswith("ms")  # time to first token

    svg = open_call(chrome, request_id, deltas)
    ticks = svg.find_element(By.CSS_SELECTOR, "path.tick-text")
    # One tick per text delta, all in one path: "M x y V y" per tick.
    assert ticks.get_attribute("d").count("M") == deltas
    ttft = svg.find_element(By.CSS_SELECTOR, "text.ttft")
    assert ttft.text.startswith("TTFT ") and ttft.text.endswith("ms")
    assert ttft.get_attribute("visibility") == "visible"
    assert svg.find_element(By.CSS_SELECTOR, "text.label-byte").text.startswith("first byte ")
    facts = chrome.find_element(By.ID, "facts").text
    assert request_id in facts and "application/vnd.amazon.eventstream" in facts and "us-east-1" in facts
    request = json.loads(chrome.find_element(By.ID, "request").text)
    assert request["messages"] == user("Where is my order?")
    assert chrome.find_element(By.CSS_SELECTOR, "#answer .answer-text").text.startswith("Hello!")

    # The frames, as `awsim frames decode` lists them.
    chrome.find_element(By.ID, "show-frames").click()
    listing = wait(chrome, lambda d: (t := d.find_element(By.ID, "frames").text).startswith("frame 1") and t, "the frames")
    assert listing.count(":event-type:string=contentBlockDelta") == deltas
    chrome.save_screenshot(str(screenshots / "1-stream.png"))


def test_a_throttling_rule_added_through_the_form(awsim, chrome, screenshots):
    awsim.reset()
    open_page(chrome, awsim.url)
    runtime = bedrock(awsim)

    chrome.find_element(By.ID, "tab-rules").click()
    chrome.find_element(By.CSS_SELECTOR, '[data-example="throttle"]').click()
    rule = json.loads(chrome.find_element(By.ID, "rule-json").get_attribute("value"))
    assert rule["fault"]["kind"] == "throttling"
    chrome.find_element(By.ID, "add-rule").click()
    said = wait(chrome, lambda d: (t := d.find_element(By.ID, "rule-result").text).startswith("Added") and t, "the rule added")
    rule_id = said.removeprefix("Added ").rstrip(".")
    wait(chrome, lambda d: "throttling" in d.find_element(By.CSS_SELECTOR, f'tr[data-rule-id="{rule_id}"]').text, "the rule listed")

    with pytest.raises(ClientError) as refused:
        runtime.converse(modelId=HAIKU, messages=user("hi"))
    assert refused.value.response["Error"]["Code"] == "ThrottlingException"
    wait(
        chrome,
        lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-rule-id="{rule_id}"] td.hits').text == "1",
        "the rule's hit count",
    )
    chrome.save_screenshot(str(screenshots / "2-rule.png"))

    wait(chrome, lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-rule-id="{rule_id}"] button.delete-rule').click() or True, "the delete button")
    wait(chrome, lambda d: not d.find_elements(By.CSS_SELECTOR, f'tr[data-rule-id="{rule_id}"]'), "the rule gone")
    assert chrome.find_element(By.ID, "no-rules").is_displayed()
    assert runtime.converse(modelId=HAIKU, messages=user("hi"))["stopReason"] == "end_turn"

    # The throttled call is in the list, refused.
    chrome.find_element(By.ID, "tab-invocations").click()
    wait(
        chrome,
        lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-status="error"] td:nth-child(4)').text.split("\n")
        == ["429", "ThrottlingException"],
        "the refused call",
    )
    assert chrome.execute_script("return window.awsimNotReloaded") is True


def test_a_full_log_and_a_stream_of_4000_events(awsim, chrome, screenshots):
    awsim.reset()
    open_page(chrome, awsim.url)
    runtime = bedrock(awsim)
    status, _, _ = awsim.http(
        "POST",
        "/_awsim/rules",
        {"match": {"prompt": {"contains": "long"}}, "respond": {"tokens": [f"w{i} " for i in range(4000)]}},
        {"Content-Type": "application/json"},
    )
    assert status == 200

    short = runtime.converse_stream(modelId=HAIKU, messages=user("short"))
    short_deltas = stream_text_deltas(short)
    long = runtime.converse_stream(modelId=HAIKU, messages=user("a long answer"))
    assert stream_text_deltas(long) == 4000
    for i in range(998):
        status, _, _ = awsim.http(
            "POST", f"/model/{HAIKU}/converse", {"messages": user(f"call {i}")}, {"Content-Type": "application/json"}
        )
        assert status == 200
    # The log keeps 1,000 calls, and the page lists them all.
    wait(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#invocation-rows tr")) == 1000, "1,000 rows")
    assert chrome.find_element(By.ID, "shown").text == "1000 calls"

    def nodes(svg):
        return chrome.execute_script("return arguments[0].querySelectorAll('*').length", svg)

    small = nodes(open_call(chrome, short["ResponseMetadata"]["RequestId"], short_deltas))
    svg = open_call(chrome, long["ResponseMetadata"]["RequestId"], 4000)
    assert svg.find_element(By.CSS_SELECTOR, "path.tick-text").get_attribute("d").count("M") == 4000
    # Thousands of ticks, the same elements as a short stream.
    assert nodes(svg) == small
    chrome.save_screenshot(str(screenshots / "3-long-stream.png"))

    # Filters hide what does not match.
    chrome.find_element(By.CSS_SELECTOR, '#filter-operation option[value="ConverseStream"]').click()
    wait(chrome, lambda d: d.find_element(By.ID, "shown").text == "2 of 1000 calls", "the filter")


def test_the_page_over_https(awsim, screenshots):
    chrome = start_chromium("--ignore-certificate-errors")
    try:
        awsim.reset()
        open_page(chrome, awsim.https_url)
        assert chrome.current_url.startswith("https://localhost:")
        response = bedrock(awsim).converse_stream(modelId=HAIKU, messages=user("over https"))
        deltas = stream_text_deltas(response)
        request_id = response["ResponseMetadata"]["RequestId"]
        wait(chrome, lambda d: row(d, request_id), "the call in the list")
        open_call(chrome, request_id, deltas)
        # The page's POST and DELETE from an https origin pass awsim's guard.
        chrome.find_element(By.ID, "tab-rules").click()
        chrome.find_element(By.CSS_SELECTOR, '[data-example="midstream"]').click()
        chrome.find_element(By.ID, "add-rule").click()
        wait(chrome, lambda d: d.find_element(By.ID, "rule-result").text.startswith("Added"), "the rule added")
        chrome.find_element(By.ID, "delete-rules").click()
        wait(chrome, lambda d: d.find_element(By.ID, "rule-result").text == "Deleted every rule.", "the rules deleted")
        chrome.save_screenshot(str(screenshots / "4-https.png"))
    finally:
        quit_chromium(chrome)


def test_the_picture_in_the_readme(awsim, chrome, screenshots, docs_screenshot):
    """A stream with pauses, a stream cut by an exception and a throttled call: what README shows."""
    awsim.reset()
    runtime = bedrock(awsim)
    for prompt in ["What is the capital of France?", "Summarize this ticket."]:
        runtime.converse(modelId=PROFILE, messages=user(prompt))
    status, _, body = awsim.http(
        "POST",
        "/_awsim/rules",
        [
            {"match": {"prompt": {"contains": "story"}}, "fault": {"kind": "modelStreamErrorException", "at": {"afterTokens": 12}}, "times": 1},
            {"id": "busy", "match": {"prompt": {"contains": "busy"}}, "fault": {"kind": "throttling"}, "times": 1},
            {
                "id": "slow-answer",
                "match": {"prompt": {"contains": "weather"}},
                "respond": {
                    "text": "It is sunny in Paris today, 24 degrees, with a light breeze from the west and no rain expected before the evening.",
                    "firstTokenMs": 180,
                    "tokenMs": 12,
                },
            },
        ],
        {"Content-Type": "application/json"},
    )
    assert status == 200, body
    try:
        for event in runtime.converse_stream(modelId=HAIKU, messages=user("Tell me a story."))["stream"]:
            pass
    except Exception:  # the stream ends with the exception the rule asked for
        pass
    with pytest.raises(ClientError):
        runtime.converse(modelId=HAIKU, messages=user("Are you busy?"))
    response = runtime.converse_stream(modelId=PROFILE, messages=user("What is the weather in Paris?"))
    deltas = stream_text_deltas(response)
    open_page(chrome, awsim.url)
    wait(chrome, lambda d: row(d, response["ResponseMetadata"]["RequestId"]), "the call in the list")
    svg = open_call(chrome, response["ResponseMetadata"]["RequestId"], deltas)
    assert svg.find_element(By.CSS_SELECTOR, "text.label-gap").text.startswith("longest gap ")
    assert "slow-answer" in chrome.find_element(By.ID, "facts").text
    picture = screenshots / "readme.png"
    chrome.save_screenshot(str(picture))
    if docs_screenshot:
        docs_screenshot.parent.mkdir(exist_ok=True)
        shutil.copyfile(picture, docs_screenshot)
