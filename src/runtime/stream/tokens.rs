//! Token counting for canned answers and CountTokens: a word-piece approximation that is stable and
//! consistent — a canned answer is streamed exactly one counted token per delta.

use super::request::{Block, ChatRequest, DocumentSource, ToolResultContent};

/// The text's pieces, as text: concatenated, they give back the text.
#[cfg(test)]
fn split(text: &str) -> impl Iterator<Item = &str> {
    spans(text).map(move |r| &text[r])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Space,
    Mark,
}

/// The class of each ASCII byte, looked up rather than tested: canned answers and most prompts are
/// ASCII, and every request's input and answer are counted.
const ASCII_CLASS: [Class; 128] = {
    let mut table = [Class::Mark; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            table[b] = Class::Word;
        } else if c.is_ascii_whitespace() {
            table[b] = Class::Space;
        }
        b += 1;
    }
    table
};

/// The class of the char at byte `i` of `text` (a char boundary) and its length in bytes.
#[inline(always)]
fn class_at(text: &str, i: usize) -> (Class, usize) {
    match text.as_bytes()[i] {
        b if b.is_ascii() => (ASCII_CLASS[usize::from(b)], 1),
        _ => text[i..].chars().next().map_or((Class::Mark, 1), |c| {
            let class = if c.is_alphanumeric() {
                Class::Word
            } else if c.is_whitespace() {
                Class::Space
            } else {
                Class::Mark
            };
            (class, c.len_utf8())
        }),
    }
}

/// Splits text into pieces: optional leading whitespace, then a run of letters/digits or one other
/// character. The byte ranges tile the text, on char boundaries.
fn spans(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let len = text.len();
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= len {
            return None;
        }
        let start = at;
        while at < len {
            let (class, n) = class_at(text, at);
            if class != Class::Space {
                break;
            }
            at += n;
        }
        if at < len {
            let (class, n) = class_at(text, at);
            at += n;
            if class == Class::Word {
                while at < len {
                    let (class, n) = class_at(text, at);
                    if class != Class::Word {
                        break;
                    }
                    at += n;
                }
            }
        }
        Some(start..at)
    })
}

/// Whether a piece of [`spans`] is whitespace only (the text's trailing whitespace). A piece is its
/// leading whitespace then one word or mark, so its last char decides: no scan of the whole piece.
/// Whitespace is judged as [`spans`] judges it: ASCII by `is_ascii_whitespace` (so a vertical tab
/// is a mark, a token of its own), the rest by Unicode.
fn is_blank(piece: &str) -> bool {
    piece.chars().next_back().is_none_or(|c| {
        if c.is_ascii() {
            c.is_ascii_whitespace()
        } else {
            c.is_whitespace()
        }
    })
}

pub fn count(text: &str) -> u32 {
    cut(text, u32::MAX).tokens
}

/// The first `budget` tokens of a text: how many there are, where the last of them ends, and
/// whether more follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub tokens: u32,
    pub end: usize,
    pub more: bool,
}

/// The byte ranges of the tokens: [`spans`] without the blank piece trailing whitespace makes.
pub fn pieces(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    spans(text).filter(move |span| !is_blank(&text[span.clone()]))
}

/// The first `budget` tokens, counted.
pub fn cut(text: &str, budget: u32) -> Cut {
    let mut out = Cut {
        tokens: 0,
        end: 0,
        more: false,
    };
    for span in pieces(text) {
        if out.tokens == budget {
            out.more = true;
            break;
        }
        out.tokens += 1;
        out.end = span.end;
    }
    out
}

/// Input tokens of a whole request: system, every block, tool definitions, plus a few per message
/// for the chat template, as real models bill.
pub fn input_tokens(request: &ChatRequest) -> u32 {
    let mut total: u32 = request.system.iter().map(|s| count(s)).sum();
    for message in &request.messages {
        total = total.saturating_add(3);
        for block in &message.content {
            total = total.saturating_add(block_tokens(block));
        }
    }
    for tool in &request.tools {
        total = total
            .saturating_add(count(&tool.name))
            .saturating_add(tool.description.as_deref().map_or(0, count))
            .saturating_add(count(&tool.schema.to_string()));
    }
    total.max(1)
}

fn block_tokens(block: &Block) -> u32 {
    match block {
        Block::Text(t) => count(t),
        // Images bill by size on real models; a fixed figure keeps canned usage predictable.
        Block::Image { .. } => 256,
        Block::Document { name, source, .. } => {
            count(name)
                + match source {
                    DocumentSource::Text(t) => count(t),
                    DocumentSource::Bytes(b) => u32::try_from(b.len() / 8).unwrap_or(u32::MAX),
                }
        }
        Block::ToolUse { name, input, .. } => count(name) + count(&input.to_string()),
        Block::ToolResult { content, .. } => content
            .iter()
            .map(|c| match c {
                ToolResultContent::Text(t) => count(t),
                ToolResultContent::Json(v) => count(&v.to_string()),
                ToolResultContent::Image { .. } => 256,
            })
            .sum(),
        Block::Reasoning { text, .. } => count(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trailing_whitespace_is_a_blank_piece() {
        for text in [
            "Hello, world!  \n",
            "héllo wörld\u{3000}",
            "a b\t",
            "",
            "   ",
        ] {
            let blank: Vec<&str> = split(text).filter(|p| is_blank(p)).collect();
            let trimmed: Vec<&str> = split(text).filter(|p| p.trim().is_empty()).collect();
            assert_eq!(blank, trimmed, "{text:?}");
        }
        // A vertical tab is a mark to the splitter, so it is a token, never dropped as blank:
        // the emitted tokens always rebuild the text.
        let pieces: Vec<&str> = split("a\x0b b").filter(|p| !is_blank(p)).collect();
        assert_eq!(pieces, ["a", "\x0b", " b"]);
    }

    #[test]
    fn cut_counts_and_ends_where_the_pieces_do() {
        for text in [
            "Hello, world! It's  2026.  ",
            "a\tb\r\nc\x0b d\x0c(e)",
            "__init__ x=1;y+=2 \"q\" ~`@#$%^&*",
            "héllo wörld\u{3000}日本語 テキスト…",
            "",
            "   ",
        ] {
            let pieces: Vec<&str> = split(text).filter(|p| !is_blank(p)).collect();
            let budgets = (0..=pieces.len() as u32 + 1).chain([text.len() as u32, u32::MAX]);
            for budget in budgets {
                let taken = &pieces[..pieces.len().min(budget as usize)];
                let want = Cut {
                    tokens: taken.len() as u32,
                    end: taken.last().map_or(0, |last| {
                        last.as_ptr() as usize - text.as_ptr() as usize + last.len()
                    }),
                    more: pieces.len() > taken.len(),
                };
                assert_eq!(cut(text, budget), want, "{text:?} budget {budget}");
            }
        }
    }

    #[test]
    fn pieces_rebuild_the_text_and_count_words_and_marks() {
        let text = "Hello, world! It's  2026.";
        let pieces: Vec<&str> = split(text).collect();
        assert_eq!(pieces.concat(), text);
        assert_eq!(
            pieces,
            ["Hello", ",", " world", "!", " It", "'", "s", "  2026", "."]
        );
        assert_eq!(count(text), 9);
        assert_eq!(count("   "), 0);
        assert_eq!(count("日本語 テキスト"), 2);
    }
}
