//! Text a plugin wrote — findings, metadata, log lines, what it printed — made safe to show before it leaves the
//! runtime. A plugin must not be able to move the cursor, clear the screen, colour the terminal, fake a line of
//! gohook's own output or fill a report: every control character is shown escaped (`\e`, `\r`, `\n`, `\u{202e}`),
//! never emitted, and each text is capped with a visible marker.

/// Caps, in bytes, per kind of text.
pub const MAX_RULE: usize = 128;
pub const MAX_MESSAGE: usize = 4096;
pub const MAX_HELP: usize = 1024;
pub const MAX_LINE: usize = 1024;
pub const MAX_NAME: usize = 256;

/// `text` with control, line-breaking and bidirectional-override characters escaped, cut to at most `max_bytes`
/// bytes (plus the marker `…[N more bytes]`).
pub fn clean(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes) + 16);
    for (at, c) in text.char_indices() {
        let escaped = escape(c);
        let piece_len = escaped.as_ref().map_or(c.len_utf8(), String::len);
        if out.len() + piece_len > max_bytes {
            out += &format!("…[{} more bytes]", text.len() - at);
            return out;
        }
        match escaped {
            Some(escaped) => out += &escaped,
            None => out.push(c),
        }
    }
    out
}

/// [`clean`] for an optional text.
pub fn clean_opt(text: Option<String>, max_bytes: usize) -> Option<String> {
    text.map(|t| clean(&t, max_bytes))
}

/// How a character that must not reach a terminal is shown; `None` for one that may.
fn escape(c: char) -> Option<String> {
    Some(match c {
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        '\x1b' => "\\e".to_owned(),
        '\\' => return None,
        c if c.is_control() || is_invisible_format(c) => format!("\\u{{{:x}}}", c as u32),
        _ => return None,
    })
}

/// Format characters that reorder or hide text on screen ("Trojan Source"): bidi embeddings, overrides and
/// isolates, zero-width characters, line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(clean("\x1b[2J\x1b[31mred\r\nnext\u{7}", 100), "\\e[2J\\e[31mred\\r\\nnext\\u{7}");
        assert_eq!(
            clean("tab\there \u{9b}c1 \u{202e}evil\u{2066}", 100),
            "tab\\there \\u{9b}c1 \\u{202e}evil\\u{2066}"
        );
        assert_eq!(clean("plain é 漢字 \\ ok", 100), "plain é 漢字 \\ ok");
    }

    #[test]
    fn long_text_is_cut_with_a_marker() {
        assert_eq!(clean(&"a".repeat(10), 4), "aaaa…[6 more bytes]");
        // Never inside a character or an escape.
        assert_eq!(clean("ééé", 3), "é…[4 more bytes]");
        assert_eq!(clean("ab\x1b", 3), "ab…[1 more bytes]");
        assert_eq!(clean("abc", 3), "abc");
    }
}
