//! Test support: the real awsim server, in-process on an ephemeral port, and real AWS SDK clients
//! pointed at it.

#![allow(dead_code)]

use awsim::{App, Config};
use std::net::SocketAddr;
use tokio::sync::oneshot;

/// A running awsim; dropping it shuts the server down.
pub struct Server {
    pub addr: SocketAddr,
    pub url: String,
    pub app: std::sync::Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start() -> Server {
    start_with(Config::default()).await
}

pub async fn start_with(mut config: Config) -> Server {
    let listener = awsim::server::bind(config.addr).unwrap();
    let addr = listener.local_addr().unwrap();
    config.addr = addr;
    let app = App::new(config);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(awsim::run(listener, app.clone(), async move {
        let _ = rx.await;
    }));
    Server {
        addr,
        url: format!("http://{addr}"),
        app,
        shutdown: Some(tx),
    }
}

/// awsim on a serving thread of its own, as `awsim --workers 1` runs: every connection is served by
/// that one thread's event loop, and the test's clients run elsewhere (so a hang guard can fire).
pub fn start_on_own_thread(config: Config) -> Server {
    let (started, addr) = std::sync::mpsc::channel();
    let (tx, rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = awsim::server::bind(config.addr).unwrap();
            let app = App::new(config);
            started
                .send((listener.local_addr().unwrap(), app.clone()))
                .unwrap();
            awsim::run(listener, app, async move {
                let _ = rx.await;
            })
            .await;
        });
    });
    let (addr, app) = addr.recv().unwrap();
    Server {
        addr,
        url: format!("http://{addr}"),
        app,
        shutdown: Some(tx),
    }
}

impl Server {
    pub fn runtime(&self) -> aws_sdk_bedrockruntime::Client {
        self.runtime_in("us-east-1")
    }

    pub fn runtime_in(&self, region: &str) -> aws_sdk_bedrockruntime::Client {
        runtime_at(&self.url, region)
    }

    pub fn bedrock(&self) -> aws_sdk_bedrock::Client {
        self.bedrock_in("us-east-1")
    }

    pub fn bedrock_in(&self, region: &str) -> aws_sdk_bedrock::Client {
        use aws_sdk_bedrock::config::{Credentials, Region};
        let conf = aws_sdk_bedrock::Config::builder()
            .behavior_version_latest()
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("test", "test", None, None, "awsim-tests"))
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            .build();
        aws_sdk_bedrock::Client::from_conf(conf)
    }

    /// A plain HTTP/1.1 client for hand-written requests (curl-style).
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder().http1_only().build().unwrap()
    }

    /// An HTTP/2 prior-knowledge (h2c) client, as the JS SDK v3 runtime client speaks.
    pub fn h2c(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap()
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// `POST /_awsim/rules`: adds one rule or an array of them; returns their ids.
    pub async fn add_rules(&self, rules: serde_json::Value) -> Vec<String> {
        let resp = self
            .http()
            .post(self.at("/_awsim/rules"))
            .json(&rules)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
        let body: serde_json::Value = resp.json().await.unwrap();
        serde_json::from_value(body["ids"].clone()).unwrap()
    }

    /// `GET /_awsim/rules`: every rule in order, with its `hits`.
    pub async fn rules(&self) -> Vec<serde_json::Value> {
        let body: serde_json::Value = self
            .http()
            .get(self.at("/_awsim/rules"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(body["rules"].clone()).unwrap()
    }

    /// How often the rule `id` has fired.
    pub async fn hits(&self, id: &str) -> u64 {
        let rules = self.rules().await;
        let rule = rules.iter().find(|r| r["id"] == id).expect("no such rule");
        rule["hits"].as_u64().unwrap()
    }
}

/// The Bedrock runtime client of the AWS SDK for Rust pointed at `url` (an awsim of any kind: in
/// this process or the binary).
pub fn runtime_at(url: &str, region: &str) -> aws_sdk_bedrockruntime::Client {
    use aws_sdk_bedrockruntime::config::{Credentials, Region};
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version_latest()
        .region(Region::new(region.to_string()))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "awsim-tests"))
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

/// A SigV4-looking Authorization header for `region`, as curl users copy it from the docs.
pub fn sigv4(region: &str, service: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential=test/20260421/{region}/{service}/aws4_request, SignedHeaders=host, Signature=fake")
}

pub mod connect_proxy;
pub mod fake_openai;
pub mod tls;
