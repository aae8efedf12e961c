//! Byte-level scanning that runs before parsing (cheap, never fails).

/// The deepest nesting found and where it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nesting {
    pub depth: usize,
    /// Byte offset of the token that reached `depth`.
    pub at: usize,
}

/// Measures how deep brackets and runs of prefix operators (`!`, `-`, `*`, `&`) nest,
/// outside comments, strings and char literals. The parser recurses once per level, so
/// a file far beyond any human-written depth is refused before it can exhaust the stack.
pub fn max_nesting(text: &str) -> Nesting {
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut run = 0usize;
    let mut best = Nesting { depth: 0, at: 0 };
    while i < b.len() {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i);
                continue;
            }
            b'"' => {
                i = skip_string(b, i + 1);
                continue;
            }
            b'r' | b'b' | b'c' if is_raw_string_start(b, i) => {
                i = skip_raw_string(b, i);
                continue;
            }
            b'\'' => {
                i = skip_char_or_lifetime(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                run = 0;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                run = 0;
            }
            b'!' | b'-' | b'*' | b'&' => run += 1,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => run = 0,
        }
        if depth + run > best.depth {
            best = Nesting { depth: depth + run, at: i };
        }
        i += 1;
    }
    best
}

// Comments and strings are skipped with the outline lexer's primitives; an unterminated
// one runs to the end of the text.
fn skip_block_comment(b: &[u8], i: usize) -> usize {
    crate::outline::block_comment_end(b, i).unwrap_or(b.len())
}

fn skip_string(b: &[u8], i: usize) -> usize {
    crate::outline::string_end(b, i).unwrap_or(b.len())
}

fn is_raw_string_start(b: &[u8], i: usize) -> bool {
    // An identifier character before means this is inside an identifier.
    let inside_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    !inside_ident && crate::outline::raw_or_prefixed_string(b, i)
}

fn skip_raw_string(b: &[u8], i: usize) -> usize {
    crate::outline::prefixed_string_end(b, i).unwrap_or(b.len())
}

fn skip_char_or_lifetime(b: &[u8], i: usize) -> usize {
    // 'x' or '\n' or '\u{..}' are chars; 'a (no closing quote soon) is a lifetime.
    if b.get(i + 1) == Some(&b'\\') {
        let mut j = i + 2;
        while j < b.len() && j < i + 12 {
            if b[j] == b'\'' {
                return j + 1;
            }
            j += 1;
        }
        return i + 1;
    }
    // A char is one UTF-8 scalar followed by a quote.
    let mut j = i + 1;
    if j < b.len() {
        j += 1;
        while j < b.len() && (b[j] & 0xC0) == 0x80 {
            j += 1;
        }
        if b.get(j) == Some(&b'\'') {
            return j + 1;
        }
    }
    i + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_outside_comments_and_strings() {
        assert_eq!(max_nesting("fn a() { (1) }").depth, 2);
        assert_eq!(max_nesting("// ((((((((\nfn a() {}").depth, 1);
        assert_eq!(max_nesting("/* ((( /* ((( */ ((( */ fn a() {}").depth, 1);
        assert_eq!(max_nesting(r#"const S: &str = "((((\"(((";"#).depth, 1);
        assert_eq!(max_nesting(r##"const S: &str = r#"(((("#;"##).depth, 1);
        assert_eq!(max_nesting("fn f<'a>(x: &'a str) -> char { '(' }").depth, 2);
    }

    #[test]
    fn counts_prefix_operator_runs() {
        let deep = format!("fn a() {{ let x = {}1; }}", "-".repeat(1000));
        assert!(max_nesting(&deep).depth >= 1000);
        // A separator line in a comment is not nesting.
        assert_eq!(max_nesting(&format!("// {}\nfn a() {{}}", "-".repeat(100))).depth, 1);
    }
}
