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
