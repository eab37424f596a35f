//! Bedrock ARNs: building them for new resources and taking them apart when a client sends one.

/// `arn:aws:bedrock:{region}:{account}:{resource}`; foundation models have an empty account.
pub fn build(region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:bedrock:{region}:{account}:{resource}")
}

pub fn foundation_model(region: &str, model_id: &str) -> String {
    build(region, "", &format!("foundation-model/{model_id}"))
}

/// The parts of a Bedrock ARN that identify a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    /// e.g. `foundation-model`, `inference-profile`, `custom-model`, `guardrail`
    pub resource_type: &'a str,
    /// everything after the first `/`
    pub resource_id: &'a str,
}

/// Parses `arn:aws[-partition]:bedrock:region:account:type/id`; `None` if it is not a Bedrock ARN.
pub fn parse(s: &str) -> Option<Arn<'_>> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    if !parts.next()?.starts_with("aws") || parts.next()? != "bedrock" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let (resource_type, resource_id) = parts.next()?.split_once('/')?;
    if resource_type.is_empty() || resource_id.is_empty() {
        return None;
    }
    Some(Arn {
        region,
        account,
        resource_type,
        resource_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_foundation_and_profile_arns() {
        let a = parse(
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        )
        .unwrap();
        assert_eq!(a.resource_type, "foundation-model");
        assert_eq!(a.resource_id, "anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(a.account, "");
        let p = parse("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert_eq!(p.resource_type, "inference-profile");
        assert_eq!(p.account, "123456789012");
        assert_eq!(parse("arn:aws:s3:::bucket/key"), None);
        assert_eq!(parse("anthropic.claude-v2"), None);
    }
}
