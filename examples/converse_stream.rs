//! ConverseStream with the AWS SDK for Rust, against awsim at http://localhost:4566 (or the URL
//! given as the first argument); prints the answer's text as its tokens arrive.

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput, Message,
};
use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://localhost:4566".to_string());
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "awsim"))
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(config);

    let question = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text("What is Amazon Bedrock?".to_string()))
        .build()?;
    let mut out = client
        .converse_stream()
        .model_id("anthropic.claude-3-haiku-20240307-v1:0")
        .messages(question)
        .send()
        .await?;

    let mut stdout = std::io::stdout();
    while let Some(event) = out.stream.recv().await? {
        if let ConverseStreamOutput::ContentBlockDelta(event) = event {
            if let Some(ContentBlockDelta::Text(text)) = event.delta {
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
            }
        }
    }
    writeln!(stdout)?;
    Ok(())
}
