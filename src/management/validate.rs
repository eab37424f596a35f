//! Input validation in Bedrock's own words: every broken constraint becomes one clause of
//! `N validation error(s) detected: Value 'x' at 'field' failed to satisfy constraint: …`, and the
//! model's patterns (`[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*` and friends) as small hand-written matchers.

use crate::aws::ApiError;
use std::fmt::Display;

/// Collects every broken constraint of one request, so a client learns about all of them at once:
/// the first [`LISTED`] in words, the rest counted (a list of a million bad items gets a short
/// message, not one of gigabytes).
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<String>,
    unlisted: usize,
}

/// Broken constraints a message spells out.
pub const LISTED: usize = 100;

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one broken constraint; `value` is `None` for a missing member (`Value null at …`).
    pub fn fail(&mut self, field: &str, value: Option<&str>, constraint: impl Display) {
        if self.errors.len() == LISTED {
            self.unlisted += 1;
            return;
        }
        let value = match value {
            Some(v) => format!("'{}'", shorten(v)),
            None => "null".to_string(),
        };
        self.errors.push(format!(
            "Value {value} at '{field}' failed to satisfy constraint: {constraint}"
        ));
    }

    pub fn missing(&mut self, field: &str) {
        self.fail(field, None, "Member must not be null");
    }

    /// A member of the wrong JSON type (a number where a string belongs, …).
    pub fn wrong_type(&mut self, field: &str, value: &serde_json::Value, expected: &str) {
        self.fail(
            field,
            Some(&value.to_string()),
            format!("Member must be {expected}"),
        );
    }

    /// Length in characters, as the models count it.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) -> bool {
        let n = value.chars().count();
        self.count(field, value, n, min, max)
    }

    /// Any length-like constraint (characters of a string, members of a list).
    pub fn count(&mut self, field: &str, shown: &str, n: usize, min: usize, max: usize) -> bool {
        if n < min {
            self.fail(
                field,
                Some(shown),
                format!("Member must have length greater than or equal to {min}"),
            );
            false
        } else if n > max {
            self.fail(
                field,
                Some(shown),
                format!("Member must have length less than or equal to {max}"),
            );
            false
        } else {
            true
        }
    }

    pub fn pattern(&mut self, field: &str, value: &str, pattern: &Pattern) -> bool {
        let ok = (pattern.test)(value);
        if !ok {
            self.fail(
                field,
                Some(value),
                format!(
                    "Member must satisfy regular expression pattern: {}",
                    pattern.regex
                ),
            );
        }
        ok
    }

    pub fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) -> bool {
        let ok = allowed.contains(&value);
        if !ok {
            self.fail(
                field,
                Some(value),
                format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
        ok
    }

    pub fn range(&mut self, field: &str, value: f64, min: f64, max: f64) -> bool {
        let shown = format_number(value);
        if value < min {
            self.fail(
                field,
                Some(&shown),
                format!(
                    "Member must have value greater than or equal to {}",
                    format_number(min)
                ),
            );
            false
        } else if value > max {
            self.fail(
                field,
                Some(&shown),
                format!(
                    "Member must have value less than or equal to {}",
                    format_number(max)
                ),
            );
            false
        } else {
            true
        }
    }

    /// `Ok` if nothing broke, else one `ValidationException` listing every clause.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.errors.as_slice() {
            [] => Ok(()),
            [one] => Err(ApiError::validation(format!(
                "1 validation error detected: {one}"
            ))),
            many if self.unlisted == 0 => Err(ApiError::validation(format!(
                "{} validation errors detected: {}",
                many.len(),
                many.join("; ")
            ))),
            many => Err(ApiError::validation(format!(
                "{} validation errors detected: {}; and {} more",
                many.len() + self.unlisted,
                many.join("; "),
                self.unlisted
            ))),
        }
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Long values are cut in messages, as the real service does, so an error never echoes a document.
fn shorten(v: &str) -> String {
    const MAX: usize = 200;
    if v.chars().count() <= MAX {
        v.to_string()
    } else {
        let cut: String = v.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

/// A pattern from the service model: the regex text (for messages) and a matcher for it.
#[derive(Debug)]
pub struct Pattern {
    pub regex: &'static str,
    pub test: fn(&str) -> bool,
}

pub static JOB_NAME: Pattern = Pattern {
    regex: r"[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*",
    test: |s| {
        starts_alnum(s)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    },
};

pub static CUSTOM_MODEL_NAME: Pattern = Pattern {
    regex: "([0-9a-zA-Z][_-]?){1,63}",
    test: |s| separated(s, "_-", |c| c.is_ascii_alphanumeric()),
};

pub static PROVISIONED_MODEL_NAME: Pattern = Pattern {
    regex: "([0-9a-zA-Z][_-]?)+",
    test: |s| separated(s, "_-", |c| c.is_ascii_alphanumeric()),
};

pub static INFERENCE_PROFILE_NAME: Pattern = Pattern {
    regex: "([0-9a-zA-Z][ _-]?)+",
    test: |s| separated(s, " _-", |c| c.is_ascii_alphanumeric()),
};

pub static INFERENCE_PROFILE_DESCRIPTION: Pattern = Pattern {
    regex: "([0-9a-zA-Z:.][ _-]?)+",
    test: |s| {
        separated(s, " _-", |c| {
            c.is_ascii_alphanumeric() || c == ':' || c == '.'
        })
    },
};

pub static ROLE_ARN: Pattern = Pattern {
    regex: "arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+",
    test: is_role_arn,
};

pub static S3_URI: Pattern = Pattern {
    regex: r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?",
    test: is_s3_uri,
};

pub static TAG_TEXT: Pattern = Pattern {
    regex: r"[a-zA-Z0-9\s._:/=+@-]*",
    test: |s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || "._:/=+@-".contains(c))
    },
};

pub static GUARDRAIL_NAME: Pattern = Pattern {
    regex: "[0-9a-zA-Z-_]+",
    test: |s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    },
};

pub static GUARDRAIL_TOPIC_NAME: Pattern = Pattern {
    regex: "[0-9a-zA-Z-_ !?.]+",
    test: |s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_ !?.".contains(c))
    },
};

pub static IDEMPOTENCY_TOKEN: Pattern = Pattern {
    regex: "[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?",
    test: |s| {
        starts_alnum(s)
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    },
};

pub static KMS_KEY_ID: Pattern = Pattern {
    regex: "(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)",
    test: is_kms_key_id,
};

pub static PROVIDER: Pattern = Pattern {
    regex: "[A-Za-z0-9- ]{1,63}",
    test: |s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
    },
};

pub static VPC_ID: Pattern = Pattern {
    regex: "[-0-9a-zA-Z]+",
    test: |s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
};

pub static GUARDRAIL_PROFILE: Pattern = Pattern {
    regex: "[a-z0-9-]+[.]{1}guardrail[.]{1}v[0-9:]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail-profile/[a-z0-9-]+[.]{1}guardrail[.]{1}v[0-9:]+",
    test: |s| {
        let id = match s.strip_prefix("arn:") {
            Some(_) => match s.split_once(":guardrail-profile/") {
                Some((_, id)) => id,
                None => return false,
            },
            None => s,
        };
        is_guardrail_profile_id(id)
    },
};

pub static AUTOMATED_REASONING_POLICY_ARN: Pattern = Pattern {
    regex: "arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:automated-reasoning-policy/[a-z0-9]{12}(:([1-9][0-9]{0,11}))?",
    test: |s| {
        let Some((head, id)) = s.split_once(":automated-reasoning-policy/") else {
            return false;
        };
        let (id, version) = id.split_once(':').unwrap_or((id, "1"));
        head.starts_with("arn:aws")
            && id.len() == 12
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && is_positive_number(version)
    },
};

fn starts_alnum(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// `(W[seps]?)+`: word characters with single separators between (or after) them.
fn separated(s: &str, seps: &str, word: impl Fn(char) -> bool) -> bool {
    let mut prev_word = false;
    for c in s.chars() {
        if word(c) {
            prev_word = true;
        } else if seps.contains(c) && prev_word {
            prev_word = false;
        } else {
            return false;
        }
    }
    !s.is_empty()
}

fn is_positive_number(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('0') && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    // Optional partition suffix (`-cn`, `-us-gov`), then `:iam::`.
    let rest = match rest.strip_prefix('-') {
        Some(r) => match r.find(':') {
            Some(i) if i > 0 => &r[i..],
            _ => return false,
        },
        None => rest,
    };
    let Some(rest) = rest.strip_prefix(":iam::") else {
        return false;
    };
    let rest = match rest.find(':') {
        Some(12) if rest[..12].bytes().all(|b| b.is_ascii_digit()) => &rest[12..],
        Some(0) => rest,
        _ => return false,
    };
    rest.strip_prefix(":role/")
        .is_some_and(|name| !name.is_empty())
}

fn is_s3_uri(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("s3://") else {
        return false;
    };
    let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|c| edge(c) || c == b'-' || c == b'.')
        && bucket.bytes().next().is_some_and(edge)
        && bucket.bytes().last().is_some_and(edge);
    if !bucket_ok {
        return false;
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    path.is_empty()
        || path.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-!_*'().".contains(c))
        })
}

fn is_kms_key_id(s: &str) -> bool {
    let key_chars = |k: &str| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let alias_chars = |a: &str| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c))
    };
    if let Some(alias) = s.strip_prefix("alias/") {
        return alias_chars(alias);
    }
    if s.starts_with("arn:aws") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let [_, _, service, _, account, resource] = parts.as_slice() else {
            return false;
        };
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        let resource_ok = match resource.split_once('/') {
            Some(("key", id)) => id.len() == 36 && key_chars(id),
            Some(("alias", a)) => alias_chars(a),
            _ => false,
        };
        return *service == "kms" && account_ok && resource_ok;
    }
    s.len() == 36 && key_chars(s)
}

/// `us.guardrail.v1:0`
pub fn is_guardrail_profile_id(s: &str) -> bool {
    let Some((geo, rest)) = s.split_once('.') else {
        return false;
    };
    let Some(version) = rest.strip_prefix("guardrail.v") else {
        return false;
    };
    !geo.is_empty()
        && geo
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !version.is_empty()
        && version.chars().all(|c| c.is_ascii_digit() || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_and_model_names() {
        assert!((JOB_NAME.test)("my-job.v2+final"));
        assert!(!(JOB_NAME.test)("-leading"));
        assert!(!(JOB_NAME.test)("has space"));
        assert!((CUSTOM_MODEL_NAME.test)("my_model-2"));
        assert!(!(CUSTOM_MODEL_NAME.test)("my__model"));
        assert!(!(CUSTOM_MODEL_NAME.test)("_model"));
        assert!((INFERENCE_PROFILE_NAME.test)("my profile 1"));
        assert!(!(INFERENCE_PROFILE_NAME.test)("two  spaces"));
        assert!((INFERENCE_PROFILE_DESCRIPTION.test)("Routes to v1.0: prod"));
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/BedrockRole"));
        assert!(is_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/path/Role"
        ));
        assert!(is_role_arn("arn:aws:iam:::role/x"));
        assert!(!is_role_arn("arn:aws:iam::123:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!is_role_arn("BedrockRole"));
    }

    #[test]
    fn s3_uris() {
        assert!(is_s3_uri("s3://my-bucket"));
        assert!(is_s3_uri("s3://my-bucket/"));
        assert!(is_s3_uri("s3://my.bucket/train/data.jsonl"));
        assert!(!is_s3_uri("https://my-bucket/x"));
        assert!(!is_s3_uri("s3://My-Bucket/x"));
        assert!(!is_s3_uri("s3://b/x"));
        assert!(!is_s3_uri("s3://bucket//x"));
        assert!(!is_s3_uri("s3://bucket/a b"));
    }

    #[test]
    fn kms_and_tokens() {
        assert!(is_kms_key_id("alias/my-key"));
        assert!(is_kms_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(is_kms_key_id(
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(!is_kms_key_id(
            "arn:aws:s3:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!((IDEMPOTENCY_TOKEN.test)("a1b2-c3"));
        assert!(!(IDEMPOTENCY_TOKEN.test)("a1b2-"));
    }

    #[test]
    fn messages_follow_the_coral_format() {
        let mut checks = Checks::new();
        checks.missing("jobName");
        checks.length("customModelName", "", 1, 63);
        checks.one_of("sortOrder", "Up", &["Ascending", "Descending"]);
        let err = checks.finish().unwrap_err();
        assert_eq!(
            err.message(),
            "3 validation errors detected: Value null at 'jobName' failed to satisfy constraint: Member must not be null; \
             Value '' at 'customModelName' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value 'Up' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]"
        );
        let mut one = Checks::new();
        one.range("maxResults", 0.0, 1.0, 1000.0);
        assert!(one
            .finish()
            .unwrap_err()
            .message()
            .starts_with("1 validation error detected: Value '0' at 'maxResults'"));
    }

    #[test]
    fn a_message_lists_the_first_hundred_errors_and_counts_the_rest() {
        let mut checks = Checks::new();
        for i in 0..100_000 {
            checks.missing(&format!("tags.{i}.member.key"));
        }
        let message = checks.finish().unwrap_err().message().to_string();
        assert!(message
            .starts_with("100000 validation errors detected: Value null at 'tags.0.member.key'"));
        assert!(
            message.contains("'tags.99.member.key'") && !message.contains("'tags.100.member.key'")
        );
        assert!(message.ends_with("; and 99900 more"), "{message}");
    }
}
