//! The one place where a failure becomes an AWS error: HTTP status, `X-Amzn-ErrorType`, JSON body,
//! and — once a stream has started — the lowerCamel exception member of the event-stream union.

use serde_json::{json, Value};
use std::fmt;

/// Every error awsim reports to a client. Errors travel typed and are classified here, once.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    Validation(String),
    ResourceNotFound(String),
    AccessDenied(String),
    Conflict(String),
    ResourceInUse(String),
    ServiceQuotaExceeded(String),
    TooManyTags {
        message: String,
        resource_name: String,
    },
    Throttling(String),
    ModelTimeout(String),
    ModelNotReady(String),
    /// The model (backend) answered with an error before the stream began.
    ModelError {
        message: String,
        original_status_code: u16,
        resource_name: String,
    },
    /// The model failed after the stream began (only ever sent as an exception frame).
    ModelStreamError {
        message: String,
        original_status_code: Option<u16>,
        original_message: Option<String>,
    },
    InternalServer(String),
    ServiceUnavailable(String),
    /// The request (its body, or its headers) did not arrive within awsim's read deadline.
    RequestTimeout(String),
    /// The request target is longer than awsim reads (HTTP 414).
    UriTooLong(String),
    /// Too many or too large request headers (HTTP 431).
    HeadersTooLarge(String),
    /// No operation has this path.
    UnknownOperation(String),
    /// The path exists but not with this method.
    MethodNotAllowed(String),
    /// A real Bedrock operation that awsim does not emulate.
    NotImplemented(String),
    /// `--auth sigv4`: no credentials at all.
    MissingAuthenticationToken(String),
    /// `--auth sigv4`: an access key id no `--auth-keys` pair has.
    UnrecognizedClient(String),
    /// `--auth sigv4`: a signature that does not verify, is out of its time window, or has the
    /// wrong credential scope.
    InvalidSignature(String),
    /// `--auth sigv4`: an `Authorization` header or presigned query that lacks a SigV4 part.
    IncompleteSignature(String),
}

impl ApiError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::ResourceNotFound(message.into())
    }

    /// The shape name, sent in `X-Amzn-ErrorType`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Validation(_) | Self::UriTooLong(_) | Self::HeadersTooLarge(_) => {
                "ValidationException"
            }
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::Conflict(_) => "ConflictException",
            Self::ResourceInUse(_) => "ResourceInUseException",
            Self::ServiceQuotaExceeded(_) => "ServiceQuotaExceededException",
            Self::TooManyTags { .. } => "TooManyTagsException",
            Self::Throttling(_) => "ThrottlingException",
            Self::ModelTimeout(_) => "ModelTimeoutException",
            Self::ModelNotReady(_) => "ModelNotReadyException",
            Self::ModelError { .. } => "ModelErrorException",
            Self::ModelStreamError { .. } => "ModelStreamErrorException",
            Self::InternalServer(_) => "InternalServerException",
            Self::ServiceUnavailable(_) => "ServiceUnavailableException",
            Self::RequestTimeout(_) => "RequestTimeoutException",
            Self::UnknownOperation(_) | Self::MethodNotAllowed(_) => "UnknownOperationException",
            Self::NotImplemented(_) => "NotImplementedException",
            Self::MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
            Self::UnrecognizedClient(_) => "UnrecognizedClientException",
            Self::InvalidSignature(_) => "InvalidSignatureException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
        }
    }

    /// HTTP status, per the service models (wire.md §4.5).
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_)
            | Self::Conflict(_)
            | Self::ResourceInUse(_)
            | Self::ServiceQuotaExceeded(_)
            | Self::TooManyTags { .. }
            | Self::IncompleteSignature(_) => 400,
            Self::AccessDenied(_)
            | Self::MissingAuthenticationToken(_)
            | Self::UnrecognizedClient(_)
            | Self::InvalidSignature(_) => 403,
            Self::ResourceNotFound(_) | Self::UnknownOperation(_) => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::ModelTimeout(_) | Self::RequestTimeout(_) => 408,
            Self::UriTooLong(_) => 414,
            Self::HeadersTooLarge(_) => 431,
            Self::ModelError { .. } | Self::ModelStreamError { .. } => 424,
            Self::Throttling(_) | Self::ModelNotReady(_) => 429,
            Self::InternalServer(_) => 500,
            Self::NotImplemented(_) => 501,
            Self::ServiceUnavailable(_) => 503,
        }
    }

    /// The event-stream union member name (`:exception-type`) for errors raised mid-stream.
    /// Streams only model a few exceptions; anything else travels as `internalServerException`
    /// carrying its own message, so a client never sees an unmodeled member.
    pub fn stream_member(&self, invoke_stream: bool) -> &'static str {
        match self {
            Self::Validation(_) => "validationException",
            Self::Throttling(_) => "throttlingException",
            Self::ServiceUnavailable(_) => "serviceUnavailableException",
            Self::ModelTimeout(_) if invoke_stream => "modelTimeoutException",
            Self::ModelStreamError { .. } | Self::ModelError { .. } | Self::ModelTimeout(_) => {
                "modelStreamErrorException"
            }
            _ => "internalServerException",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Validation(m)
            | Self::ResourceNotFound(m)
            | Self::AccessDenied(m)
            | Self::Conflict(m)
            | Self::ResourceInUse(m)
            | Self::ServiceQuotaExceeded(m)
            | Self::Throttling(m)
            | Self::ModelTimeout(m)
            | Self::ModelNotReady(m)
            | Self::InternalServer(m)
            | Self::ServiceUnavailable(m)
            | Self::RequestTimeout(m)
            | Self::UriTooLong(m)
            | Self::HeadersTooLarge(m)
            | Self::UnknownOperation(m)
            | Self::MethodNotAllowed(m)
            | Self::NotImplemented(m)
            | Self::MissingAuthenticationToken(m)
            | Self::UnrecognizedClient(m)
            | Self::InvalidSignature(m)
            | Self::IncompleteSignature(m) => m,
            Self::TooManyTags { message, .. }
            | Self::ModelError { message, .. }
            | Self::ModelStreamError { message, .. } => message,
        }
    }

    /// The JSON body: `{"message": …}` plus the extra members some shapes model.
    pub fn body(&self) -> Value {
        let mut body = json!({ "message": self.message() });
        match self {
            Self::TooManyTags { resource_name, .. } => {
                body["resourceName"] = json!(resource_name);
            }
            Self::ModelError {
                original_status_code,
                resource_name,
                ..
            } => {
                body["originalStatusCode"] = json!(original_status_code);
                body["resourceName"] = json!(resource_name);
            }
            Self::ModelStreamError {
                original_status_code,
                original_message,
                ..
            } => {
                if let Some(code) = original_status_code {
                    body["originalStatusCode"] = json!(code);
                }
                if let Some(original) = original_message {
                    body["originalMessage"] = json!(original);
                }
            }
            _ => {}
        }
        body
    }

    /// A failure met while collecting a whole answer for a non-streaming operation: those operations
    /// model `ModelErrorException`, not the stream's `ModelStreamErrorException`.
    pub fn into_collected_error(self, resource_name: &str) -> Self {
        match self {
            Self::ModelStreamError {
                message,
                original_status_code,
                ..
            } => Self::ModelError {
                message,
                original_status_code: original_status_code.unwrap_or(500),
                resource_name: resource_name.to_string(),
            },
            other => other,
        }
    }

    /// A stream-side error re-expressed for a stream that has already started: a failure that
    /// would have been a `ModelErrorException` becomes a `ModelStreamErrorException`.
    pub fn into_stream_error(self) -> Self {
        match self {
            Self::ModelError {
                message,
                original_status_code,
                ..
            } => Self::ModelStreamError {
                original_message: Some(message.clone()),
                message,
                original_status_code: Some(original_status_code),
            },
            other => other,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.type_name(), self.message())
    }
}

impl std::error::Error for ApiError {}

/// Malformed JSON in a request body, with the position serde found the problem at.
impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        ApiError::Validation(format!(
            "Malformed input request: {err}, please reformat your input and try again."
        ))
    }
}
