//! Parsing a file without risking the stack: lex once, estimate how deep parsing and
//! the lints will recurse from the tokens alone, refuse files past the limit, and parse
//! the same tokens.

/// Why a file could not be parsed.
pub(crate) enum ParseFailure {
    Syntax(syn::Error),
    /// The text is not a sequence of Rust tokens; the lexer points at the culprit.
    Lex(proc_macro2::Span),
    /// [`recursion_estimate`] passed the limit at this token.
    TooDeep(proc_macro2::Span),
}

/// `syn::parse_file`, with a depth check between lexing and parsing.
///
/// `scan::max_nesting` bounds brackets and runs of prefix operators, but the parser and
/// the lints also recurse once per level of generic arguments (`Option<Option<..>>`),
/// pointer and reference types (`*const *const ..`, `&mut &mut ..`), `fn() -> fn() ->`,
/// closures (`|| || ..`), `return return ..`, and the trees of long left-nested chains
/// (`a.b().b()..`, `1 + 1 + ..`, `a?..`, `else if ..`). Any of these, some thousands
/// deep, overflowed the 64 MiB worker stack: the process aborted ("has overflowed its
/// stack"; `catch_unwind` cannot catch that) and no file was reported. The file is
/// lexed once here (iteratively, so lexing cannot overflow), measured, and the same
/// tokens are parsed.
pub(crate) fn parse_guarded(text: &str, max_nesting: usize) -> Result<syn::File, ParseFailure> {
    // What `syn::parse_file` does before lexing: drop a BOM and a shebang line (a `#!`
    // not followed by `[`, which would start an inner attribute). The newline after the
    // shebang is kept, so line numbers stay right.
    let mut content = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut shebang = None;
    if content.starts_with("#!") && !skip_whitespace_and_comments(&content[2..]).starts_with('[') {
        let end = content.find('\n').unwrap_or(content.len());
        shebang = Some(content[..end].to_string());
        content = &content[end..];
    }
    let tokens: proc_macro2::TokenStream =
        content.parse().map_err(|e: proc_macro2::LexError| ParseFailure::Lex(e.span()))?;
    if let Some(at) = recursion_estimate(&tokens, max_nesting) {
        return Err(ParseFailure::TooDeep(at));
    }
    let mut file: syn::File = syn::parse2(tokens).map_err(ParseFailure::Syntax)?;
    file.shebang = shebang;
    Ok(file)
}

/// What the lexer choked on, from the text at the position it reports. proc-macro2 only
/// says "cannot parse string into token stream", which does not tell a user what to fix.
pub(crate) fn lex_error_text(rest: &str) -> String {
    let is_string_start = |s: &str| s.trim_start_matches(['b', 'c', 'r']).trim_start_matches('#').starts_with('"');
    match rest.chars().next() {
        None => "unexpected end of file".into(),
        Some('/') if rest.starts_with("/*") => "unterminated block comment".into(),
        Some('"') => "unterminated string literal".into(),
        Some('b' | 'c' | 'r') if is_string_start(rest) => "unterminated string literal".into(),
        Some('\'') => "invalid character literal or lifetime".into(),
        Some(c @ ('(' | '[' | '{')) => format!("unclosed delimiter `{c}`"),
        Some(c @ (')' | ']' | '}')) => format!("unexpected closing delimiter `{c}`"),
        Some(c) if c.is_control() || c.is_whitespace() => {
            format!("unexpected character U+{:04X} (`{}`)", u32::from(c), c.escape_debug())
        }
        Some(c) => format!("unexpected character `{c}`"),
    }
}

/// syn's rule for "what follows `#!`": whitespace and non-doc comments are skipped.
fn skip_whitespace_and_comments(mut s: &str) -> &str {
    loop {
        let trimmed = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{200e}' || c == '\u{200f}');
        let is_doc = |s: &str, doc: &str, not_doc: &str| s.starts_with(doc) && !s.starts_with(not_doc);
        if trimmed.starts_with("//") && !is_doc(trimmed, "///", "////") && !trimmed.starts_with("//!") {
            match trimmed.find('\n') {
                Some(i) => s = &trimmed[i + 1..],
                None => return "",
            }
        } else if let Some(rest) = trimmed.strip_prefix("/**/") {
            s = rest;
        } else if trimmed.starts_with("/*") && !is_doc(trimmed, "/**", "/***") && !trimmed.starts_with("/*!") {
            let b = trimmed.as_bytes();
            let (mut depth, mut i) = (0usize, 0usize);
            loop {
                if i + 1 >= b.len() {
                    return trimmed;
                }
                if b[i] == b'/' && b[i + 1] == b'*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b[i + 1] == b'/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            s = &trimmed[i..];
        } else {
            return trimmed;
        }
    }
}

/// How deep parsing and analysing `tokens` may recurse, estimated from the tokens alone
/// and without recursion (an explicit stack of groups). Returns the first token at which
/// the estimate exceeds `limit`.
///
/// The estimate at a token is the sum, over the groups around it, of 1 per group plus
/// the cost of the current segment of that group (the tokens since the last `;`, `,`,
/// `=>` or block that ended a statement or item):
/// - one level per construct the parser recurses into: an unclosed `<`, `->`, a prefix
///   `&`/`*`/`-`/`!`/`..`, `@`, `return`/`break`/`yield`/`box`;
/// - a quarter level per closure (`|..|`, `||`): the parser's frames for them are smaller;
/// - a sixteenth of a level per link of a left-nested chain: a binary operator, `.`, `?`,
///   `as`, `=`, `if`, a call or index after an operand (`.f()` is one link). These are
///   parsed in a loop but build a tree as deep as the chain, which the lints walk
///   recursively.
///
/// In a debug build with the engine's 64 MiB stacks, generic arguments overflowed from
/// about 1,000 levels, closures from about 4,000 and chains from about 16,000 links.
/// Real code stays far below the default limit of 256: a 1,000-call builder chain costs
/// 63, and none of the 13,000 files of 420 crates.io crates (tokio, syn, serde, axum,
/// hyper, rustls, ...) comes near it.
fn recursion_estimate(tokens: &proc_macro2::TokenStream, limit: usize) -> Option<proc_macro2::Span> {
    use proc_macro2::{Delimiter, Spacing, TokenTree};

    struct Frame {
        tokens: proc_macro2::token_stream::IntoIter,
        /// The estimate just outside this group (the groups around it, and itself).
        base: usize,
        seg: Segment,
        /// Punctuation joined so far (`-` `>` arrive as two tokens).
        op: String,
        op_span: Option<proc_macro2::Span>,
    }
    let frame = |tokens: proc_macro2::TokenStream, base| Frame {
        tokens: tokens.into_iter(),
        base,
        seg: Segment::default(),
        op: String::new(),
        op_span: None,
    };

    let mut stack = vec![frame(tokens.clone(), 0)];
    while let Some(top) = stack.last_mut() {
        let Some(tt) = top.tokens.next() else {
            if let Some(span) = top.op_span.take() {
                if top.base + top.seg.operator(&top.op) > limit {
                    return Some(span);
                }
            }
            stack.pop();
            if let Some(outer) = stack.last_mut() {
                outer.seg.group_closed();
            }
            continue;
        };
        if let TokenTree::Punct(p) = &tt {
            if top.op.is_empty() {
                top.seg.next_token(Some(p.as_char()), false);
                top.op_span = Some(p.span());
            }
            top.op.push(p.as_char());
            if p.spacing() == Spacing::Joint {
                continue;
            }
        }
        if let Some(span) = top.op_span.take() {
            let peak = top.seg.operator(&top.op);
            top.op.clear();
            if top.base + peak > limit {
                return Some(span);
            }
        }
        let span = match &tt {
            TokenTree::Punct(_) => continue,
            TokenTree::Ident(id) => {
                top.seg.next_token(None, id == "else" || id == "as");
                top.seg.ident(id);
                id.span()
            }
            TokenTree::Literal(l) => {
                top.seg.next_token(None, false);
                top.seg.operand = true;
                top.seg.value_end = true;
                (top.seg.hash, top.seg.dot, top.seg.method) = (false, false, false);
                l.span()
            }
            TokenTree::Group(g) => {
                top.seg.next_token(None, false);
                top.seg.hash = false;
                if top.seg.operand && !top.seg.method && g.delimiter() != Delimiter::Brace {
                    // A call or an index: `f()()()`, `a[0][0]`.
                    top.seg.chain += 1;
                }
                top.seg.method = false;
                let base = top.base + top.seg.cost() + 1;
                if base > limit {
                    return Some(g.span_open());
                }
                top.seg.pending_brace = g.delimiter() == Delimiter::Brace;
                stack.push(frame(g.stream(), base));
                continue;
            }
        };
        if top.base + top.seg.cost() > limit {
            return Some(span);
        }
    }
    None
}

/// The running cost of one segment of a group in [`recursion_estimate`].
#[derive(Default)]
struct Segment {
    /// Full levels: constructs the parser recurses into.
    deep: usize,
    /// Unclosed `<`.
    angle: usize,
    /// Closures: a quarter level each.
    closures: usize,
    /// Links of left-nested chains: a sixteenth of a level each.
    chain: usize,
    /// The previous token ends an operand (so `-`, `&`, `|`, `(` after it are infix).
    operand: bool,
    /// The previous token ends a value that takes no generic arguments (a literal, `?`,
    /// a closed group): a `<` after it compares.
    value_end: bool,
    /// Inside `|..|` closure parameters, where `,` does not end the segment.
    closure_params: bool,
    /// The previous token is a lifetime's `'` (the ident after it is not a keyword).
    lifetime: bool,
    /// The previous token is `#`: a `!` after it starts an inner attribute (`//!` docs
    /// arrive as `#` `!` `[doc = ".."]`), not a negation.
    hash: bool,
    /// The previous token is `.`.
    dot: bool,
    /// The previous tokens are `.name`: arguments after them belong to the method call.
    method: bool,
    /// The group just closed was `{..}` inside this segment; set by `group_closed`.
    pending_brace: bool,
    after_brace: bool,
}

impl Segment {
    fn cost(&self) -> usize {
        self.deep + self.angle + (4 * self.closures + self.chain) / 16
    }

    fn reset(&mut self) {
        *self = Segment::default();
    }

    fn group_closed(&mut self) {
        self.operand = true;
        self.value_end = true;
        self.after_brace = std::mem::take(&mut self.pending_brace);
    }

    /// Called before each token: after a `{..}` block the segment goes on only when the
    /// block is an operand (`{..}.f()`, `{..} + x`, `} else if`, `{..} as T`); anything
    /// else starts a new statement or item.
    fn next_token(&mut self, punct: Option<char>, continues: bool) {
        if std::mem::take(&mut self.after_brace) {
            let infix =
                matches!(punct, Some('.' | '?' | '+' | '-' | '*' | '/' | '%' | '^' | '&' | '|' | '<' | '>' | '='));
            if !(infix || continues) {
                self.reset();
            }
        }
    }

    fn ident(&mut self, id: &proc_macro2::Ident) {
        self.value_end = false;
        self.hash = false;
        self.method = std::mem::take(&mut self.dot);
        if std::mem::take(&mut self.lifetime) {
            self.operand = true;
            return;
        }
        // The ident's text without allocating: every keyword of interest has at most
        // 6 bytes, so a longer ident is an operand.
        struct Short {
            buf: [u8; 6],
            len: usize,
        }
        impl std::fmt::Write for Short {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                let end = self.len + s.len();
                self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
        }
        let mut short = Short { buf: [0; 6], len: 0 };
        let text = match std::fmt::Write::write_fmt(&mut short, format_args!("{id}")) {
            Ok(()) => std::str::from_utf8(&short.buf[..short.len]).unwrap_or_default(),
            Err(_) => "",
        };
        match text {
            "return" | "break" | "yield" | "box" | "become" => {
                self.deep += 1;
                self.operand = false;
            }
            "as" | "if" => {
                self.chain += 1;
                self.operand = false;
            }
            // Keywords after which `&`, `*`, `-`, `|` are prefix operators (`*const *const
            // T`, `&mut &mut x`, `move |..|`). `self`, `Self`, `super`, `crate`, `true`,
            // `false` are operands.
            "async" | "const" | "dyn" | "else" | "enum" | "extern" | "fn" | "for" | "impl" | "in" | "let" | "loop"
            | "match" | "mod" | "move" | "mut" | "pub" | "ref" | "static" | "struct" | "trait" | "type" | "unsafe"
            | "use" | "where" | "while" => self.operand = false,
            _ => self.operand = true,
        }
    }

    /// A run of joined punctuation, split into Rust's operators (longest first). Returns
    /// the highest cost reached inside the run (`a???;` ends at 0 but peaked at `?`).
    fn operator(&mut self, run: &str) -> usize {
        const OPS: [&str; 25] = [
            "<<=", ">>=", "...", "..=", "::", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=",
            "%=", "^=", "&=", "|=", "<<", ">>", "..", "#!",
        ];
        if run.len() == 1 {
            self.one_operator(run);
            return self.cost();
        }
        let mut rest = run;
        let mut peak = self.cost();
        while !rest.is_empty() {
            let len = OPS
                .iter()
                .find(|op| rest.starts_with(*op))
                .map_or_else(|| rest.chars().next().map_or(1, char::len_utf8), |op| op.len());
            let (op, tail) = rest.split_at(len);
            self.one_operator(op);
            peak = peak.max(self.cost());
            rest = tail;
        }
        peak
    }

    fn one_operator(&mut self, op: &str) {
        let (operand, value_end) = (self.operand, std::mem::take(&mut self.value_end));
        let hash = std::mem::take(&mut self.hash);
        (self.dot, self.method) = (op == ".", false);
        self.operand = false;
        match op {
            ";" | "=>" => self.reset(),
            "," => {
                if self.closure_params {
                    // `|a, b|`: the closure goes on.
                } else if self.angle > 0 {
                    // `A<B, C>`: one argument ends, the generic arguments go on.
                    (self.deep, self.closures, self.chain) = (0, 0, 0);
                } else {
                    self.reset();
                }
            }
            "'" => self.lifetime = true,
            "#" => self.hash = true,
            "!" if hash => {}
            "#!" | "$" | "~" | ":" | "::" => {}
            // `1 < x`, `f(x) < y`, `x? < y` compare; otherwise `<` may open generic arguments.
            "<" | "<<" if value_end => self.chain += 1,
            "<" | "<<" => self.angle += 1,
            ">" | ">>" => {
                if self.angle > 0 {
                    self.angle = self.angle.saturating_sub(op.len());
                    self.operand = true;
                } else {
                    self.chain += 1;
                }
            }
            "->" | "@" => self.deep += 1,
            "|" | "||" => {
                if self.closure_params {
                    self.closure_params = false;
                } else if operand {
                    self.chain += 1;
                } else {
                    self.closures += 1;
                    self.closure_params = op == "|";
                }
            }
            "&" | "&&" | "*" | "-" | "!" | ".." | "..=" | "..." => {
                if operand {
                    self.chain += 1;
                } else {
                    // `&&x` is two references.
                    self.deep += if op == "&&" { 2 } else { 1 };
                }
            }
            "?" => {
                self.chain += 1;
                self.operand = true;
                self.value_end = true;
            }
            _ => self.chain += 1,
        }
    }
}
