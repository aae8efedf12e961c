//! A fast outline of a Rust file without parsing it: a byte-level lexer finds the item
//! boundaries (top-level items, and the members of `mod`/`impl`/`trait`/`extern` blocks)
//! and which of a fixed set of words each item mentions. The engine uses it to parse
//! only the items an enabled lint could fire on (see `crate::prefilter`).
//!
//! The lexer follows the Rust lexical grammar closely enough to never mistake a comment,
//! string or char literal for code; anything it cannot make sense of (an unclosed
//! delimiter, a mismatched bracket) is reported as [`LexFailure`], and the engine then
//! parses the whole file, so syn reports the error exactly as without the outline.

use std::collections::HashMap;

/// A set of words (identifiers) to look for; each gets a small id. A word written
/// `*part` matches every identifier containing `part`.
#[derive(Clone, Debug, Default)]
pub struct Words {
    ids: HashMap<Box<str>, u16>,
    /// The exact words by [`word_hash`]: the outline hashes every identifier anyway.
    by_hash: HashMap<u64, u16, BuildHashed>,
    names: Vec<Box<str>>,
    parts: Vec<(Box<str>, u16)>,
    /// The first bytes of the parts, as a bit set: most positions of an identifier
    /// start none of them.
    part_starts: [u64; 4],
}

/// [`word_hash`] is already a good hash: use it as it is.
#[derive(Clone, Copy, Debug, Default)]
struct BuildHashed;

impl std::hash::BuildHasher for BuildHashed {
    type Hasher = Hashed;
    fn build_hasher(&self) -> Hashed {
        Hashed(0)
    }
}

struct Hashed(u64);

impl std::hash::Hasher for Hashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Words {
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut w = Words::default();
        for word in words {
            w.id_or_insert(word);
        }
        w
    }

    /// The id of `word`, adding it when new.
    pub fn id_or_insert(&mut self, word: &str) -> u16 {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        let id = self.names.len() as u16;
        self.ids.insert(word.into(), id);
        self.names.push(word.into());
        match word.strip_prefix('*') {
            Some(part) if !part.is_empty() => {
                let first = part.as_bytes()[0];
                self.part_starts[usize::from(first >> 6)] |= 1 << (first & 63);
                self.parts.push((part.into(), id));
            }
            _ => {
                self.by_hash.insert(word_hash(word), id);
            }
        }
        id
    }

    /// The ids of the words `ident` (whose [`word_hash`] is `hash`) matches: exactly, or
    /// containing a `*part`.
    fn matches(&self, ident: &str, hash: u64, out: &mut Vec<u16>) {
        if let Some(&id) = self.by_hash.get(&hash) {
            if *self.names[usize::from(id)] == *ident {
                out.push(id);
            }
        }
        if self.parts.is_empty() {
            return;
        }
        let b = ident.as_bytes();
        for i in 0..b.len() {
            if self.part_starts[usize::from(b[i] >> 6)] & (1 << (b[i] & 63)) == 0 {
                continue;
            }
            for (part, id) in &self.parts {
                // A byte loop, not `starts_with`: almost every try fails on its second
                // byte, and a `memcmp` call costs more than that.
                let p = part.as_bytes();
                if b.len() - i >= p.len() && p.iter().zip(&b[i..]).all(|(x, y)| x == y) {
                    out.push(*id);
                }
            }
        }
    }

    pub fn id(&self, word: &str) -> Option<u16> {
        self.ids.get(word).copied()
    }

    pub fn name(&self, id: u16) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What kind of item an outline entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Fn,
    Struct,
    Enum,
    Union,
    Trait,
    Impl,
    /// `mod x { .. }` (an inline module; its members are children).
    Mod,
    /// `mod x;`
    ModDecl,
    Use,
    ExternCrate,
    /// `extern "C" { .. }`
    ForeignMod,
    Type,
    Const,
    Static,
    MacroRules,
    /// A macro invocation in item position (`thread_local! { .. }`, `lazy_static! { .. }`).
    Macro,
    /// Inner attributes and inner doc comments of the enclosing block (or file).
    InnerAttr,
    /// Anything else (a stray token); always kept.
    Other,
}

impl ItemKind {
    /// Blocks whose members are outlined one by one.
    pub fn is_container(self) -> bool {
        matches!(self, ItemKind::Mod | ItemKind::Impl | ItemKind::Trait)
    }
}

/// One item: its byte range (outer attributes and doc comments included), the words of
/// the set it mentions, and for containers the members.
#[derive(Clone, Debug)]
pub struct Item {
    pub start: u32,
    pub end: u32,
    pub kind: ItemKind,
    /// The item's name (`fn name`, `struct Name`, `static NAME`, the macro's name), as a
    /// byte range.
    pub name: Option<(u32, u32)>,
    /// [`word_hash`] of the name.
    pub name_hash: Option<u64>,
    /// `#[cfg(test)]` or `#[test]` among its outer attributes.
    pub cfg_test: bool,
    /// Where the doc comments it starts with end (`start` when it has none).
    pub docs_end: u32,
    /// Ids (in the [`Words`] given to [`outline`]) of the words it mentions, sorted; for
    /// a container, the words of its header only (name, generics, trait, self type).
    pub words: Vec<u16>,
    /// Hashes ([`word_hash`]) of every identifier in the item but macro names, sorted and
    /// deduplicated (leaves only; containers have their members').
    pub idents: Vec<u64>,
    /// Hashes of the names the item brings into scope besides its own: the names a `use`
    /// gives to words of the set (`use tokio::spawn as go;`), the statics a macro declares
    /// (`lazy_static! { static ref A: .. }`, `thread_local! { static B: .. }`).
    pub declares: Vec<u64>,
    /// For a fn: the words of the set naming a call that gets one of the fn's parameters
    /// as a whole argument (`tokio::spawn(fut)` in `fn go(fut: F)`), sorted: the fn may
    /// hand its caller's value on (a spawn wrapper).
    pub passes_param_to: Vec<u16>,
    /// What can be blanked to keep only the item's shape: a fn's body, a struct's or
    /// enum's fields, a macro's input, a const's or static's initializer.
    pub inner: Option<Inner>,
    /// For containers: the byte range inside the braces, and the members.
    pub body: Option<(u32, u32)>,
    pub children: Vec<Item>,
}

/// A part of an item that can be blanked without changing the item's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inner {
    pub start: u32,
    pub end: u32,
    /// An expression is required there (a `const`/`static` initializer): blanking
    /// writes `()` first.
    pub expr: bool,
}

/// The hash of an identifier, as stored in [`Item::idents`] (FNV-1a).
pub fn word_hash(word: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in word.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Item {
    pub fn name<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.name.map(|(a, b)| &text[a as usize..b as usize])
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Why a file could not be outlined (the engine parses it whole instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexFailure {
    pub at: usize,
}

/// A file's outline.
#[derive(Clone, Debug, Default)]
pub struct Outline {
    pub items: Vec<Item>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Ident,
    Punct(u8),
    Open(u8),
    Close(u8),
    Literal,
    Lifetime,
    OuterDoc,
    InnerDoc,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Tok,
    start: u32,
    end: u32,
    /// For `Open`: the index of the matching `Close`.
    close: u32,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Splits `text` into tokens (comments dropped, doc comments kept as tokens).
fn lex(text: &str) -> Result<Vec<Token>, LexFailure> {
    let b = text.as_bytes();
    let mut toks: Vec<Token> = Vec::with_capacity(b.len() / 5);
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    // A BOM, and a shebang line (`#!` not starting an inner attribute).
    if text.starts_with('\u{feff}') {
        i = 3;
    }
    if b[i..].starts_with(b"#!") && b[i + 2..].iter().find(|c| !c.is_ascii_whitespace()).is_none_or(|&c| c != b'[') {
        while i < b.len() && b[i] != b'\n' {
            i += 1;
        }
    }
    let push = |toks: &mut Vec<Token>, kind, start: usize, end: usize| {
        toks.push(Token { kind, start: start as u32, end: end as u32, close: 0 })
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                let s = &b[start..i];
                if s.starts_with(b"///") && !s.starts_with(b"////") {
                    push(&mut toks, Tok::OuterDoc, start, i);
                } else if s.starts_with(b"//!") {
                    push(&mut toks, Tok::InnerDoc, start, i);
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(b, i).ok_or(LexFailure { at: start })?;
                let s = &b[start..i];
                if s.starts_with(b"/**") && !s.starts_with(b"/***") && s != b"/**/" {
                    push(&mut toks, Tok::OuterDoc, start, i);
                } else if s.starts_with(b"/*!") {
                    push(&mut toks, Tok::InnerDoc, start, i);
                }
            }
            b'"' => {
                i = string_end(b, i + 1).ok_or(LexFailure { at: start })?;
                i = suffix_end(b, i);
                push(&mut toks, Tok::Literal, start, i);
            }
            b'r' | b'b' | b'c' if raw_or_prefixed_string(b, i) => {
                i = prefixed_string_end(b, i).ok_or(LexFailure { at: start })?;
                i = suffix_end(b, i);
                push(&mut toks, Tok::Literal, start, i);
            }
            b'b' if b.get(i + 1) == Some(&b'\'') => {
                i = char_end(b, i + 1).ok_or(LexFailure { at: start })?;
                push(&mut toks, Tok::Literal, start, i);
            }
            b'\'' => match char_end(b, i) {
                Some(end) => {
                    i = suffix_end(b, end);
                    push(&mut toks, Tok::Literal, start, i);
                }
                None => {
                    // A lifetime or label: `'a`, `'static`, `'r#a`.
                    i += 1;
                    if b[i..].starts_with(b"r#") {
                        i += 2;
                    }
                    while i < b.len() && is_ident_continue(b[i]) {
                        i += 1;
                    }
                    if i == start + 1 {
                        return Err(LexFailure { at: start });
                    }
                    push(&mut toks, Tok::Lifetime, start, i);
                }
            },
            b'0'..=b'9' => {
                i += 1;
                while i < b.len() {
                    let d = b[i];
                    if is_ident_continue(d) {
                        i += 1;
                    } else if d == b'.' && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
                        i += 2;
                    } else if (d == b'+' || d == b'-') && matches!(b[i - 1], b'e' | b'E') && !is_hex(&b[start..i]) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                push(&mut toks, Tok::Literal, start, i);
            }
            c if is_ident_start(c) => {
                if c == b'r' && b.get(i + 1) == Some(&b'#') && b.get(i + 2).is_some_and(|&n| is_ident_start(n)) {
                    // A raw identifier: the word is what follows `r#`.
                    i += 2;
                }
                let word = i;
                while i < b.len() && is_ident_continue(b[i]) {
                    i += 1;
                }
                push(&mut toks, Tok::Ident, word, i);
            }
            b'(' | b'[' | b'{' => {
                open.push(toks.len());
                push(&mut toks, Tok::Open(c), start, i + 1);
                i += 1;
            }
            b')' | b']' | b'}' => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                let Some(o) = open.pop() else { return Err(LexFailure { at: start }) };
                if toks[o].kind != Tok::Open(want) {
                    return Err(LexFailure { at: start });
                }
                toks[o].close = toks.len() as u32;
                push(&mut toks, Tok::Close(c), start, i + 1);
                i += 1;
            }
            c if c.is_ascii() => {
                push(&mut toks, Tok::Punct(c), start, i + 1);
                i += 1;
            }
            _ => return Err(LexFailure { at: start }),
        }
    }
    if let Some(&o) = open.last() {
        return Err(LexFailure { at: toks[o].start as usize });
    }
    Ok(toks)
}

fn is_hex(num: &[u8]) -> bool {
    num.starts_with(b"0x") || num.starts_with(b"0X")
}

/// The end of a nested block comment starting at `i`.
pub(crate) fn block_comment_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut level = 0usize;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' {
            level += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            level -= 1;
            i += 2;
            if level == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The end of a string whose opening quote ends just before `i`.
pub(crate) fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// `r"..."`, `r#"..."#`, `b"..."`, `br"..."`, `c"..."`, `cr#"..."#` at `i`.
pub(crate) fn raw_or_prefixed_string(b: &[u8], i: usize) -> bool {
    let mut j = i;
    if b[j] == b'b' || b[j] == b'c' {
        j += 1;
        if b.get(j) == Some(&b'"') {
            return true;
        }
    }
    if b.get(j) != Some(&b'r') {
        return false;
    }
    j += 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    b.get(j) == Some(&b'"')
}

pub(crate) fn prefixed_string_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b[i] == b'b' || b[i] == b'c' {
        i += 1;
        if b.get(i) == Some(&b'"') {
            return string_end(b, i + 1);
        }
    }
    i += 1; // `r`
    let mut hashes = 0;
    while b.get(i) == Some(&b'#') {
        hashes += 1;
        i += 1;
    }
    i += 1; // the opening quote
    while i < b.len() {
        if b[i] == b'"' && b.len() >= i + 1 + hashes && b[i + 1..i + 1 + hashes].iter().all(|&c| c == b'#') {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    None
}

/// The end of a char literal whose quote is at `i`, or `None` when it is a lifetime.
fn char_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i + 1)? {
        b'\\' => {
            // `'\n'`, `'\''`, `'\u{1F600}'`: the escape, then the closing quote.
            let mut j = i + 3;
            while j < b.len() && j < i + 14 {
                if b[j] == b'\'' {
                    return Some(j + 1);
                }
                j += 1;
            }
            None
        }
        _ => {
            // One UTF-8 scalar, then the quote (else a lifetime).
            let mut j = i + 2;
            while j < b.len() && (b[j] & 0xC0) == 0x80 {
                j += 1;
            }
            (b.get(j) == Some(&b'\'')).then_some(j + 1)
        }
    }
}

/// A literal's suffix (`1u8`, `"x"suffix`).
fn suffix_end(b: &[u8], mut i: usize) -> usize {
    if i < b.len() && is_ident_start(b[i]) {
        while i < b.len() && is_ident_continue(b[i]) {
            i += 1;
        }
    }
    i
}

/// Outlines `text`, noting for every item which of `words` it mentions.
pub fn outline(text: &str, words: &Words) -> Result<Outline, LexFailure> {
    let toks = lex(text)?;
    let cx = Cx { text, toks: &toks, words };
    Ok(Outline { items: cx.items(0, toks.len()) })
}

struct Cx<'a> {
    text: &'a str,
    toks: &'a [Token],
    words: &'a Words,
}

impl Cx<'_> {
    fn word(&self, i: usize) -> &str {
        let t = &self.toks[i];
        &self.text[t.start as usize..t.end as usize]
    }

    fn is_word(&self, i: usize, w: &str) -> bool {
        i < self.toks.len() && self.toks[i].kind == Tok::Ident && self.word(i) == w
    }

    fn is(&self, i: usize, kind: Tok) -> bool {
        i < self.toks.len() && self.toks[i].kind == kind
    }

    /// The index after token `i` (after the whole group when it opens one).
    fn next(&self, i: usize) -> usize {
        match self.toks[i].kind {
            Tok::Open(_) => self.toks[i].close as usize + 1,
            _ => i + 1,
        }
    }

    /// The items among tokens `lo..hi`.
    fn items(&self, lo: usize, hi: usize) -> Vec<Item> {
        let mut out = Vec::new();
        let mut i = lo;
        while i < hi {
            let start = i;
            // Inner attributes and inner doc comments belong to the enclosing block.
            if self.is(i, Tok::InnerDoc) {
                out.push(self.leaf(start, i + 1, ItemKind::InnerAttr, None, false));
                i += 1;
                continue;
            }
            if self.is(i, Tok::Punct(b'#')) && self.is(i + 1, Tok::Punct(b'!')) && self.is(i + 2, Tok::Open(b'[')) {
                let end = self.next(i + 2);
                out.push(self.leaf(start, end, ItemKind::InnerAttr, None, false));
                i = end;
                continue;
            }
            // Outer attributes and doc comments.
            let mut cfg_test = false;
            loop {
                if self.is(i, Tok::OuterDoc) {
                    i += 1;
                } else if self.is(i, Tok::Punct(b'#')) && self.is(i + 1, Tok::Open(b'[')) {
                    cfg_test |= self.is_test_attr(i + 2, self.toks[i + 1].close as usize);
                    i = self.next(i + 1);
                } else {
                    break;
                }
            }
            if i >= hi {
                // Attributes with no item: keep them, syn reports the error if any.
                out.push(self.leaf(start, hi, ItemKind::Other, None, cfg_test));
                break;
            }
            let (kind, name, end) = self.item_at(i, hi);
            let end = end.max(i + 1).min(hi);
            if kind.is_container() {
                out.push(self.container(start, i, end, kind, name, cfg_test));
            } else {
                out.push(self.leaf(start, end, kind, name, cfg_test));
            }
            i = end;
        }
        out
    }

    /// `#[cfg(test)]`, `#[test]`, `#[tokio::test]`, `#[cfg(all(test, ..))]`.
    fn is_test_attr(&self, lo: usize, hi: usize) -> bool {
        if lo >= hi {
            return false;
        }
        if self.is_word(lo, "cfg") && self.is(lo + 1, Tok::Open(b'(')) {
            let close = self.toks[lo + 1].close as usize;
            // `cfg(not(test))` is not test code.
            return (lo + 2..close).any(|j| self.is_word(j, "test"))
                && !(lo + 2..close).any(|j| self.is_word(j, "not"));
        }
        self.is_word(hi - 1, "test") && (hi - 1 == lo || self.is(hi - 2, Tok::Punct(b':')))
    }

    fn byte_range(&self, lo: usize, hi: usize) -> (u32, u32) {
        let start = self.toks[lo].start;
        let end = if hi > lo { self.toks[hi - 1].end } else { start };
        (start, end)
    }

    /// The words of the set among tokens `lo..hi`, sorted; with `idents`, also the
    /// hashes of the identifiers but macro names and `_`, sorted.
    fn words_in(&self, lo: usize, hi: usize, mut idents: Option<&mut Vec<u64>>) -> Vec<u16> {
        let mut ws: Vec<u16> = Vec::new();
        for j in lo..hi {
            if self.toks[j].kind == Tok::Ident {
                let w = self.word(j);
                let h = word_hash(w);
                self.words.matches(w, h, &mut ws);
                // A macro's name (`error!`) names no fn, static or const.
                if let Some(idents) = idents.as_deref_mut() {
                    if !self.is(j + 1, Tok::Punct(b'!')) && w != "_" {
                        idents.push(h);
                    }
                }
            }
        }
        ws.sort_unstable();
        ws.dedup();
        if let Some(idents) = idents {
            idents.sort_unstable();
            idents.dedup();
        }
        ws
    }

    fn leaf(&self, lo: usize, hi: usize, kind: ItemKind, name: Option<usize>, cfg_test: bool) -> Item {
        let (start, end) = self.byte_range(lo, hi);
        let mut idents: Vec<u64> = Vec::new();
        let words = self.words_in(lo, hi, Some(&mut idents));
        let declares = match kind {
            ItemKind::Use => self.trigger_aliases(lo, hi),
            ItemKind::Macro => (lo..hi)
                .filter(|&j| self.is_word(j, "static"))
                .filter_map(|j| {
                    let n = if self.is_word(j + 1, "ref") || self.is_word(j + 1, "mut") { j + 2 } else { j + 1 };
                    self.is(n, Tok::Ident).then(|| word_hash(self.word(n)))
                })
                .collect(),
            _ => Vec::new(),
        };
        Item {
            start,
            end,
            kind,
            name: name.map(|n| (self.toks[n].start, self.toks[n].end)),
            name_hash: self.name_hash(name),
            cfg_test,
            docs_end: self.docs_end(lo, hi),
            words,
            idents,
            declares,
            passes_param_to: if kind == ItemKind::Fn { self.passes_param_to(hi, name) } else { Vec::new() },
            inner: self.inner(lo, hi, kind, name),
            body: None,
            children: Vec::new(),
        }
    }

    fn docs_end(&self, lo: usize, hi: usize) -> u32 {
        let first = (lo..hi).find(|&j| self.toks[j].kind != Tok::OuterDoc).unwrap_or(hi);
        if first == lo {
            self.toks[lo].start
        } else {
            self.toks[first - 1].end
        }
    }

    /// `const _: () = ..;` names nothing.
    fn name_hash(&self, name: Option<usize>) -> Option<u64> {
        name.map(|n| self.word(n)).filter(|&w| w != "_").map(word_hash)
    }

    /// The names a `use` item gives to words of the set (`use tokio::spawn as go;` ->
    /// `go`): code calling `go` calls `spawn`. Other imports are not recorded: an item
    /// naming `io` or `HashMap` says nothing about the lints' words.
    fn trigger_aliases(&self, lo: usize, hi: usize) -> Vec<u64> {
        let mut out = Vec::new();
        let mut found = Vec::new();
        for j in lo..hi.saturating_sub(2) {
            if self.is(j, Tok::Ident) && self.is_word(j + 1, "as") && self.is(j + 2, Tok::Ident) {
                found.clear();
                self.words.matches(self.word(j), word_hash(self.word(j)), &mut found);
                if !found.is_empty() && self.word(j + 2) != "_" {
                    out.push(word_hash(self.word(j + 2)));
                }
            }
        }
        out
    }

    /// See [`Item::passes_param_to`]. A parameter is a plain name before a `:` in the
    /// fn's parameter list (`f: F`, `mut f: F`); an argument is whole when it stands
    /// alone between the call's brackets and commas, behind any `&`, `mut` and `(`.
    fn passes_param_to(&self, hi: usize, name: Option<usize>) -> Vec<u16> {
        let Some(name) = name else { return Vec::new() };
        // The parameter list: the first `(` group after the name outside `<..>`
        // (`fn f<F: Fn(u8)>(f: F)`).
        let mut angle = 0i32;
        let mut j = name + 1;
        let params = loop {
            if j >= hi {
                return Vec::new();
            }
            match self.toks[j].kind {
                Tok::Punct(b'<') => angle += 1,
                Tok::Punct(b'>') if !self.is(j - 1, Tok::Punct(b'-')) => angle -= 1,
                Tok::Open(b'(') if angle <= 0 => break j,
                Tok::Open(b'{') => return Vec::new(),
                _ => {}
            }
            j = self.next(j);
        };
        let close = self.toks[params].close as usize;
        let mut names: Vec<&str> = Vec::new();
        let mut k = params + 1;
        while k < close {
            let after_sep =
                self.is(k - 1, Tok::Open(b'(')) || self.is(k - 1, Tok::Punct(b',')) || self.is_word(k - 1, "mut");
            let colon = self.is(k + 1, Tok::Punct(b':')) && !self.is(k + 2, Tok::Punct(b':'));
            if after_sep && colon && self.is(k, Tok::Ident) && self.word(k) != "self" {
                names.push(self.word(k));
            }
            k = self.next(k);
        }
        let mut out = Vec::new();
        if names.is_empty() {
            return out;
        }
        for j in close + 1..hi {
            if !(self.is(j, Tok::Ident) && names.contains(&self.word(j))) {
                continue;
            }
            // Whole: `(` or `,` before it (behind `&`, `mut`), `)` or `,` after it.
            let mut b = j - 1;
            while self.is(b, Tok::Punct(b'&')) || self.is_word(b, "mut") {
                b -= 1;
            }
            let starts = self.is(b, Tok::Open(b'(')) || self.is(b, Tok::Punct(b','));
            let ends = self.is(j + 1, Tok::Close(b')')) || self.is(j + 1, Tok::Punct(b','));
            if !(starts && ends) {
                continue;
            }
            // The call's `(`: the innermost group around the argument, out of extra
            // parentheses (`spawn(&mut (f))`).
            let Some(mut open) = (close + 1..j)
                .rev()
                .find(|&o| matches!(self.toks[o].kind, Tok::Open(_)) && self.toks[o].close as usize > j)
            else {
                continue;
            };
            let mut c = open - 1;
            while self.is(c, Tok::Open(b'(')) || self.is(c, Tok::Punct(b'&')) || self.is_word(c, "mut") {
                if self.is(c, Tok::Open(b'(')) {
                    open = c;
                }
                c -= 1;
            }
            if !self.is(open, Tok::Open(b'(')) {
                continue;
            }
            // The callee's name: `spawn(..)`, `spawn!(..)`, `spawn::<F>(..)`.
            let mut c = open - 1;
            if self.is(c, Tok::Punct(b'!')) {
                c -= 1;
            } else if self.is(c, Tok::Punct(b'>')) {
                let mut depth = 0i32;
                while c > close {
                    match self.toks[c].kind {
                        Tok::Punct(b'>') => depth += 1,
                        Tok::Punct(b'<') => depth -= 1,
                        _ => {}
                    }
                    c -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                while self.is(c, Tok::Punct(b':')) {
                    c -= 1;
                }
            }
            if self.is(c, Tok::Ident) {
                let w = self.word(c);
                self.words.matches(w, word_hash(w), &mut out);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The blankable part of a leaf item (see [`Inner`]).
    fn inner(&self, lo: usize, hi: usize, kind: ItemKind, name: Option<usize>) -> Option<Inner> {
        match kind {
            ItemKind::Fn
            | ItemKind::Struct
            | ItemKind::Enum
            | ItemKind::Union
            | ItemKind::Macro
            | ItemKind::MacroRules
            // An `extern` block is one leaf: the analysis reads nothing of foreign items
            // (no bodies to follow), so the whole block can go.
            | ItemKind::ForeignMod => {
                // The last group, ending the item (or just before its `;`).
                let mut last = hi.checked_sub(1)?;
                if self.is(last, Tok::Punct(b';')) {
                    last = last.checked_sub(1)?;
                }
                let Tok::Close(c) = self.toks[last].kind else { return None };
                // A fn's body is a brace group; `fn f() -> [u8; 4];` has none.
                if kind == ItemKind::Fn && (c != b'}' || self.is(hi - 1, Tok::Punct(b';'))) {
                    return None;
                }
                let open = (lo..last)
                    .rev()
                    .find(|&j| matches!(self.toks[j].kind, Tok::Open(_)) && self.toks[j].close as usize == last)?;
                // Never blank the name's own tokens (`struct S(u8)`: the group follows it).
                if name.is_some_and(|n| n > open) || open + 1 == last {
                    return None;
                }
                Some(Inner { start: self.toks[open].end, end: self.toks[last].start, expr: false })
            }
            ItemKind::Const | ItemKind::Static => {
                // The initializer: after the first `=` at this level outside `<..>`.
                let mut angle = 0i32;
                let mut j = name? + 1;
                while j < hi {
                    match self.toks[j].kind {
                        Tok::Punct(b'<') => angle += 1,
                        Tok::Punct(b'>') if !self.is(j.wrapping_sub(1), Tok::Punct(b'-')) => angle -= 1,
                        Tok::Punct(b'=') if angle <= 0 => break,
                        Tok::Punct(b';') => return None,
                        _ => {}
                    }
                    j = self.next(j);
                }
                let end = hi.checked_sub(1).filter(|&e| self.is(e, Tok::Punct(b';')))?;
                if j + 1 >= end || self.is(j + 1, Tok::Punct(b'=')) || self.is(j + 1, Tok::Punct(b'>')) {
                    return None;
                }
                let (start, stop) = (self.toks[j + 1].start, self.toks[end - 1].end);
                (stop - start >= 2).then_some(Inner { start, end: stop, expr: true })
            }
            _ => None,
        }
    }

    /// A `mod`/`impl`/`trait`/`extern` block: its header words, and its members.
    fn container(&self, lo: usize, kw: usize, hi: usize, kind: ItemKind, name: Option<usize>, cfg_test: bool) -> Item {
        let (start, end) = self.byte_range(lo, hi);
        // The body is the last brace group of the item.
        let open = (kw..hi).rev().find(|&j| self.is(j, Tok::Open(b'{')) && self.toks[j].close as usize + 1 >= hi);
        let Some(open) = open else {
            // `mod x;` written as a container keyword with no body.
            return self.leaf(lo, hi, if kind == ItemKind::Mod { ItemKind::ModDecl } else { kind }, name, cfg_test);
        };
        let close = self.toks[open].close as usize;
        Item {
            start,
            end,
            kind,
            name: name.map(|n| (self.toks[n].start, self.toks[n].end)),
            name_hash: self.name_hash(name),
            cfg_test,
            docs_end: self.docs_end(lo, hi),
            words: self.words_in(lo, open, None),
            idents: Vec::new(),
            declares: Vec::new(),
            passes_param_to: Vec::new(),
            inner: None,
            body: Some((self.toks[open].end, self.toks[close].start)),
            children: self.items(open + 1, close),
        }
    }

    /// `unsafe`, `async`, `default`, `safe`, `auto` before an item keyword; `const` before
    /// `fn`; `extern` before `fn`.
    fn is_qualifier(&self, i: usize) -> bool {
        let modifier = ["unsafe", "async", "default", "safe", "auto"].iter().any(|w| self.is_word(i, w))
            && (self.is(i + 1, Tok::Ident) || self.is(i + 1, Tok::Open(b'{')));
        let const_fn =
            self.is_word(i, "const") && ["fn", "unsafe", "async", "extern"].iter().any(|w| self.is_word(i + 1, w));
        modifier || const_fn || self.is_word(i, "extern") && self.is_word(i + 1, "fn")
    }

    /// The kind, name token and end (token index) of the item whose first token after
    /// its attributes is `i`.
    fn item_at(&self, mut i: usize, hi: usize) -> (ItemKind, Option<usize>, usize) {
        // Qualifiers.
        loop {
            if self.is_word(i, "pub") {
                i += 1;
                if self.is(i, Tok::Open(b'(')) {
                    i = self.next(i);
                }
            } else if self.is_qualifier(i) {
                i += 1;
            } else if self.is_word(i, "extern") && self.is(i + 1, Tok::Literal) && !self.is(i + 2, Tok::Open(b'{')) {
                i += 2;
            } else {
                break;
            }
        }
        if i >= hi {
            return (ItemKind::Other, None, hi);
        }
        let ident_after = |j: usize| (self.is(j, Tok::Ident)).then_some(j);
        let kw = if self.toks[i].kind == Tok::Ident { self.word(i) } else { "" };
        let (kind, name, braces) = match kw {
            "fn" => (ItemKind::Fn, ident_after(i + 1), true),
            "struct" => (ItemKind::Struct, ident_after(i + 1), true),
            "enum" => (ItemKind::Enum, ident_after(i + 1), true),
            "union" if self.is(i + 1, Tok::Ident) => (ItemKind::Union, ident_after(i + 1), true),
            "trait" => (ItemKind::Trait, ident_after(i + 1), true),
            "impl" => (ItemKind::Impl, None, true),
            "mod" => (ItemKind::Mod, ident_after(i + 1), true),
            "use" => (ItemKind::Use, None, false),
            "type" => (ItemKind::Type, ident_after(i + 1), false),
            "const" => (ItemKind::Const, ident_after(i + 1), false),
            "static" => {
                let n = if self.is_word(i + 1, "mut") { i + 2 } else { i + 1 };
                (ItemKind::Static, ident_after(n), false)
            }
            "extern" if self.is_word(i + 1, "crate") => (ItemKind::ExternCrate, None, false),
            "extern" => (ItemKind::ForeignMod, None, true),
            "macro_rules" if self.is(i + 1, Tok::Punct(b'!')) => {
                let end = self.macro_end(i + 2, hi);
                return (ItemKind::MacroRules, ident_after(i + 2), end);
            }
            _ => {
                // A macro invocation: a path, `!`, an optional name, a group.
                let mut j = i;
                let mut last = None;
                while j < hi && (self.is(j, Tok::Ident) || self.is(j, Tok::Punct(b':'))) {
                    if self.is(j, Tok::Ident) {
                        last = Some(j);
                    }
                    j += 1;
                }
                if last.is_some() && self.is(j, Tok::Punct(b'!')) {
                    return (ItemKind::Macro, last, self.macro_end(j + 1, hi));
                }
                return (ItemKind::Other, None, self.end_at_semicolon(i, hi, false));
            }
        };
        let end = self.end_at_semicolon(i + 1, hi, braces);
        (kind, name, end)
    }

    /// The end of an item: after the `;` that ends it, or (when `braces`) after its
    /// first brace group at this level.
    fn end_at_semicolon(&self, mut j: usize, hi: usize, braces: bool) -> usize {
        while j < hi {
            match self.toks[j].kind {
                Tok::Punct(b';') => return j + 1,
                Tok::Open(b'{') if braces => return self.toks[j].close as usize + 1,
                _ => j = self.next(j),
            }
        }
        hi
    }

    /// The end of a macro invocation after its `!`: `name! { .. }` (an optional `;`
    /// after), `name!( .. );`, `name![ .. ];`.
    fn macro_end(&self, mut j: usize, hi: usize) -> usize {
        if self.is(j, Tok::Ident) {
            j += 1;
        }
        if j >= hi {
            return hi;
        }
        match self.toks[j].kind {
            Tok::Open(b'{') => {
                let end = self.next(j);
                if self.is(end, Tok::Punct(b';')) && end < hi {
                    end + 1
                } else {
                    end
                }
            }
            Tok::Open(_) => self.end_at_semicolon(j, hi, false),
            _ => self.end_at_semicolon(j, hi, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(ItemKind, String)> {
        let o = outline(text, &Words::default()).unwrap();
        o.items.iter().map(|i| (i.kind, text[i.start as usize..i.end as usize].to_string())).collect()
    }

    #[test]
    fn splits_items_with_their_attributes_and_docs() {
        let text = "#![allow(x)]\n//! crate docs\nuse a::b;\n/// Docs.\n#[derive(Debug)]\npub struct S { a: u8 }\n\
                    fn f() -> [u8; 2] { [1; 2] }\nconst C: Foo = Foo { a: 1 };\nstatic mut X: u8 = 0;\n\
                    thread_local! { static T: u8 = 0 }\nfoo!(a; b);\nmacro_rules! m { () => {} }\n\
                    pub(crate) unsafe extern \"C\" fn g() {}\nextern crate alloc;\nmod m;\nstruct T(u8);\n";
        let got = kinds(text);
        let k: Vec<ItemKind> = got.iter().map(|(k, _)| *k).collect();
        use ItemKind::*;
        assert_eq!(
            k,
            [
                InnerAttr,
                InnerAttr,
                Use,
                Struct,
                Fn,
                Const,
                Static,
                Macro,
                Macro,
                MacroRules,
                Fn,
                ExternCrate,
                ModDecl,
                Struct
            ]
        );
        assert_eq!(got[3].1, "/// Docs.\n#[derive(Debug)]\npub struct S { a: u8 }");
        assert_eq!(got[5].1, "const C: Foo = Foo { a: 1 };");
    }

    #[test]
    fn outlines_members_of_blocks_and_finds_words() {
        let words = Words::new(["spawn", "loop", "static"]);
        let text = "impl<T> Worker<T> where T: Send {\n    #[cfg(test)]\n    fn a(&self) { tokio::spawn(x()); }\n    \
                    fn b(&'static self) -> &'static str { \"loop\" } // loop\n}\n#[cfg(test)]\nmod tests { fn t() { loop {} } }";
        let o = outline(text, &words).unwrap();
        assert_eq!(o.items.len(), 2);
        let imp = &o.items[0];
        assert_eq!(imp.kind, ItemKind::Impl);
        assert_eq!(imp.children.len(), 2);
        assert!(imp.children[0].cfg_test);
        assert_eq!(imp.children[0].words, [words.id("spawn").unwrap()]);
        assert_eq!(imp.children[0].name(text), Some("a"));
        // Lifetimes, strings and comments are not words.
        assert!(imp.children[1].words.is_empty());
        let m = &o.items[1];
        assert!(m.cfg_test);
        assert_eq!(m.children[0].words, [words.id("loop").unwrap()]);
    }

    #[test]
    fn literals_that_look_like_code() {
        let words = Words::new(["spawn"]);
        for text in [
            "const A: &str = r#\"spawn \"# ;",
            "const A: char = '\"'; const B: &str = \"spawn\";",
            "const A: &[u8] = b\"spawn\"; const B: u8 = b'{';",
            "/* /* spawn */ spawn */ const A: u8 = 1;",
            "const A: f64 = 1e-3; const B: u32 = 0x1e-2;",
        ] {
            let o = outline(text, &words).unwrap();
            assert!(o.items.iter().all(|i| i.words.is_empty()), "{text}");
        }
    }

    #[test]
    fn finds_the_calls_a_fn_hands_its_parameters_to() {
        let words = Words::new(["*spawn", "go"]);
        let fns = |text: &str| -> Vec<Vec<&str>> {
            let o = outline(text, &words).unwrap();
            o.items.iter().map(|i| i.passes_param_to.iter().map(|&w| words.name(w)).collect()).collect()
        };
        let text = "fn a<F: Fn(u8)>(f: F) { tokio::spawn(f); }\n\
                    fn b(mut fut: F, n: u8) { rt.spawn_local((&mut fut)); go(x, n) }\n\
                    fn c(f: F) { tokio::spawn(async move { f.await }); spawn(f.clone()); }\n\
                    fn d(f: F) { tokio::spawn::<F>(f) }\n\
                    fn e((a, b): (u8, u8)) { spawn(a) }\n";
        assert_eq!(fns(text), [vec!["*spawn"], vec!["*spawn", "go"], vec![], vec!["*spawn"], vec![]]);
    }

    #[test]
    fn reports_what_it_cannot_lex() {
        assert!(outline("fn f() { (]", &Words::default()).is_err());
        assert!(outline("fn f() {", &Words::default()).is_err());
        assert!(outline("const A: &str = \"x;", &Words::default()).is_err());
        assert!(outline("/* x", &Words::default()).is_err());
        assert!(outline("", &Words::default()).unwrap().items.is_empty());
        assert!(outline("\u{feff}#!/usr/bin/env run\nfn main() {}", &Words::default()).is_ok());
    }
}
