//! Routing on the raw, still percent-encoded path. SDKs encode model ids (`v1%3A0`) and ARNs (`%2F`)
//! into single segments, so matching happens before decoding; each captured label is decoded after.
//! Curl users send raw `:` and even raw `/` in ARNs: a greedy label (`{modelId+}`) takes as many
//! segments as leave the rest of the template matching.

use crate::aws::{http::decode, ApiError};
use crate::operations::{Operation, OPERATIONS};
use hyper::Method;

/// A matched request: the operation and its decoded path labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub operation: Operation,
    /// Success status of the operation (201/202 where the real service uses them).
    pub status: u16,
    pub params: Vec<String>,
    /// The method and path template matched (`GET /evaluation-jobs/{jobIdentifier}`), for messages.
    pub method: Method,
    pub template: &'static str,
}

impl Route {
    /// A real Bedrock operation that awsim does not emulate: a 501 that names it.
    pub fn not_implemented(&self, name: &str) -> ApiError {
        ApiError::NotImplemented(format!(
            "awsim does not implement the Bedrock operation {name} ({} {}); see the README for the list of supported operations",
            self.method, self.template
        ))
    }
}

#[derive(Debug)]
enum Segment {
    Literal(&'static str),
    Label,
    Greedy,
}

#[derive(Debug)]
struct Template {
    method: Method,
    path: &'static str,
    segments: Vec<Segment>,
    literals: usize,
    operation: Operation,
    status: u16,
}

/// All operations awsim knows the path of, matched most-specific first.
#[derive(Debug)]
pub struct Router {
    templates: Vec<Template>,
    /// Template indices by first path segment (every template starts with a literal), sorted by
    /// segment for a binary search, so a request is matched against the handful of templates that
    /// can match, not all ~150.
    by_first: Vec<(&'static str, Vec<usize>)>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    pub fn new() -> Self {
        let mut templates: Vec<Template> = OPERATIONS
            .iter()
            .filter_map(|&(method, path, operation, status)| {
                let segments: Vec<Segment> = path
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| match s {
                        s if s.starts_with('{') && s.ends_with("+}") => Segment::Greedy,
                        s if s.starts_with('{') => Segment::Label,
                        s => Segment::Literal(s),
                    })
                    .collect();
                let literals = segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                Some(Template {
                    method: Method::from_bytes(method.as_bytes()).ok()?,
                    path,
                    segments,
                    literals,
                    operation,
                    status,
                })
            })
            .collect();
        // More literal segments win (`/evaluation-jobs/batch-delete` over `/evaluation-jobs/{id}`);
        // the sort is stable, so runtime routes keep their place at the front.
        templates.sort_by_key(|t| std::cmp::Reverse(t.literals));
        let mut by_first: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for (i, t) in templates.iter().enumerate() {
            if let Some(Segment::Literal(first)) = t.segments.first() {
                match by_first.binary_search_by(|(k, _)| k.cmp(first)) {
                    Ok(at) => by_first[at].1.push(i),
                    Err(at) => by_first.insert(at, (first, vec![i])),
                }
            }
        }
        Self {
            templates,
            by_first,
        }
    }

    /// Finds the operation for `method` and the raw path; unknown paths and methods are AWS errors.
    pub fn route(&self, method: &Method, raw_path: &str) -> Result<Route, ApiError> {
        let path = raw_path
            .strip_suffix('/')
            .filter(|p| !p.is_empty())
            .unwrap_or(raw_path);
        let segments = segments(path);
        let mut allowed: Vec<&str> = Vec::new();
        let candidates = segments
            .first()
            .and_then(|first| {
                self.by_first
                    .binary_search_by(|(k, _)| k.cmp(&first.1))
                    .ok()
            })
            .map(|at| self.by_first[at].1.as_slice())
            .unwrap_or_default();
        for t in candidates.iter().map(|&i| &self.templates[i]) {
            let Some(labels) = match_segments(&t.segments, path, &segments) else {
                continue;
            };
            if t.method != *method {
                if !allowed.contains(&t.method.as_str()) {
                    allowed.push(t.method.as_str());
                }
                continue;
            }
            let params = labels.map(decode).collect::<Result<Vec<_>, _>>()?;
            return Ok(Route {
                operation: t.operation,
                status: t.status,
                params,
                method: t.method.clone(),
                template: t.path,
            });
        }
        if allowed.is_empty() {
            Err(ApiError::UnknownOperation(format!(
                "awsim does not recognise the path {raw_path} ({method}): it is not a Bedrock or Bedrock Runtime operation"
            )))
        } else {
            Err(ApiError::MethodNotAllowed(format!(
                "{method} is not supported on {raw_path}; this path accepts {}",
                allowed.join(", ")
            )))
        }
    }
}

/// The segments of a path without its leading `/`, each with its byte offset in `path` (a greedy
/// label is captured as one slice of the path, not joined from its segments).
fn segments(path: &str) -> Vec<(usize, &str)> {
    let start = path.len() - path.trim_start_matches('/').len();
    let mut at = start;
    path[start..]
        .split('/')
        .map(|s| {
            let seg = (at, s);
            at += s.len() + 1;
            seg
        })
        .collect()
}

/// Matches raw segments against a template; yields the raw (still encoded) labels. Nothing is
/// allocated: most candidate templates fail on a literal after their label.
fn match_segments<'p>(
    template: &'p [Segment],
    path: &'p str,
    segments: &'p [(usize, &'p str)],
) -> Option<impl Iterator<Item = &'p str> + 'p> {
    let greedy = template.iter().any(|s| matches!(s, Segment::Greedy));
    if !greedy && template.len() != segments.len() {
        return None;
    }
    if greedy && segments.len() < template.len() {
        return None;
    }
    let extra = segments.len() - template.len();
    // Where each template segment's capture lies in `segments`.
    let span = move |at: usize, seg: &Segment| match seg {
        Segment::Greedy => at..at + extra + 1,
        _ => at..at + 1,
    };
    let captured = move |range: std::ops::Range<usize>| {
        let (start, _) = segments[range.start];
        let (last_at, last) = segments[range.end - 1];
        &path[start..last_at + last.len()]
    };
    let mut i = 0;
    for seg in template {
        let range = span(i, seg);
        i = range.end;
        let ok = match seg {
            Segment::Literal(l) => segments[range.start].1 == *l,
            Segment::Label | Segment::Greedy => !captured(range).is_empty(),
        };
        if !ok {
            return None;
        }
    }
    let mut i = 0;
    Some(template.iter().filter_map(move |seg| {
        let range = span(i, seg);
        i = range.end;
        (!matches!(seg, Segment::Literal(_))).then(|| captured(range))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::{AdminOp, ManagementOp, RuntimeOp};

    fn route(method: Method, path: &str) -> Result<Route, ApiError> {
        Router::new().route(&method, path)
    }

    #[test]
    fn encoded_model_ids_and_arns_stay_one_label() {
        let r = route(
            Method::POST,
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
        )
        .unwrap();
        assert_eq!(r.operation, Operation::Runtime(RuntimeOp::InvokeModel));
        assert_eq!(r.params, ["anthropic.claude-3-haiku-20240307-v1:0"]);
        let r = route(
            Method::POST,
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream",
        )
        .unwrap();
        assert_eq!(
            r.operation,
            Operation::Runtime(RuntimeOp::InvokeModelWithResponseStream)
        );
        assert_eq!(
            r.params,
            ["arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"]
        );
    }

    #[test]
    fn raw_colons_and_slashes_from_curl() {
        let r = route(
            Method::POST,
            "/model/arn:aws:bedrock:us-east-1:1:inference-profile/us.x-v1:0/converse",
        )
        .unwrap();
        assert_eq!(r.operation, Operation::Runtime(RuntimeOp::Converse));
        assert_eq!(
            r.params,
            ["arn:aws:bedrock:us-east-1:1:inference-profile/us.x-v1:0"]
        );
    }

    #[test]
    fn literal_segments_beat_labels_and_methods_split_paths() {
        assert_eq!(
            route(Method::POST, "/guardrails/abc").unwrap().operation,
            Operation::Management(ManagementOp::CreateGuardrailVersion)
        );
        assert_eq!(
            route(Method::PUT, "/guardrails/abc").unwrap().operation,
            Operation::Management(ManagementOp::UpdateGuardrail)
        );
        assert_eq!(
            route(Method::GET, "/foundation-models").unwrap().operation,
            Operation::Management(ManagementOp::ListFoundationModels)
        );
        assert_eq!(
            route(Method::POST, "/tagResource").unwrap().operation,
            Operation::Management(ManagementOp::TagResource)
        );
        assert_eq!(
            route(Method::GET, "/_awsim/health").unwrap().operation,
            Operation::Admin(AdminOp::Health)
        );
    }

    #[test]
    fn operations_awsim_does_not_emulate_are_routed_by_name() {
        assert_eq!(
            route(Method::GET, "/evaluation-jobs").unwrap().operation,
            Operation::NotEmulated("ListEvaluationJobs")
        );
        let r = route(Method::POST, "/async-invoke").unwrap();
        assert_eq!(r.operation, Operation::NotEmulated("StartAsyncInvoke"));
        assert!(r
            .not_implemented("StartAsyncInvoke")
            .message()
            .contains("StartAsyncInvoke (POST /async-invoke)"));
    }

    #[test]
    fn every_template_is_reachable_by_its_first_segment() {
        let router = Router::new();
        let indexed: usize = router.by_first.iter().map(|(_, v)| v.len()).sum();
        assert_eq!(indexed, router.templates.len());
    }

    #[test]
    fn unknown_paths_and_methods_are_named() {
        let e = route(Method::GET, "/nope").unwrap_err();
        assert_eq!(e.type_name(), "UnknownOperationException");
        assert!(e.message().contains("/nope"));
        let e = route(Method::PATCH, "/foundation-models").unwrap_err();
        assert_eq!(e.status(), 405);
        assert!(e.message().contains("GET"));
    }
}
