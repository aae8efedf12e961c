//! Identifier word segments, and the cancellation vocabulary built on them.

/// Words that name a stop request when they appear as a whole word segment of a
/// binding, field or method name (`shutdown_rx`, `stopSignal`), never as a substring
/// (`determine`, `stopwatch`).
pub const CANCEL_WORDS: &[&str] = &[
    "shutdown",
    "cancel",
    "cancelled",
    "canceled",
    "stop",
    "quit",
    "exit",
    "term",
    "terminate",
    "close",
    "closed",
    "done",
    "kill",
    "halt",
    "signal",
    "sig",
    "graceful",
    "drain",
];

/// Splits an identifier into lowercase words at `_` and camelCase boundaries.
pub fn segments(ident: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in ident.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let boundary = i > 0
                && c.is_uppercase()
                && (chars[i - 1].is_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(|n| n.is_lowercase()) && chars[i - 1].is_uppercase());
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Whether `ident` has a cancellation word segment (built-in or user-added words).
pub fn has_cancel_word(ident: &str, extra: &[String]) -> bool {
    segments(ident).iter().any(|s| CANCEL_WORDS.contains(&s.as_str()) || extra.iter().any(|e| e == s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_snake_and_camel_case() {
        assert_eq!(segments("shutdown_rx"), ["shutdown", "rx"]);
        assert_eq!(segments("stopSignal"), ["stop", "signal"]);
        assert_eq!(segments("HTTPServerStop"), ["http", "server", "stop"]);
        assert_eq!(segments("_guard"), ["guard"]);
    }

    #[test]
    fn matches_whole_words_only() {
        assert!(has_cancel_word("shutdown_rx", &[]));
        assert!(has_cancel_word("sig", &[]));
        assert!(has_cancel_word("isCancelled", &[]));
        assert!(has_cancel_word("graceful", &[]));
        assert!(!has_cancel_word("determine", &[]));
        assert!(!has_cancel_word("stopwatch", &[]));
        assert!(!has_cancel_word("signature", &[]));
        assert!(has_cancel_word("reload_trigger", &["trigger".to_string()]));
    }
}
