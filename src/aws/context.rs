//! Who is calling and where: the region from the SigV4 credential scope (or the default), the account,
//! and the request id that every response carries.

use hyper::HeaderMap;

pub const DEFAULT_REGION: &str = "us-east-1";

/// Per-request facts that every operation needs.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub region: String,
    pub account_id: String,
}

impl RequestContext {
    pub fn new(request_id: String, region: String, account_id: String) -> Self {
        Self {
            request_id,
            region,
            account_id,
        }
    }
}

/// The region of a request: the 3rd field of the SigV4 credential scope, in the `Authorization`
/// header (`Credential=AKID/20260421/us-east-1/bedrock/aws4_request`) or a presigned
/// `X-Amz-Credential` query parameter. Bearer tokens and unsigned requests use the default region.
pub fn region_of(headers: &HeaderMap, raw_query: Option<&str>) -> Option<String> {
    if let Some(auth) = headers.get(hyper::header::AUTHORIZATION) {
        // Bytes, not `str` searches: this runs on every request.
        let auth = auth.as_bytes();
        static CREDENTIAL: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new("Credential="));
        if let Some(at) = CREDENTIAL.find(auth) {
            let rest = &auth[at + CREDENTIAL.needle().len()..];
            let end = memchr::memchr2(b',', b' ', rest).unwrap_or(rest.len());
            if let Some(region) = std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(region_in_scope)
            {
                return Some(region);
            }
        }
    }
    let query = raw_query?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if !k.eq_ignore_ascii_case("X-Amz-Credential") {
            return None;
        }
        let scope = percent_encoding::percent_decode_str(v).decode_utf8().ok()?;
        region_in_scope(&scope)
    })
}

fn region_in_scope(scope: &str) -> Option<String> {
    // `AKID/date/region/service/aws4_request`: the region lies between the 2nd and 3rd slash.
    let mut slashes = memchr::memchr_iter(b'/', scope.as_bytes());
    let start = slashes.nth(1)? + 1;
    let end = slashes.next().unwrap_or(scope.len());
    let region = &scope[start..end];
    is_region(region).then(|| region.to_string())
}

/// Whether `s` has the shape of a region name (`us-east-1`, `eu-central-2`): lowercase letters,
/// digits and dashes, at most 32 of them.
pub(crate) fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderValue, AUTHORIZATION};

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn region_from_sigv4_header() {
        let h = with_auth("AWS4-HMAC-SHA256 Credential=test/20260421/eu-west-3/bedrock/aws4_request, SignedHeaders=host, Signature=fake");
        assert_eq!(region_of(&h, None).as_deref(), Some("eu-west-3"));
    }

    #[test]
    fn region_from_presigned_query() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260421%2Fap-southeast-2%2Fbedrock%2Faws4_request";
        assert_eq!(
            region_of(&HeaderMap::new(), Some(q)).as_deref(),
            Some("ap-southeast-2")
        );
    }

    #[test]
    fn bearer_and_garbage_fall_back() {
        assert_eq!(region_of(&with_auth("Bearer abc"), None), None);
        assert_eq!(
            region_of(&with_auth("AWS4-HMAC-SHA256 Credential=x"), None),
            None
        );
        assert_eq!(
            region_of(
                &with_auth("AWS4-HMAC-SHA256 Credential=a/b/US EAST/c"),
                None
            ),
            None
        );
    }
}
