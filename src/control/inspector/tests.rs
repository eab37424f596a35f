use super::*;
use http_body_util::BodyExt;

fn body(resp: Response<Body>) -> Vec<u8> {
    let collected = futures::executor::block_on(resp.into_body().collect());
    collected.map(|c| c.to_bytes().to_vec()).unwrap_or_default()
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> &'a str {
    resp.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[test]
fn the_page_is_html_that_loads_only_its_own_files() {
    let resp = page(&HeaderMap::new());
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
    let csp = header(&resp, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = String::from_utf8(body(resp)).unwrap();
    // Every asset is loaded from /_awsim/ui/ (an absolute path: the page is also `/_awsim`).
    for asset in ASSETS {
        let url = format!("\"/_awsim/ui/{}\"", asset.name);
        assert!(html.contains(&url), "the page does not load {url}");
    }
    // Nothing from elsewhere, and nothing inline that the policy would block.
    for banned in [
        "http://", "https://", "src=\"//", "style=", " onclick", "<script>",
    ] {
        assert!(!html.contains(banned), "the page contains {banned}");
    }
}

#[test]
fn assets_have_their_content_types_and_revalidate() {
    for asset in ASSETS {
        let resp = super::asset(asset.name, &HeaderMap::new()).unwrap();
        assert_eq!(resp.status(), 200, "{}", asset.name);
        let kind = if asset.name.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(header(&resp, "content-type"), kind);
        assert_eq!(header(&resp, "cache-control"), "no-cache");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
        let etag = header(&resp, "etag").to_string();
        assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
        assert_eq!(body(resp), asset.bytes);

        // The browser's copy is current: 304, no body.
        let mut request = HeaderMap::new();
        request.insert(header::IF_NONE_MATCH, etag.parse().unwrap());
        let resp = super::asset(asset.name, &request).unwrap();
        assert_eq!(resp.status(), 304);
        assert_eq!(header(&resp, "etag"), etag);
        assert!(body(resp).is_empty());

        // An older copy gets the file.
        let mut request = HeaderMap::new();
        request.insert(header::IF_NONE_MATCH, "\"0\"".parse().unwrap());
        assert_eq!(super::asset(asset.name, &request).unwrap().status(), 200);
    }
}

#[test]
fn every_file_has_its_own_validator() {
    let mut tags: Vec<&str> = (0..=ASSETS.len()).map(etag).collect();
    tags.sort_unstable();
    tags.dedup();
    assert_eq!(tags.len(), ASSETS.len() + 1);
    assert_eq!(header(&page(&HeaderMap::new()), "etag"), etag(0));
}

#[test]
fn an_unknown_file_is_a_404_that_names_the_files() {
    let err = super::asset("app.js", &HeaderMap::new()).unwrap_err();
    assert_eq!(err.status(), 404);
    assert_eq!(err.type_name(), "ResourceNotFoundException");
    assert!(err.message().contains("'app.js'"), "{}", err.message());
    assert!(err.message().contains("inspector.js"), "{}", err.message());
    // No path out of the table.
    assert!(super::asset("../mod.rs", &HeaderMap::new()).is_err());
}

/// The page is small: a few files of hand-written code, no bundled library.
#[test]
fn the_assets_stay_small() {
    let mut total = PAGE.bytes.len();
    for asset in ASSETS {
        assert!(
            asset.bytes.len() < 32 * 1024,
            "{} is {} bytes",
            asset.name,
            asset.bytes.len()
        );
        total += asset.bytes.len();
    }
    assert!(
        total < 96 * 1024,
        "the page's files add up to {total} bytes"
    );
}
