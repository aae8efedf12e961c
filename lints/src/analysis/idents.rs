//! Identifiers inside token streams (macro bodies, types, attributes): the shared walk
//! behind "which names does this mention".

use proc_macro2::{TokenStream, TokenTree};

/// Every identifier in `ts`, groups included, in order.
pub fn idents(ts: TokenStream, out: &mut Vec<String>) {
    for t in ts {
        match t {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => idents(g.stream(), out),
            _ => {}
        }
    }
}

/// Whether `ts` mentions any of `names` as an identifier.
pub fn mentions(ts: TokenStream, names: &[&str]) -> bool {
    ts.into_iter().any(|t| match t {
        TokenTree::Ident(i) => names.iter().any(|n| i == n),
        TokenTree::Group(g) => mentions(g.stream(), names),
        _ => false,
    })
}

/// The names a pattern binds through `x`, `mut x`, `&x`, `x: T`, `Ok(x)` and `Some(x)`
/// (the shapes a guard or a derived binding comes out of).
pub fn pat_idents(p: &syn::Pat, out: &mut Vec<String>) {
    use syn::Pat;
    match p {
        Pat::Ident(i) => out.push(i.ident.to_string()),
        Pat::Type(t) => pat_idents(&t.pat, out),
        Pat::Reference(r) => pat_idents(&r.pat, out),
        Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Ok" || s.ident == "Some") => {
            for e in &t.elems {
                pat_idents(e, out);
            }
        }
        _ => {}
    }
}
