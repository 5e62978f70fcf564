//! Text as go writes it in its debugging output: strings quoted with Go's `%q`.

/// A string as Go's `%q` wrote it, without its quotes: `\n`, `\t`, `\\`, `\"`, `\xNN`, `\uNNNN` and the rest of
/// strconv.Quote's escapes.
pub fn go_unquote(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<char> {
            let digits: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32)
        };
        let unescaped = match chars.next() {
            Some('n') => Some('\n'),
            Some('t') => Some('\t'),
            Some('r') => Some('\r'),
            Some('a') => Some('\u{7}'),
            Some('b') => Some('\u{8}'),
            Some('f') => Some('\u{c}'),
            Some('v') => Some('\u{b}'),
            Some('x') => hex(&mut chars, 2),
            Some('u') => hex(&mut chars, 4),
            Some('U') => hex(&mut chars, 8),
            other => other,
        };
        out.extend(unescaped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quoted_strings_unquote() {
        assert_eq!(go_unquote(r#"compile \"-N\" \"\"\n"#), "compile \"-N\" \"\"\n");
        assert_eq!(go_unquote(r"tab\there \x41\u00e9 back\\slash"), "tab\there Aé back\\slash");
    }
}
