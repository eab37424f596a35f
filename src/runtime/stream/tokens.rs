//! Token counting for canned answers and CountTokens: a word-piece approximation that is stable and
//! consistent — a canned answer is streamed exactly one counted token per delta.

use super::request::{Block, ChatRequest, DocumentSource, ToolResultContent};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Space,
    Mark,
    /// A byte of a multi-byte char: its class is the decoded char's.
    Wide,
}

/// The class of each byte, looked up rather than tested: canned answers and most prompts are
/// ASCII, and every request's input and answer are counted.
const BYTE_CLASS: [Class; 256] = {
    let mut table = [Class::Wide; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() {
            Class::Word
        } else if c.is_ascii_whitespace() {
            Class::Space
        } else {
            Class::Mark
        };
        b += 1;
    }
    table
};

/// The class of the char at byte `i` of `text` (a char boundary) and its length in bytes.
#[inline(always)]
fn class_at(text: &str, i: usize) -> (Class, usize) {
    match BYTE_CLASS[usize::from(text.as_bytes()[i])] {
        Class::Wide => text[i..].chars().next().map_or((Class::Mark, 1), |c| {
            let class = if c.is_alphanumeric() {
                Class::Word
            } else if c.is_whitespace() {
                Class::Space
            } else {
                Class::Mark
            };
            (class, c.len_utf8())
        }),
        ascii => (ascii, 1),
    }
}

/// The byte ranges of a text's tokens: each is optional leading whitespace, then a run of
/// letters/digits or one other character. They tile the text on char boundaries, except for
/// trailing whitespace, which is no token.
pub fn pieces(text: &str) -> Pieces<'_> {
    Pieces { text, at: 0 }
}

pub struct Pieces<'a> {
    text: &'a str,
    at: usize,
}

impl Pieces<'_> {
    /// The end of the run of `class` chars that starts at `at`.
    #[inline(always)]
    fn run_end(&self, mut at: usize, class: Class) -> usize {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(at) {
            match BYTE_CLASS[usize::from(b)] {
                c if c == class => at += 1,
                Class::Wide => match class_at(self.text, at) {
                    (c, n) if c == class => at += n,
                    _ => break,
                },
                _ => break,
            }
        }
        at
    }
}

impl Iterator for Pieces<'_> {
    type Item = std::ops::Range<usize>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let start = self.at;
        let mut at = self.run_end(start, Class::Space);
        if at >= self.text.len() {
            self.at = at;
            return None;
        }
        let (class, n) = class_at(self.text, at);
        at += n;
        if class == Class::Word {
            at = self.run_end(at, Class::Word);
        }
        self.at = at;
        Some(start..at)
    }
}

pub fn count(text: &str) -> u32 {
    u32::try_from(pieces(text).count()).unwrap_or(u32::MAX)
}

/// The first `budget` tokens of a text: how many there are, where the last of them ends, and
/// whether more follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub tokens: u32,
    pub end: usize,
    pub more: bool,
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

    /// The tokens as text.
    fn split(text: &str) -> Vec<&str> {
        pieces(text).map(|r| &text[r]).collect()
    }

    #[test]
    fn tokens_rebuild_the_text_but_its_trailing_whitespace() {
        for text in [
            "Hello, world!  \n",
            "héllo wörld\u{3000}",
            "a b\t",
            "a\tb\r\nc\x0b d\x0c(e)",
            "",
            "   ",
        ] {
            let tokens = split(text).concat();
            assert_eq!(tokens, text.trim_end(), "{text:?}");
        }
        // A vertical tab is a mark to the splitter, so it is a token, never dropped as blank:
        // the emitted tokens always rebuild the text.
        assert_eq!(split("a\x0b b"), ["a", "\x0b", " b"]);
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
            let pieces = split(text);
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
        let pieces = split(text);
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
