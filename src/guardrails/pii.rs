//! Sensitive information found by pattern: one detector per PII entity type that a pattern (with a
//! checksum where the format has one, or a keyword in front where the digits alone say nothing)
//! finds reliably. Types that need a model to recognise — `NAME`, `ADDRESS` — are never detected.
//! README's Guardrails section lists every rule.

use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// One detection: which type, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: &'static str,
    pub span: Range<usize>,
}

/// A detector: a regex whose group 1 (or whole match) is the candidate, and a check that accepts
/// it, returning how many of its bytes to keep (a checksum may hold for a shorter prefix).
struct Detector {
    kind: &'static str,
    regex: Regex,
    check: fn(&str) -> Option<usize>,
}

/// Keyword-anchored: the value must follow one of `keywords` (case-insensitive), after optional
/// `:`/`#`/`-`, or `is`/`=`. With `strict`, only after `:`, `=` or `is`.
fn keyed(keywords: &str, value: &str, strict: bool) -> String {
    let glue = if strict {
        r"\s*(?:[:=]|\s+is\b|\s+was\b)\s*"
    } else {
        r"[\s:#.-]*(?:(?:is|was|=)\s+)?"
    };
    format!(r"(?i:\b(?:{keywords})\b{glue})({value})\b")
}

fn all(s: &str) -> Option<usize> {
    Some(s.len())
}

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

fn luhn(ds: &[u32]) -> bool {
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2, d * 2) {
            (0, _) => d,
            (_, twice) if twice > 9 => twice - 9,
            (_, twice) => twice,
        })
        .sum();
    !ds.is_empty() && sum % 10 == 0
}

/// The longest prefix, cut where a digit group ends, whose digits pass `ok`.
fn longest_prefix(s: &str, ok: impl Fn(&str) -> bool) -> Option<usize> {
    let mut ends: Vec<usize> = s
        .char_indices()
        .filter(|(_, c)| *c == ' ' || *c == '-')
        .map(|(i, _)| i)
        .collect();
    ends.push(s.len());
    ends.into_iter().rev().find(|&end| ok(&s[..end]))
}

fn card(s: &str) -> Option<usize> {
    longest_prefix(s, |p| {
        let ds = digits(p);
        (13..=19).contains(&ds.len()) && luhn(&ds)
    })
}

fn ssn(s: &str) -> Option<usize> {
    let d = digits(s);
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let ok = area != 0 && area != 666 && area < 900 && d[3..5] != [0, 0] && d[5..] != [0, 0, 0, 0];
    ok.then_some(s.len())
}

fn sin(s: &str) -> Option<usize> {
    luhn(&digits(s)).then_some(s.len())
}

fn ipv4(s: &str) -> Option<usize> {
    s.split('.')
        .all(|o| o.parse::<u8>().is_ok())
        .then_some(s.len())
}

fn ipv6(s: &str) -> Option<usize> {
    s.parse::<std::net::Ipv6Addr>().is_ok().then_some(s.len())
}

fn mac(s: &str) -> Option<usize> {
    let seps: Vec<char> = s.chars().filter(|c| *c == ':' || *c == '-').collect();
    seps.windows(2).all(|w| w[0] == w[1]).then_some(s.len())
}

fn url(s: &str) -> Option<usize> {
    let kept = s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"']);
    (kept.len() > "www.".len()).then_some(kept.len())
}

fn phone(s: &str) -> Option<usize> {
    (8..=15).contains(&digits(s).len()).then_some(s.len())
}

fn secret_key(s: &str) -> Option<usize> {
    let has = |f: fn(&char) -> bool| s.chars().any(|c| f(&c));
    (has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && has(char::is_ascii_digit))
        .then_some(s.len())
}

fn routing(s: &str) -> Option<usize> {
    let d = digits(s);
    let prefix = d[0] * 10 + d[1];
    let known = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    (known && sum % 10 == 0).then_some(s.len())
}

fn iban(s: &str) -> Option<usize> {
    longest_prefix(s, |p| {
        let compact: String = p.chars().filter(|c| !c.is_whitespace()).collect();
        if !(15..=34).contains(&compact.len()) {
            return false;
        }
        let rearranged = compact[4..].chars().chain(compact[..4].chars());
        let mut rem: u32 = 0;
        for c in rearranged {
            let Some(v) = c.to_digit(36) else {
                return false;
            };
            let (width, v) = if v < 10 { (10, v) } else { (100, v) };
            rem = (rem * width + v) % 97;
        }
        rem == 1
    })
}

fn swift_with_digit(s: &str) -> Option<usize> {
    s[6..]
        .chars()
        .any(|c| c.is_ascii_digit())
        .then_some(s.len())
}

fn vin(s: &str) -> Option<usize> {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: char| match c {
        '0'..='9' => c.to_digit(10),
        'A' | 'J' => Some(1),
        'B' | 'K' | 'S' => Some(2),
        'C' | 'L' | 'T' => Some(3),
        'D' | 'M' | 'U' => Some(4),
        'E' | 'N' | 'V' => Some(5),
        'F' | 'W' => Some(6),
        'G' | 'P' | 'X' => Some(7),
        'H' | 'Y' => Some(8),
        'R' | 'Z' => Some(9),
        _ => None,
    };
    let chars: Vec<char> = s.chars().collect();
    if !chars.iter().any(char::is_ascii_alphabetic) || !chars.iter().any(char::is_ascii_digit) {
        return None;
    }
    let mut sum = 0;
    for (c, w) in chars.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let check = match sum % 11 {
        10 => 'X',
        n => char::from_digit(n, 10)?,
    };
    (chars[8] == check).then_some(s.len())
}

fn nino(s: &str) -> Option<usize> {
    let prefix: String = s.chars().take(2).collect();
    (!["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(&prefix.as_str())).then_some(s.len())
}

fn nhs(s: &str) -> Option<usize> {
    let d = digits(s);
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        n => n,
    };
    (d[9] == check).then_some(s.len())
}

fn has_digit(s: &str) -> Option<usize> {
    s.chars().any(|c| c.is_ascii_digit()).then_some(s.len())
}

fn plate(s: &str) -> Option<usize> {
    let n = s.chars().filter(char::is_ascii_alphanumeric).count();
    ((5..=8).contains(&n) && has_digit(s).is_some()).then_some(s.len())
}

/// Every detector, keyword-anchored ones first (they win a tie over the bare patterns).
#[rustfmt::skip]
static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    // The patterns are constants and a unit test compiles each: none is ever left out.
    let d = |kind, pattern: &str, check| {
        Regex::new(pattern).ok().map(|regex| Detector { kind, regex, check })
    };
    [
        d("US_PASSPORT_NUMBER", &keyed(r"passport(?:\s+(?:number|num|no\.?))?", r"[A-Z0-9]{6,9}", false), has_digit),
        d("UK_NATIONAL_HEALTH_SERVICE_NUMBER", &keyed(r"nhs(?:\s+(?:number|no\.?))?", r"\d{3}[ -]?\d{3}[ -]?\d{4}", false), nhs),
        d("CA_HEALTH_NUMBER", &keyed(r"(?:health\s+card|health\s+number|ohip)(?:\s+(?:number|no\.?))?", r"\d{4}[ -]?\d{3}[ -]?\d{3}(?:[ -]?[A-Z]{2})?", false), all),
        d("UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", &keyed(r"(?:utr|unique\s+taxpayer\s+reference)(?:\s+(?:number|no\.?))?", r"\d{5} ?\d{5}", false), all),
        d("US_BANK_ACCOUNT_NUMBER", &keyed(r"(?:bank\s+)?account\s+(?:number|num|no\.?|#)", r"\d{8,17}", false), all),
        d("DRIVER_ID", &keyed(r"(?:driver'?s?\s+licen[cs]e|driving\s+licen[cs]e|driver\s+id)(?:\s+(?:number|no\.?|#))?", r"[A-Z0-9][A-Z0-9-]{4,19}", false), has_digit),
        d("LICENSE_PLATE", &keyed(r"(?:licen[cs]e|number|registration)\s+plate(?:\s+(?:number|no\.?))?", r"[A-Z0-9]{2,4}[ -]?[A-Z0-9]{2,4}", false), plate),
        d("CREDIT_DEBIT_CARD_CVV", &keyed(r"cvv2?|cvc2?|cid|(?:card\s+)?security\s+code", r"\d{3,4}", false), all),
        d("CREDIT_DEBIT_CARD_EXPIRY", &keyed(r"exp(?:iry|iration)?(?:\s+date)?|expires|valid\s+(?:thru|through|until)", r"(?:0[1-9]|1[0-2]) ?/ ?(?:\d{4}|\d{2})", false), all),
        d("PIN", &keyed(r"pin(?:\s+(?:code|number))?", r"\d{4,6}", false), all),
        d("USERNAME", &keyed(r"user\s*name|user\s*id|login", r"[A-Za-z0-9._@-]{3,64}", true), all),
        d("PASSWORD", &keyed(r"password|passwd|pwd|passcode", r"[^\s]{4,128}", true), all),
        d("AGE", r"(?i)\b\d{1,3}[ -]years?[ -]old\b", all),
        d("AGE", &keyed(r"age|aged", r"\d{1,3}", false), all),
        d("SWIFT_CODE", &keyed(r"swift|bic|swift\s+code|bic\s+code", r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?", false), all),
        d("EMAIL", r"\b[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b", all),
        d("URL", r#"(?i)\b(?:https?://|www\.)[^\s<>"']+"#, url),
        d("IP_ADDRESS", r"\b(?:\d{1,3}\.){3}\d{1,3}\b", ipv4),
        d("IP_ADDRESS", r"(?i)\b(?:[0-9a-f]{1,4}:){1,7}(?:(?::[0-9a-f]{1,4}){1,7}|[0-9a-f]{1,4}|:)", ipv6),
        d("MAC_ADDRESS", r"(?i)\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b", mac),
        d("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b", all),
        d("AWS_SECRET_KEY", r"(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])", secret_key),
        d("CREDIT_DEBIT_CARD_NUMBER", r"\b\d(?:[ -]?\d){12,18}\b", card),
        d("US_SOCIAL_SECURITY_NUMBER", r"\b\d{3}[- ]\d{2}[- ]\d{4}\b", ssn),
        d("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", r"\b9\d{2}[- ](?:5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])[- ]\d{4}\b", all),
        d("CA_SOCIAL_INSURANCE_NUMBER", r"\b\d{3}[- ]\d{3}[- ]\d{3}\b", sin),
        d("PHONE", r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\b|(?:\b1[ .-])?(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b", phone),
        d("US_BANK_ROUTING_NUMBER", r"\b\d{9}\b", routing),
        d("INTERNATIONAL_BANK_ACCOUNT_NUMBER", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", iban),
        d("SWIFT_CODE", r"\b[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b", swift_with_digit),
        d("VEHICLE_IDENTIFICATION_NUMBER", r"\b[A-HJ-NPR-Z0-9]{17}\b", vin),
        d("UK_NATIONAL_INSURANCE_NUMBER", r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", nino),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// How many detectors [`DETECTORS`] lists (the unit test checks that all compiled).
#[cfg(test)]
const DETECTOR_COUNT: usize = 32;

/// The PII types awsim detects (the others are accepted in a guardrail and never found).
#[cfg(test)]
pub fn detected_types() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = DETECTORS.iter().map(|d| d.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Every detection of the `kinds` asked for in `text`, in text order (ties: the detector listed
/// first). Detections of different types may overlap; the masker resolves that.
pub fn find(text: &str, kinds: &[&str]) -> Vec<Found> {
    let mut out = Vec::new();
    for d in DETECTORS.iter().filter(|d| kinds.contains(&d.kind)) {
        for caps in d.regex.captures_iter(text) {
            let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                continue;
            };
            if let Some(len) = (d.check)(m.as_str()) {
                if len > 0 {
                    out.push(Found {
                        kind: d.kind,
                        span: m.start()..m.start() + len,
                    });
                }
            }
        }
    }
    out.sort_by_key(|f| f.span.start);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_in(text: &str) -> Vec<(&'static str, String)> {
        find(text, &detected_types())
            .into_iter()
            .map(|f| (f.kind, text[f.span].to_string()))
            .collect()
    }

    fn one(kind: &'static str, text: &str, expected: &str) {
        let found = kinds_in(text);
        assert!(
            found.iter().any(|(k, m)| *k == kind && m == expected),
            "{kind} not found as {expected:?} in {text:?}: {found:?}"
        );
    }

    #[test]
    fn readme_has_a_rule_for_every_pii_type() {
        let readme = include_str!("../../README.md");
        for kind in crate::management::PII_TYPES {
            let listed = readme.lines().any(|l| {
                let first = l.trim_start().split(" | ").next().unwrap_or_default();
                l.trim_start().starts_with("| `") && first.contains(&format!("`{kind}`"))
            });
            assert!(listed, "{kind}");
        }
    }

    #[test]
    fn every_detector_compiles() {
        assert_eq!(DETECTORS.len(), DETECTOR_COUNT);
    }

    #[test]
    fn each_type_is_found_by_its_rule() {
        one(
            "EMAIL",
            "Write to jane.doe@example.com today.",
            "jane.doe@example.com",
        );
        one("PHONE", "Call (555) 123-4567 now", "(555) 123-4567");
        one("PHONE", "Call +44 20 7946 0958.", "+44 20 7946 0958");
        one(
            "US_SOCIAL_SECURITY_NUMBER",
            "SSN 123-45-6789",
            "123-45-6789",
        );
        one(
            "CREDIT_DEBIT_CARD_NUMBER",
            "card 4111 1111 1111 1111 123",
            "4111 1111 1111 1111",
        );
        one("IP_ADDRESS", "from 198.51.100.7.", "198.51.100.7");
        one("IP_ADDRESS", "host 2001:db8::1 up", "2001:db8::1");
        one("MAC_ADDRESS", "nic 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E");
        one(
            "URL",
            "see https://example.com/a?b=1).",
            "https://example.com/a?b=1",
        );
        one("URL", "or www.example.com.", "www.example.com");
        one(
            "AWS_ACCESS_KEY",
            "key AKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLE",
        );
        one(
            "AWS_SECRET_KEY",
            "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
        one("US_BANK_ROUTING_NUMBER", "routing 011000015", "011000015");
        one(
            "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
            "IBAN DE89 3704 0044 0532 0130 00 THANKS",
            "DE89 3704 0044 0532 0130 00",
        );
        one("SWIFT_CODE", "SWIFT: DEUTDEFF", "DEUTDEFF");
        one("SWIFT_CODE", "use BOFAUS3N", "BOFAUS3N");
        one(
            "US_PASSPORT_NUMBER",
            "passport number is 340020013",
            "340020013",
        );
        one(
            "VEHICLE_IDENTIFICATION_NUMBER",
            "VIN 1M8GDM9AXKP042788",
            "1M8GDM9AXKP042788",
        );
        one(
            "UK_NATIONAL_INSURANCE_NUMBER",
            "NI AB 12 34 56 C",
            "AB 12 34 56 C",
        );
        one(
            "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
            "NHS number 943 476 5919",
            "943 476 5919",
        );
        one(
            "CA_SOCIAL_INSURANCE_NUMBER",
            "SIN 046-454-286",
            "046-454-286",
        );
        one(
            "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
            "ITIN 912-78-1234",
            "912-78-1234",
        );
        one("CREDIT_DEBIT_CARD_CVV", "CVV 123", "123");
        one("CREDIT_DEBIT_CARD_EXPIRY", "expires 01/28", "01/28");
        one("PIN", "my PIN is 4821", "4821");
        one("PASSWORD", "password: hunter22", "hunter22");
        one("USERNAME", "username is jdoe", "jdoe");
        one("AGE", "she is 40 years old", "40 years old");
        one(
            "US_BANK_ACCOUNT_NUMBER",
            "account number 1234561666",
            "1234561666",
        );
        one("DRIVER_ID", "driver's license D1234567", "D1234567");
        one("LICENSE_PLATE", "license plate 7ABC123", "7ABC123");
        one(
            "CA_HEALTH_NUMBER",
            "health card number 1234-567-890",
            "1234-567-890",
        );
        one(
            "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
            "UTR 12345 67890",
            "12345 67890",
        );
    }

    #[test]
    fn near_misses_are_not_found() {
        for text in [
            "Call 555 1234",                     // too few digits
            "card 4111 1111 1111 1112",          // fails Luhn
            "SSN 000-12-3456 or 666-12-3456",    // invalid areas
            "version 1.2.300.4",                 // octet over 255
            "10:30:00 and 00:1A:2B-3C:4D:5E",    // a time, mixed MAC separators
            "BUSINESS HEADLINE",                 // capitals without a digit
            "my passport is at home",            // no number
            "login using your password",         // no value after a keyword
            "Jane Smith lives at 1 Main Street", // names and addresses are never detected
        ] {
            assert_eq!(kinds_in(text), [], "{text}");
        }
    }
}
