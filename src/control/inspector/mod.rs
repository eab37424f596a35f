//! The inspector: one page at `/_awsim/` that shows the invocation log, each stream as a timeline,
//! and the rules in force. Its HTML, CSS and JavaScript are compiled into the binary and served
//! from `/_awsim/ui/{asset}`: nothing is fetched from anywhere else, so it works offline. The page
//! reads and changes awsim through the same `/_awsim/` endpoints a test uses.

pub(crate) mod frames;

use crate::aws::http::{full, Body};
use crate::aws::ApiError;
use crate::hash::stable_hash;
use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};
use std::sync::OnceLock;

/// One file of the page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const PAGE: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    bytes: include_bytes!("index.html"),
};

/// What the page loads, by the name it uses under `/_awsim/ui/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "inspector.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("inspector.css"),
    },
    Asset {
        name: "inspector.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("inspector.js"),
    },
    Asset {
        name: "invocation.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("invocation.js"),
    },
    Asset {
        name: "timeline.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("timeline.js"),
    },
];

/// The page's scripts and styles come from awsim alone, and its requests go to awsim alone; no
/// other site may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /_awsim/` and `GET /_awsim/ui`.
pub fn page(request: &HeaderMap) -> Response<Body> {
    let mut resp = serve(&PAGE, 0, request);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// `GET /_awsim/ui/{asset}`.
pub fn asset(name: &str, request: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let (i, asset) = ASSETS
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
            ApiError::not_found(format!(
                "The inspector has no file '{name}'; it serves {} (open the page at /_awsim/)",
                names.join(", ")
            ))
        })?;
    Ok(serve(asset, i + 1, request))
}

/// The asset, or `304 Not Modified` when the browser's copy is this build's. Browsers revalidate
/// every time (`no-cache`): a new awsim binary serves a new page at once.
fn serve(asset: &Asset, index: usize, request: &HeaderMap) -> Response<Body> {
    let etag = etag(index);
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if fresh {
        let mut resp = Response::new(full(""));
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        resp
    } else {
        Response::new(full(asset.bytes))
    };
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    resp
}

/// A strong validator from the bytes themselves, computed once per asset.
fn etag(index: usize) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        std::iter::once(&PAGE)
            .chain(ASSETS)
            .map(|a| format!("\"{:016x}\"", stable_hash(&[a.bytes])))
            .collect()
    });
    tags.get(index).map_or("", String::as_str)
}

#[cfg(test)]
mod tests;
