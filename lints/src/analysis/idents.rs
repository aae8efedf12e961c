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
