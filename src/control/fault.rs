//! A rule's `fault`: the exact AWS error before the first byte, a modeled exception inside a stream
//! after N tokens, or a transport fault (`stall`, `disconnect`, `delay`).

use crate::aws::ApiError;
use serde::Deserialize;
use std::time::Duration;

/// Every fault kind a rule can name, as it names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    // HTTP errors before the first byte.
    Throttling,
    ServiceUnavailable,
    ModelNotReady,
    ModelTimeout,
    ModelError,
    InternalServer,
    ServiceQuotaExceeded,
    AccessDenied,
    Validation,
    ResourceNotFound,
    // Modeled exceptions inside a stream (their event-stream member names).
    ModelStreamErrorException,
    ThrottlingException,
    InternalServerException,
    ServiceUnavailableException,
    ValidationException,
    ModelTimeoutException,
    // Transport.
    Stall,
    Disconnect,
    Delay,
}

/// When a kind can happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// An HTTP error: before the first byte only.
    Request,
    /// An exception frame: after N tokens only.
    Stream,
    Transport,
}

impl Kind {
    pub fn class(self) -> Class {
        use Kind::*;
        match self {
            Throttling | ServiceUnavailable | ModelNotReady | ModelTimeout | ModelError
            | InternalServer | ServiceQuotaExceeded | AccessDenied | Validation
            | ResourceNotFound => Class::Request,
            ModelStreamErrorException
            | ThrottlingException
            | InternalServerException
            | ServiceUnavailableException
            | ValidationException
            | ModelTimeoutException => Class::Stream,
            Stall | Disconnect | Delay => Class::Transport,
        }
    }

    /// The name a rule gives it.
    pub fn name(self) -> &'static str {
        use Kind::*;
        match self {
            Throttling => "throttling",
            ServiceUnavailable => "serviceUnavailable",
            ModelNotReady => "modelNotReady",
            ModelTimeout => "modelTimeout",
            ModelError => "modelError",
            InternalServer => "internalServer",
            ServiceQuotaExceeded => "serviceQuotaExceeded",
            AccessDenied => "accessDenied",
            Validation => "validation",
            ResourceNotFound => "resourceNotFound",
            ModelStreamErrorException => "modelStreamErrorException",
            ThrottlingException => "throttlingException",
            InternalServerException => "internalServerException",
            ServiceUnavailableException => "serviceUnavailableException",
            ValidationException => "validationException",
            ModelTimeoutException => "modelTimeoutException",
            Stall => "stall",
            Disconnect => "disconnect",
            Delay => "delay",
        }
    }

    /// The stream exception matching a request error, for a message that says what to write.
    pub fn in_stream(self) -> Option<Kind> {
        use Kind::*;
        match self {
            Throttling => Some(ThrottlingException),
            ServiceUnavailable => Some(ServiceUnavailableException),
            ModelTimeout => Some(ModelTimeoutException),
            ModelError => Some(ModelStreamErrorException),
            InternalServer => Some(InternalServerException),
            Validation => Some(ValidationException),
            _ => None,
        }
    }

    /// Bedrock's own message for the error, where it has a fixed one; otherwise the API
    /// reference's description of the exception.
    fn default_message(self) -> &'static str {
        use Kind::*;
        match self {
            Throttling | ThrottlingException => "Too many requests, please wait before trying again.",
            ServiceUnavailable | ServiceUnavailableException => {
                "Bedrock is unable to process your request."
            }
            ModelNotReady => {
                "The model specified in the request is not ready to serve inference requests. The AWS SDK will automatically retry the operation up to 5 times."
            }
            ModelTimeout | ModelTimeoutException => {
                "The request took too long to process. Processing time exceeded the model timeout length."
            }
            ModelError => "The request failed due to an error while processing the model.",
            ModelStreamErrorException => {
                "An error occurred while streaming the response. Retry your request."
            }
            InternalServer | InternalServerException => {
                "An internal server error occurred. Retry your request."
            }
            ServiceQuotaExceeded => {
                "Your request exceeds the service quota for your account. You can view your quotas at Viewing service quotas. You can resubmit your request later."
            }
            AccessDenied => "You don't have access to the model with the specified model ID.",
            Validation | ValidationException => {
                "Input validation failed. Check your request parameters and retry the request."
            }
            ResourceNotFound => {
                "The specified resource ARN was not found. Check the ARN and try your request again."
            }
            Stall | Disconnect | Delay => "",
        }
    }
}

/// A checked fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub kind: Kind,
    /// `at: {"afterTokens": N}`; `None` is `at: "request"`.
    pub after_tokens: Option<u32>,
    pub message: Option<String>,
    /// `retryAfterSeconds`: sent as `Retry-After` and `x-amz-retry-after`.
    pub retry_after: Option<Duration>,
    /// `ms`: how long a `stall` or `delay` lasts (`None`: a stall lasts until the client leaves).
    pub pause: Option<Duration>,
}

impl Fault {
    /// The AWS error this fault raises answering a call on `model_id`; `None` for transport kinds.
    pub fn error(&self, model_id: &str) -> Option<ApiError> {
        use Kind::*;
        let message = self
            .message
            .clone()
            .unwrap_or_else(|| self.kind.default_message().to_string());
        Some(match self.kind {
            Throttling | ThrottlingException => ApiError::Throttling(message),
            ServiceUnavailable | ServiceUnavailableException => {
                ApiError::ServiceUnavailable(message)
            }
            ModelNotReady => ApiError::ModelNotReady(message),
            ModelTimeout | ModelTimeoutException => ApiError::ModelTimeout(message),
            ModelError => ApiError::ModelError {
                message,
                original_status_code: 500,
                resource_name: model_id.to_string(),
            },
            ModelStreamErrorException => ApiError::ModelStreamError {
                message,
                original_status_code: None,
                original_message: None,
            },
            InternalServer | InternalServerException => ApiError::InternalServer(message),
            ServiceQuotaExceeded => ApiError::ServiceQuotaExceeded(message),
            AccessDenied => ApiError::AccessDenied(message),
            Validation | ValidationException => ApiError::Validation(message),
            ResourceNotFound => ApiError::ResourceNotFound(message),
            Stall | Disconnect | Delay => return None,
        })
    }
}

/// The message a rule gets for a throttle it did not script (a quota).
pub fn throttled() -> ApiError {
    ApiError::Throttling(Kind::Throttling.default_message().to_string())
}

/// Every kind's name (README lists each).
#[cfg(test)]
pub const KINDS: &[&str] = &[
    "throttling",
    "serviceUnavailable",
    "modelNotReady",
    "modelTimeout",
    "modelError",
    "internalServer",
    "serviceQuotaExceeded",
    "accessDenied",
    "validation",
    "resourceNotFound",
    "modelStreamErrorException",
    "throttlingException",
    "internalServerException",
    "serviceUnavailableException",
    "validationException",
    "modelTimeoutException",
    "stall",
    "disconnect",
    "delay",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_by_the_name_serde_reads() {
        for name in KINDS {
            let kind: Kind = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(kind.name(), *name);
        }
    }

    /// README's fault table is the user's reference: every kind is in it.
    #[test]
    fn every_kind_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("**`fault`**")
            .nth(1)
            .and_then(|s| s.split("### Quotas").next())
            .expect("README has a fault section");
        for name in KINDS {
            assert!(
                section.contains(&format!("`{name}`")),
                "README's fault table lacks {name}"
            );
        }
    }

    #[test]
    fn request_errors_have_the_issue_statuses_and_types() {
        let cases = [
            (Kind::Throttling, 429, "ThrottlingException"),
            (Kind::ServiceUnavailable, 503, "ServiceUnavailableException"),
            (Kind::ModelNotReady, 429, "ModelNotReadyException"),
            (Kind::ModelTimeout, 408, "ModelTimeoutException"),
            (Kind::ModelError, 424, "ModelErrorException"),
            (Kind::InternalServer, 500, "InternalServerException"),
            (
                Kind::ServiceQuotaExceeded,
                400,
                "ServiceQuotaExceededException",
            ),
            (Kind::AccessDenied, 403, "AccessDeniedException"),
            (Kind::Validation, 400, "ValidationException"),
            (Kind::ResourceNotFound, 404, "ResourceNotFoundException"),
        ];
        for (kind, status, type_name) in cases {
            let fault = Fault {
                kind,
                after_tokens: None,
                message: None,
                retry_after: None,
                pause: None,
            };
            let err = fault.error("m").unwrap();
            assert_eq!(
                (err.status(), err.type_name()),
                (status, type_name),
                "{kind:?}"
            );
        }
        let throttle = Fault {
            kind: Kind::Throttling,
            after_tokens: None,
            message: None,
            retry_after: None,
            pause: None,
        };
        assert_eq!(
            throttle.error("m").unwrap().message(),
            "Too many requests, please wait before trying again."
        );
    }

    #[test]
    fn stream_kinds_become_their_own_exception_members() {
        let cases = [
            (Kind::ModelStreamErrorException, "modelStreamErrorException"),
            (Kind::ThrottlingException, "throttlingException"),
            (Kind::InternalServerException, "internalServerException"),
            (
                Kind::ServiceUnavailableException,
                "serviceUnavailableException",
            ),
            (Kind::ValidationException, "validationException"),
            (Kind::ModelTimeoutException, "modelTimeoutException"),
        ];
        for (kind, member) in cases {
            let fault = Fault {
                kind,
                after_tokens: Some(1),
                message: None,
                retry_after: None,
                pause: None,
            };
            let err = fault.error("m").unwrap().into_stream_error();
            assert_eq!(err.stream_member(true), member);
        }
    }
}
