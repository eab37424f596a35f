//! Converse with the AWS SDK for Rust over HTTPS, trusting the certificate authority awsim writes at
//! start-up: against https://localhost:4566 and /tmp/awsim-4566-ca.pem (or the URL and the CA file
//! given as the first and second arguments); prints the answer's text.

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let endpoint = args
        .next()
        .unwrap_or_else(|| "https://localhost:4566".to_string());
    let ca_file = args
        .next()
        .unwrap_or_else(|| "/tmp/awsim-4566-ca.pem".to_string());

    let trust = TrustStore::empty().with_pem_certificate(std::fs::read(ca_file)?);
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(TlsContext::builder().with_trust_store(trust).build()?)
        .build_https();
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "awsim"))
        .http_client(http_client)
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(config);

    let question = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text("Hello over TLS!".to_string()))
        .build()?;
    let reply = client
        .converse()
        .model_id("anthropic.claude-3-haiku-20240307-v1:0")
        .messages(question)
        .send()
        .await?;
    let text = reply
        .output()
        .and_then(|o| o.as_message().ok())
        .and_then(|m| m.content().first())
        .and_then(|c| c.as_text().ok())
        .map_or("", String::as_str);
    writeln!(std::io::stdout(), "{text}")?;
    Ok(())
}
