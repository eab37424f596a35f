//! The verifier against AWS's Signature Version 4 test suite, against requests the AWS SDK for
//! Rust's signer signed, and every way a request can fail.

use super::suite::SUITE;
use super::*;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use hyper::Request;
use std::time::UNIX_EPOCH;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the suite's signing time.
const SIGNED_AT: u64 = 1_440_938_160;
/// The suite signs for the service `service`.
const SUITE_SERVICE: &str = "service";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn auth() -> Auth {
    Auth::new(
        vec![(AKID.into(), SECRET.into()), ("test".into(), "test".into())],
        vec!["ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl".into()],
    )
}

/// A request in the suite's text form: request line, `Name:value` headers, blank line, body.
fn request(text: &str) -> (Parts, Vec<u8>) {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let mut start = lines.next().unwrap().split(' ');
    let (method, target) = (start.next().unwrap(), start.next().unwrap());
    let mut builder = Request::builder().method(method).uri(target);
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        builder = builder.header(name, value);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    (parts, body.as_bytes().to_vec())
}

fn verify_at(text: &str, now: SystemTime, service: &str) -> Result<(), ApiError> {
    let (parts, body) = request(text);
    auth().verify(&Received::of(&parts, &body), now, service)
}

fn verify(text: &str) -> Result<(), ApiError> {
    verify_at(text, at(SIGNED_AT), SUITE_SERVICE)
}

fn refused(text: &str) -> (&'static str, u16, String) {
    match verify(text) {
        Ok(()) => panic!("accepted:\n{text}"),
        Err(err) => (err.type_name(), err.status(), err.message().to_string()),
    }
}

/// One character of the signature changed.
fn tampered(text: &str) -> String {
    let at = text.find("Signature=").unwrap() + "Signature=".len();
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

/// The suite's signed requests, header-signed then presigned.
fn suite() -> impl Iterator<Item = (String, &'static super::suite::Signed)> {
    SUITE.iter().flat_map(|v| {
        std::iter::once((format!("{} (header)", v.name), &v.header)).chain(
            v.presigned
                .iter()
                .map(move |p| (format!("{} (presigned)", v.name), p)),
        )
    })
}

fn get_vanilla() -> &'static super::suite::Vector {
    SUITE.iter().find(|v| v.name == "get-vanilla").unwrap()
}

#[test]
fn the_canonical_request_and_string_to_sign_are_the_suites() {
    for (name, signed) in suite() {
        let (parts, body) = request(signed.request);
        let received = Received::of(&parts, &body);
        let claim = match parts.headers.get(AUTHORIZATION) {
            Some(value) => Claim::from_header(value.to_str().unwrap(), &received).unwrap(),
            None => Claim::from_query(received.query).unwrap().unwrap(),
        };
        let canonical = canonical_request(&claim, &received).unwrap();
        assert_eq!(canonical, signed.canonical_request, "{name}");
        assert_eq!(
            string_to_sign(&claim, &canonical),
            signed.string_to_sign,
            "{name}"
        );
    }
}

#[test]
fn every_request_of_the_suite_verifies() {
    for (name, signed) in suite() {
        verify(signed.request).unwrap_or_else(|err| panic!("{name}: {err}"));
    }
}

#[test]
fn one_changed_character_of_a_suite_signature_is_refused() {
    for (name, signed) in suite() {
        let (code, status, _) = refused(&tampered(signed.request));
        assert_eq!((code, status), ("InvalidSignatureException", 403), "{name}");
    }
}

#[test]
fn a_refused_signature_quotes_the_canonical_request_and_string_to_sign() {
    let vanilla = &get_vanilla().header;
    let (_, _, message) = refused(&tampered(vanilla.request));
    assert_eq!(
        message,
        format!(
            "{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
            vanilla.canonical_request, vanilla.string_to_sign
        )
    );
}

#[test]
fn a_changed_body_is_refused_even_with_its_old_digest_in_the_header() {
    let header = SUITE
        .iter()
        .find(|v| v.name == "post-x-www-form-urlencoded")
        .unwrap()
        .header
        .request;
    verify(header).unwrap();
    let changed = header.replace("Param1=value1", "Param1=value2");
    let (code, _, message) = refused(&changed);
    assert_eq!(code, "InvalidSignatureException");
    // The canonical request ends with the hash of the body received, not the header's.
    assert!(
        message.contains(&hex::encode(Sha256::digest(b"Param1=value2"))),
        "{message}"
    );
}

#[test]
fn unsigned_payload_is_taken_from_the_header() {
    // Signed with aws-sigv4 itself: UNSIGNED-PAYLOAD in x-amz-content-sha256 and the canonical request.
    let text = signed_by_the_crate(
        "POST",
        "/model/m/invoke",
        &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        b"{}",
        SignableBody::UnsignedPayload,
    );
    verify_at(&text, at(SIGNED_AT), SERVICE).unwrap();
    let other_body = text.replace("\n\n{}", "\n\n{\"changed\":true}");
    verify_at(&other_body, at(SIGNED_AT), SERVICE).unwrap();
}

#[test]
fn a_percent_encoded_model_id_is_signed_double_encoded() {
    let text = signed_by_the_crate(
        "POST",
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        &[],
        b"{}",
        SignableBody::Bytes(b"{}"),
    );
    verify_at(&text, at(SIGNED_AT), SERVICE).unwrap();
    // The same id sent raw is another path, so another signature.
    let raw = text.replace("v1%3A0", "v1:0");
    let err = verify_at(&raw, at(SIGNED_AT), SERVICE).unwrap_err();
    assert!(
        err.message()
            .contains("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"),
        "{err}"
    );
}

/// A request signed by `aws-sigv4` as the AWS SDK for Rust signs it, for `test:test` in
/// us-west-2, at the suite's time, in the suite's text form.
fn signed_by_the_crate(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    signable: SignableBody,
) -> String {
    let identity = aws_credential_types::Credentials::new("test", "test", None, None, "t").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-west-2")
        .name(SERVICE)
        .time(at(SIGNED_AT))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut all: Vec<(&str, &str)> = vec![("host", "localhost:4566")];
    all.extend_from_slice(headers);
    let uri = format!("http://localhost:4566{path}");
    let request = SignableRequest::new(method, uri, all.iter().copied(), signable).unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut text = format!("{method} {path} HTTP/1.1\n");
    for (name, value) in all.iter().copied().chain(instructions.headers()) {
        text.push_str(&format!("{name}:{value}\n"));
    }
    text.push('\n');
    text.push_str(std::str::from_utf8(body).unwrap());
    text
}

#[test]
fn no_credentials_is_a_missing_token() {
    assert_eq!(
        refused("GET / HTTP/1.1\nHost:example.amazonaws.com\n\n"),
        (
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token".into()
        )
    );
}

#[test]
fn an_unknown_access_key_is_an_unrecognized_client() {
    let vanilla = get_vanilla();
    for text in [
        vanilla.header.request,
        vanilla.presigned.as_ref().unwrap().request,
    ] {
        let text = text.replace("AKIDEXAMPLE", "AKIDUNKNOWN");
        assert_eq!(
            refused(&text),
            (
                "UnrecognizedClientException",
                403,
                "The security token included in the request is invalid.".into()
            )
        );
    }
}

#[test]
fn a_date_more_than_15_minutes_off_is_expired_or_not_yet_current() {
    let header = get_vanilla().header.request;
    verify_at(header, at(SIGNED_AT + 15 * 60), SUITE_SERVICE).unwrap();
    verify_at(header, at(SIGNED_AT - 15 * 60), SUITE_SERVICE).unwrap();
    let late = verify_at(header, at(SIGNED_AT + 15 * 60 + 1), SUITE_SERVICE).unwrap_err();
    assert_eq!(late.type_name(), "InvalidSignatureException");
    assert_eq!(
        late.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    );
    let early = verify_at(header, at(SIGNED_AT - 20 * 60), SUITE_SERVICE).unwrap_err();
    assert_eq!(
        early.message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123100Z (20150830T121600Z + 15 min.)"
    );
}

#[test]
fn a_presigned_url_lives_for_its_x_amz_expires() {
    let query = get_vanilla().presigned.as_ref().unwrap().request;
    verify_at(query, at(SIGNED_AT + 3600), SUITE_SERVICE).unwrap();
    let err = verify_at(query, at(SIGNED_AT + 3601), SUITE_SERVICE).unwrap_err();
    assert_eq!(
        err.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T133601Z - 60 min.)"
    );
}

#[test]
fn the_credential_scope_is_checked() {
    let header = get_vanilla().header.request;
    let cases = [
        ("/20150830/us-east-1/service/", "/20150831/us-east-1/service/", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'."),
        ("/aws4_request,", "/aws5_request,", "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."),
        ("/us-east-1/", "/US_EAST/", "Credential should be scoped to a valid region, not 'US_EAST'."),
        ("/service/", "/bedrock-runtime/", "Credential should be scoped to correct service: 'service'. "),
    ];
    for (from, to, message) in cases {
        let (code, status, got) = refused(&header.replacen(from, to, 1));
        assert_eq!(
            (code, status, got.as_str()),
            ("InvalidSignatureException", 403, message)
        );
    }
    // Any valid region: awsim serves them all on one port.
    let (code, ..) = refused(&header.replace("/us-east-1/", "/eu-west-3/"));
    assert_eq!(
        code, "InvalidSignatureException",
        "signed for us-east-1, so it no longer matches"
    );
}

#[test]
fn an_incomplete_authorization_header_names_what_it_lacks() {
    let (code, status, message) =
        refused("GET / HTTP/1.1\nHost:h\nAuthorization:Basic dGVzdDp0ZXN0\n\n");
    assert_eq!((code, status), ("IncompleteSignatureException", 400));
    assert_eq!(message, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Basic dGVzdDp0ZXN0");
    let header = get_vanilla().header.request;
    let (code, _, message) = refused(&header.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"));
    assert_eq!(
        (code, message.as_str()),
        (
            "IncompleteSignatureException",
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"
        )
    );
    let (_, _, message) = refused(&header.replace(
        "X-Amz-Date:20150830T123600Z",
        "X-Amz-Date:2015-08-30T12:36:00Z",
    ));
    assert_eq!(message, "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601");
    let (_, _, message) = refused(&header.replace(
        "Credential=AKIDEXAMPLE/20150830/",
        "Credential=AKIDEXAMPLE/",
    ));
    assert!(
        message.starts_with("Credential must have exactly 5 slash-delimited elements"),
        "{message}"
    );
    let (_, _, message) = refused(&header.replace("host;x-amz-date", "x-amz-date"));
    assert_eq!(
        message,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn an_incomplete_presigned_query_names_its_parameters() {
    let query = get_vanilla().presigned.as_ref().unwrap().request;
    let (code, status, message) = refused(&query.replace("&X-Amz-Expires=3600", ""));
    assert_eq!((code, status), ("IncompleteSignatureException", 400));
    assert!(
        message.starts_with("AWS query-string parameters must include 'X-Amz-Algorithm'"),
        "{message}"
    );
    let (_, _, message) = refused(&query.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801"));
    assert_eq!(
        message,
        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    );
}

#[test]
fn a_bearer_api_key_is_compared_with_the_configured_ones() {
    let ok = "POST /model/m/converse HTTP/1.1\nHost:h\nAuthorization:Bearer ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl\n\n{}";
    verify(ok).unwrap();
    verify(&ok.replace("Bearer ", "bearer ")).unwrap();
    assert_eq!(
        refused(&ok.replace("ABSKQm", "ABSKXm")),
        (
            "AccessDeniedException",
            403,
            "Authentication failed: Please make sure your API Key is valid.".into()
        )
    );
}

#[test]
fn key_pairs_parse_without_echoing_secrets() {
    assert_eq!(
        parse_key_pairs("test:test, AKID:s3cr/et+").unwrap(),
        vec![
            ("test".into(), "test".into()),
            ("AKID".into(), "s3cr/et+".into())
        ]
    );
    for bad in ["", "s3cret", "AKID:", ":s3cret", "a:1,a:2"] {
        let err = parse_key_pairs(bad).unwrap_err();
        assert!(
            !err.contains("s3cret") && !err.contains(":1"),
            "{bad}: {err}"
        );
    }
    assert_eq!(parse_api_keys(" k1 ,,k2"), vec!["k1", "k2"]);
    let debug = format!(
        "{:?}",
        Auth::new(vec![("AKID".into(), "s3cret".into())], vec!["key".into()])
    );
    assert!(
        debug.contains("AKID") && !debug.contains("s3cret") && !debug.contains("key\""),
        "{debug}"
    );
}
