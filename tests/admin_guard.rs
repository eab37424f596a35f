//! `/_awsim/` answers the developer's tools, not the web pages they visit: a foreign Host (DNS
//! rebinding) and a state-changing request from another site (`Origin`) or with a non-JSON body
//! (a cross-site form post) are refused; curl, the SDKs and the test suites go through.

use crate::support;
use awsim::Config;
use serde_json::Value;

async fn refused(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-amzn-errortype"], "AccessDeniedException");
    let body: Value = resp.json().await.unwrap();
    body["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_hosts_that_name_this_machine_reach_awsim_endpoints() {
    let server = support::start_with(Config {
        hostnames: vec!["awsim".into()],
        ..Config::default()
    })
    .await;
    let port = server.addr.port();
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_string(),
        format!("awsim:{port}"),
    ] {
        let resp = server
            .http()
            .get(server.at("/_awsim/health"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{host}");
    }
    // A page on attacker.example whose name now resolves to 127.0.0.1.
    let resp = server
        .http()
        .get(server.at("/_awsim/health"))
        .header("host", format!("attacker.example:{port}"))
        .send()
        .await
        .unwrap();
    let message = refused(resp).await;
    assert!(message.contains("'attacker.example:"), "{message}");
    assert!(
        message.contains("--tls-hostname attacker.example"),
        "{message}"
    );
    // Bedrock's own operations are not concerned: SDKs send the endpoint's name.
    let resp = server
        .http()
        .get(server.at("/foundation-models"))
        .header("host", "bedrock.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_cross_site_form_post_cannot_reset_the_state() {
    let server = support::start().await;
    let reset = server.at("/_awsim/reset");
    // What a form on any page can send without a preflight.
    let resp = server
        .http()
        .post(&reset)
        .header("content-type", "text/plain")
        .header("origin", "https://attacker.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    let message = refused(resp).await;
    assert!(message.contains("'https://attacker.example'"), "{message}");
    // Without the Origin (a careless tool), the content type alone is refused.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let resp = server
            .http()
            .post(&reset)
            .header("content-type", content_type)
            .body("x")
            .send()
            .await
            .unwrap();
        let message = refused(resp).await;
        assert!(
            message.contains("content-type: application/json"),
            "{message}"
        );
    }
    // JSON from another site is refused too.
    let resp = server
        .http()
        .post(&reset)
        .header("content-type", "application/json")
        .header("origin", "http://attacker.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    refused(resp).await;
}

#[tokio::test]
async fn curl_the_sdks_and_pages_on_this_machine_still_reset() {
    let server = support::start().await;
    let reset = server.at("/_awsim/reset");
    let port = server.addr.port();
    let requests = [
        // `curl -X POST …/_awsim/reset`: no body, no content type.
        server.http().post(&reset),
        server.h2c().post(&reset),
        // `curl -H 'content-type: application/json' -d '{}'`.
        server
            .http()
            .post(&reset)
            .header("content-type", "application/json")
            .body("{}"),
        // awsim's own page, or another page on localhost.
        server
            .http()
            .post(&reset)
            .header("content-type", "application/json; charset=utf-8")
            .header("origin", format!("http://localhost:{port}"))
            .body("{}"),
    ];
    for request in requests {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["reset"], true);
    }
    let Ok(out) = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            &reset,
        ])
        .output()
        .await
    else {
        println!("curl not installed; skipped");
        return;
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
}
