//! Text helpers for listings: order-preserving JSON re-indentation, escaping, hex, timestamps.

use std::fmt::{self, Write};

/// Writes `src`, which must be valid JSON, indented two spaces per level like
/// `serde_json::to_string_pretty`, keeping key order and number spelling as on the wire.
/// Every line starts with `indent`.
pub(crate) fn json(out: &mut impl Write, src: &str, indent: &str) -> fmt::Result {
    let mut level = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut just_opened = false;
    out.write_str(indent)?;
    for c in src.chars() {
        if in_string {
            out.write_char(c)?;
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if just_opened {
            just_opened = false;
            if c == '}' || c == ']' {
                level = level.saturating_sub(1);
                out.write_char(c)?;
                continue;
            }
            newline(out, indent, level)?;
        }
        match c {
            '{' | '[' => {
                out.write_char(c)?;
                level += 1;
                just_opened = true;
            }
            '}' | ']' => {
                level = level.saturating_sub(1);
                newline(out, indent, level)?;
                out.write_char(c)?;
            }
            ',' => {
                out.write_char(',')?;
                newline(out, indent, level)?;
            }
            ':' => out.write_str(": ")?,
            '"' => {
                in_string = true;
                out.write_char('"')?;
            }
            other => out.write_char(other)?,
        }
    }
    out.write_char('\n')
}

fn newline(out: &mut impl Write, indent: &str, level: usize) -> fmt::Result {
    out.write_char('\n')?;
    out.write_str(indent)?;
    for _ in 0..level {
        out.write_str("  ")?;
    }
    Ok(())
}

/// Writes `text` with backslashes, quotes and control characters escaped, Rust style.
pub(crate) fn escaped(out: &mut impl Write, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            '\\' => out.write_str("\\\\")?,
            '"' => out.write_str("\\\"")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if c.is_control() => write!(out, "\\u{{{:x}}}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// Writes `bytes` as lowercase hex without separators.
pub(crate) fn hex(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|byte| write!(out, "{byte:02x}"))
}

/// Writes a hex dump, 16 bytes a line: offset, hex bytes, printable ASCII.
pub(crate) fn hex_dump(out: &mut impl Write, bytes: &[u8], indent: &str) -> fmt::Result {
    for (line, chunk) in bytes.chunks(16).enumerate() {
        write!(out, "{indent}{:08x} ", line * 16)?;
        for i in 0..16 {
            match chunk.get(i) {
                Some(byte) => write!(out, " {byte:02x}")?,
                None => out.write_str("   ")?,
            }
        }
        out.write_str("  |")?;
        for &byte in chunk {
            let shown = if byte.is_ascii_graphic() || byte == b' ' {
                char::from(byte)
            } else {
                '.'
            };
            out.write_char(shown)?;
        }
        out.write_str("|\n")?;
    }
    Ok(())
}

/// Writes a UUID in 8-4-4-4-12 form.
pub(crate) fn uuid(out: &mut impl Write, value: u128) -> fmt::Result {
    let bytes = value.to_be_bytes();
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.write_char('-')?;
        }
        write!(out, "{byte:02x}")?;
    }
    Ok(())
}

/// Writes epoch milliseconds as `<millis>ms (<RFC 3339 UTC>)`.
pub(crate) fn timestamp(out: &mut impl Write, millis: i64) -> fmt::Result {
    const MS_PER_DAY: i64 = 86_400_000;
    let days = millis.div_euclid(MS_PER_DAY);
    let ms_of_day = millis.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (secs, ms) = (ms_of_day / 1000, ms_of_day % 1000);
    write!(
        out,
        "{millis}ms ({year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z)",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: impl FnOnce(&mut String) -> fmt::Result) -> String {
        let mut out = String::new();
        f(&mut out).unwrap();
        out
    }

    #[test]
    fn json_matches_serde_pretty_and_keeps_order() {
        let src = r#" {"z":1,"a":[1, 2.50,{}],"e":[],"s":"x\"{,}:[ ]","n":{"k":null}} "#;
        let ours = run(|out| json(out, src, ""));
        let expected = "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    2.50,\n    {}\n  ],\n  \"e\": [],\n  \"s\": \"x\\\"{,}:[ ]\",\n  \"n\": {\n    \"k\": null\n  }\n}\n";
        assert_eq!(ours, expected);
        let value: serde_json::Value =
            serde_json::from_str(r#"{"b":{"c":[true,false]},"d":"é"}"#).unwrap();
        let serde = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(run(|out| json(out, &value.to_string(), "")), serde + "\n");
    }

    #[test]
    fn json_indents_every_line() {
        assert_eq!(run(|out| json(out, "[1]", ">>")), ">>[\n>>  1\n>>]\n");
        assert_eq!(run(|out| json(out, "7", ">>")), ">>7\n");
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(
            run(|out| timestamp(out, 0)),
            "0ms (1970-01-01T00:00:00.000Z)"
        );
        assert_eq!(
            run(|out| timestamp(out, 5_000_000_000)),
            "5000000000ms (1970-02-27T20:53:20.000Z)"
        );
        assert_eq!(
            run(|out| timestamp(out, 1_709_251_199_999)),
            "1709251199999ms (2024-02-29T23:59:59.999Z)"
        );
        assert_eq!(
            run(|out| timestamp(out, -1)),
            "-1ms (1969-12-31T23:59:59.999Z)"
        );
        // The extremes must not overflow.
        run(|out| timestamp(out, i64::MIN));
        run(|out| timestamp(out, i64::MAX));
    }

    #[test]
    fn uuids_and_escapes() {
        let id = 0xb79bc914_de21_4e13_b8b2_bc47e85b7f0b_u128;
        assert_eq!(
            run(|out| uuid(out, id)),
            "b79bc914-de21-4e13-b8b2-bc47e85b7f0b"
        );
        assert_eq!(
            run(|out| escaped(out, "a\"b\\c\nd\u{1}")),
            "a\\\"b\\\\c\\nd\\u{1}"
        );
    }

    #[test]
    fn hex_dump_pads_the_last_line() {
        let dump = run(|out| hex_dump(out, b"0123456789abcdef\x00!", "  "));
        assert_eq!(
            dump,
            "  00000000  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  |0123456789abcdef|\n  \
             00000010  00 21                                            |.!|\n"
        );
    }
}
