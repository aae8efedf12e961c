//! Suppression comments: `// taskcheck: allow(lint_a, lint_b) -- reason` on a finding's
//! line or the line above it (above an item, for the whole item), and
//! `// taskcheck: allow-file(lint)` for a whole file.

use syn::spanned::Spanned;
use taskcheck_core::{Diagnostic, SourceFile, Span};

/// One suppression comment.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The comment's line (1-based).
    pub line: usize,
    pub lints: Vec<String>,
    pub file_wide: bool,
    /// The comment itself.
    pub span: Span,
}

/// The marker every suppression comment starts with.
pub const MARKER: &str = "// taskcheck:";

/// The suppression comments of a file (a line comment whose text is `taskcheck:
/// allow(..)` or `allow-file(..)`; anything after ` -- ` is the reason).
pub fn parse(src: &SourceFile) -> Vec<Suppression> {
    let mut out = Vec::new();
    // One search of the whole text first: most files have no suppression at all.
    if !src.text.contains(MARKER) {
        return out;
    }
    let mut offset = 0;
    for (i, line) in src.text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let Some(at) = line.find(MARKER) else { continue };
        let rest = line[at + MARKER.len()..].trim_start();
        let rest = rest.split(" -- ").next().unwrap_or(rest).trim_end();
        let (file_wide, args) = if let Some(a) = rest.strip_prefix("allow-file(") {
            (true, a)
        } else if let Some(a) = rest.strip_prefix("allow(") {
            (false, a)
        } else {
            continue;
        };
        // Whatever follows the closing parenthesis (a reason, another comment) is ignored.
        let Some((args, _)) = args.split_once(')') else { continue };
        let lints = args.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let span = src.span(start + at, start + line.trim_end_matches(['\n', '\r']).len());
        out.push(Suppression { line: i + 1, lints, file_wide, span });
    }
    out
}

/// Line ranges of items (attributes included): a suppression on the line above an item
/// covers all of it.
pub fn item_ranges(ast: &syn::File) -> Vec<(usize, usize)> {
    // `Spanned::span()` of a whole item re-tokenizes it; the first attribute (or
    // keyword) and the closing brace give the same lines for the common items.
    fn lines(attrs: &[syn::Attribute], start: proc_macro2::Span, end: proc_macro2::Span) -> (usize, usize) {
        let start = attrs.first().map_or(start, |a| a.pound_token.span);
        (start.start().line, end.end().line)
    }
    fn fn_lines(attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block) -> (usize, usize) {
        lines(attrs, sig.fn_token.span, block.brace_token.span.close())
    }
    fn walk(items: &[syn::Item], out: &mut Vec<(usize, usize)>) {
        for item in items {
            match item {
                syn::Item::Fn(f) => {
                    let (lo, hi) = fn_lines(&f.attrs, &f.sig, &f.block);
                    out.push((with_vis(lo, &f.vis, &f.attrs), hi));
                }
                syn::Item::Mod(m) => {
                    out.push(item_lines(item));
                    if let Some((_, inner)) = &m.content {
                        walk(inner, out);
                    }
                }
                syn::Item::Impl(i) => {
                    out.push(lines(&i.attrs, i.impl_token.span, i.brace_token.span.close()));
                    for it in &i.items {
                        match it {
                            syn::ImplItem::Fn(f) => {
                                let (lo, hi) = fn_lines(&f.attrs, &f.sig, &f.block);
                                out.push((with_vis(lo, &f.vis, &f.attrs), hi));
                            }
                            other => {
                                let s = other.span();
                                out.push((s.start().line, s.end().line));
                            }
                        }
                    }
                }
                syn::Item::Trait(t) => {
                    out.push(lines(&t.attrs, t.trait_token.span, t.brace_token.span.close()));
                    for it in &t.items {
                        let s = it.span();
                        out.push((s.start().line, s.end().line));
                    }
                }
                _ => out.push(item_lines(item)),
            }
        }
    }
    /// A `pub fn` without attributes starts at `pub`, not at `fn`.
    fn with_vis(lo: usize, vis: &syn::Visibility, attrs: &[syn::Attribute]) -> usize {
        match vis {
            syn::Visibility::Inherited => lo,
            _ if !attrs.is_empty() => lo,
            v => v.span().start().line,
        }
    }
    fn item_lines(item: &syn::Item) -> (usize, usize) {
        let s = item.span();
        (s.start().line, s.end().line)
    }
    let mut out = Vec::new();
    walk(&ast.items, &mut out);
    out
}

/// Whether `s` covers a finding of `lint` on `line`, given the file's item ranges.
pub fn covers(s: &Suppression, lint: &str, line: usize, items: &[(usize, usize)]) -> bool {
    if !s.lints.iter().any(|l| l == lint) {
        return false;
    }
    if s.file_wide || line == s.line || line == s.line + 1 {
        return true;
    }
    // The comment sits right above an item (or among its attributes): the whole item.
    items.iter().any(|&(lo, hi)| lo == s.line + 1 && lo <= line && line <= hi)
}

/// Whether a diagnostic is suppressed by one of `sups`; marks the ones used.
pub fn suppressed(d: &Diagnostic, sups: &[Suppression], items: &[(usize, usize)], used: &mut [bool]) -> bool {
    let line = d.primary.span.lo.line;
    let mut hit = false;
    for (i, s) in sups.iter().enumerate() {
        if covers(s, d.lint, line, items) {
            used[i] = true;
            hit = true;
        }
    }
    hit
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcheck_core::FileId;

    #[test]
    fn parses_line_and_file_forms_with_reasons() {
        let text = "// taskcheck: allow-file(unbounded_channel)\nfn a() {} // taskcheck: allow(lost_cancel, forget_lock_guard) -- reviewed\n// taskcheck: allow(bogus\n";
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into());
        let s = parse(&src);
        assert_eq!(s.len(), 2);
        assert!(s[0].file_wide && s[0].lints == ["unbounded_channel"]);
        assert_eq!(
            (s[1].line, s[1].lints.clone()),
            (2, vec!["lost_cancel".to_string(), "forget_lock_guard".to_string()])
        );
        assert_eq!(src.snippet(&s[1].span), "// taskcheck: allow(lost_cancel, forget_lock_guard) -- reviewed");
    }

    #[test]
    fn an_item_suppression_covers_the_item() {
        let text = "// taskcheck: allow(x)\n#[inline]\nfn a() {\n    b();\n}\nfn c() {}\n";
        let ast = syn::parse_file(text).unwrap();
        let items = item_ranges(&ast);
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into());
        let s = Suppression { line: 1, lints: vec!["x".into()], file_wide: false, span: src.span(0, 1) };
        assert!(covers(&s, "x", 4, &items));
        assert!(!covers(&s, "x", 6, &items));
        assert!(!covers(&s, "y", 4, &items));
    }
}
