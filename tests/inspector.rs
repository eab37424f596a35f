//! The inspector page at `/_awsim/`: served by awsim itself with the files it loads, under awsim's
//! guard for its own endpoints; the requests the page makes go through that guard. (The page in a
//! real browser: tests/browser/.)

use crate::support;
use awsim::auth::Auth;
use awsim::Config;
use serde_json::{json, Value};

/// The `src`/`href` of every `<script>` and `<link>` in the page.
fn loaded_files(html: &str) -> Vec<String> {
    let mut files = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            let url = &rest[..rest.find('"').unwrap()];
            if url.starts_with('/') {
                files.push(url.to_string());
            }
        }
    }
    files
}

#[tokio::test]
async fn the_page_and_every_file_it_loads_are_served_by_awsim() {
    let server = support::start().await;
    let mut pages = Vec::new();
    for path in ["/_awsim/", "/_awsim", "/_awsim/ui"] {
        let resp = server.http().get(server.at(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
        assert!(resp.headers().contains_key("content-security-policy"));
        pages.push(resp.text().await.unwrap());
    }
    assert!(pages.iter().all(|p| *p == pages[0]));
    let files = loaded_files(&pages[0]);
    assert_eq!(files.len(), 4, "{files:?}");
    for file in files {
        let resp = server.h2c().get(server.at(&file)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{file}");
        let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
        let expected = if file.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(kind, expected, "{file}");
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        let etag = resp.headers()["etag"].clone();
        assert!(!resp.bytes().await.unwrap().is_empty());
        // A reload revalidates: nothing is sent again while the binary is the same.
        let again = server
            .http()
            .get(server.at(&file))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{file}");
    }
    let resp = server
        .http()
        .get(server.at("/_awsim/ui/jquery.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
}

/// The page asks nothing of the caller beyond what the rest of `/_awsim/` does: with `--auth
/// sigv4` it opens unsigned, like health and the rules.
#[tokio::test]
async fn the_page_opens_without_credentials_when_auth_is_on() {
    let server = support::start_with(Config {
        auth: Some(Auth::new(vec![("test".into(), "test".into())], vec![])),
        ..Config::default()
    })
    .await;
    for path in ["/_awsim/", "/_awsim/ui/inspector.js"] {
        let resp = server.http().get(server.at(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn a_page_under_another_name_cannot_read_it() {
    let server = support::start().await;
    // DNS rebinding: the attacker's name, resolving to 127.0.0.1.
    let resp = server
        .http()
        .get(server.at("/_awsim/"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-amzn-errortype"], "AccessDeniedException");
}

/// What the page's own buttons send — same-origin `fetch` calls with `Content-Type:
/// application/json`, from the page at `localhost` or at `127.0.0.1` — passes the guard; the same
/// calls from a page on another site do not.
#[tokio::test]
async fn the_pages_own_requests_pass_the_guard() {
    let server = support::start().await;
    let port = server.addr.port();
    for origin in [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
    ] {
        let client = server.http();
        let page = |req: reqwest::RequestBuilder| {
            req.header("origin", &origin)
                .header("content-type", "application/json")
        };
        let resp = page(client.post(server.at("/_awsim/rules")))
            .body(json!({"id": "page", "fault": {"kind": "throttling"}}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{origin}");
        // DELETE sends the content type but no body.
        let resp = page(client.delete(server.at("/_awsim/rules/page")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{origin}");
        let resp = page(client.delete(server.at("/_awsim/rules")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{origin}");
        let resp = page(client.delete(server.at("/_awsim/invocations")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{origin}");
    }
    let resp = server
        .http()
        .post(server.at("/_awsim/rules"))
        .header("origin", "http://attacker.example")
        .header("content-type", "application/json")
        .body(json!({"fault": {"kind": "throttling"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let rules: Value = server
        .http()
        .get(server.at("/_awsim/rules"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rules["rules"], json!([]));
}

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

async fn get_json(server: &support::Server, path: &str) -> (u16, Value) {
    let resp = server.http().get(server.at(path)).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The page polls the log from where it stopped: `since` the last `nextSeq` (or the oldest call it
/// saw in progress) brings only the calls that began or changed since.
#[tokio::test]
async fn the_log_is_polled_from_a_cursor() {
    let server = support::start().await;
    let (_, empty) = get_json(&server, "/_awsim/invocations").await;
    assert_eq!(
        (empty["oldestSeq"].clone(), empty["nextSeq"].clone()),
        (json!(0), json!(0))
    );
    let converse = format!("/model/{HAIKU}/converse");
    for said in ["one", "two", "three"] {
        let resp = server
            .http()
            .post(server.at(&converse))
            .header("content-type", "application/json")
            .body(json!({"messages": [{"role": "user", "content": [{"text": said}]}]}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let (_, all) = get_json(&server, "/_awsim/invocations").await;
    assert_eq!(all["nextSeq"], 3);
    let seqs: Vec<&Value> = all["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["seq"])
        .collect();
    assert_eq!(seqs, [&json!(2), &json!(1), &json!(0)]);
    let (_, newer) = get_json(&server, "/_awsim/invocations?since=2").await;
    let calls = newer["invocations"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["request"]["messages"][0]["content"][0]["text"],
        "three"
    );
    let (_, none) = get_json(&server, "/_awsim/invocations?since=3").await;
    assert_eq!(none["invocations"], json!([]));
    // Cleared: nothing older than the next call is kept.
    server
        .http()
        .delete(server.at("/_awsim/invocations"))
        .send()
        .await
        .unwrap();
    let (_, cleared) = get_json(&server, "/_awsim/invocations?since=3").await;
    assert_eq!(
        (cleared["oldestSeq"].clone(), cleared["nextSeq"].clone()),
        (json!(3), json!(3))
    );
    let (status, bad) = get_json(&server, "/_awsim/invocations?since=latest").await;
    assert_eq!(status, 400);
    assert!(
        bad["message"].as_str().unwrap().contains("since 'latest'"),
        "{bad}"
    );
}

/// A stream's frames as the client received them, listed as `awsim frames decode` lists a
/// captured body.
#[tokio::test]
async fn a_streams_frames_are_listed_as_frames_decode_lists_them() {
    let server = support::start().await;
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse-stream")))
        .header("content-type", "application/json")
        .header("x-awsim-stream-format", "eventstream")
        .body(json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).to_string())
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let received = resp.bytes().await.unwrap();
    let resp = server
        .http()
        .get(server.at(&format!("/_awsim/invocations/{request_id}/frames")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    let listing = resp.text().await.unwrap();
    assert_eq!(listing, frames::render_stream(&received).to_string());
    assert!(listing.starts_with("frame 1 at byte 0:"), "{listing}");
    assert!(listing.contains(":event-type:string=contentBlockDelta"));

    // A call that did not stream has no frames; an unknown id is not found.
    let (status, body) = get_json(&server, "/_awsim/invocations/nope/frames").await;
    assert_eq!(status, 404, "{body}");
    let resp = server
        .http()
        .post(server.at(&format!("/model/{HAIKU}/converse")))
        .header("content-type", "application/json")
        .body(json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).to_string())
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let (status, body) =
        get_json(&server, &format!("/_awsim/invocations/{request_id}/frames")).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not answered as an event stream"),
        "{body}"
    );
}
