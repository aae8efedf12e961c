//! Parsing `tokio::select!` / `futures::select!` branches from the macro's tokens.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Pat, Token};

/// What a branch is.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum BranchKind {
    /// `pat = fut, if cond => handler`
    Future,
    /// `else => handler` (tokio: all branches disabled)
    Else,
    /// `complete => handler` (futures: all futures finished)
    Complete,
    /// `default => handler` (futures: nothing ready)
    Default,
}

/// One branch of a `select!`.
pub struct Branch {
    pub kind: BranchKind,
    pub pat: Option<Pat>,
    pub fut: Option<Expr>,
    /// The `, if cond` precondition (tokio).
    pub cond: Option<Expr>,
    pub handler: Expr,
}

/// A parsed `select!` invocation.
pub struct Select {
    pub biased: bool,
    pub branches: Vec<Branch>,
}

impl Parse for Select {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut biased = false;
        let mut branches = Vec::new();
        while !input.is_empty() {
            if input.peek(syn::Ident) && input.peek2(Token![;]) {
                let id: syn::Ident = input.parse()?;
                if id != "biased" {
                    return Err(syn::Error::new(id.span(), "expected `biased;` or a branch"));
                }
                input.parse::<Token![;]>()?;
                biased = true;
                continue;
            }
            let kind = if input.peek(Token![else]) && input.peek2(Token![=>]) {
                input.parse::<Token![else]>()?;
                Some(BranchKind::Else)
            } else if input.peek(syn::Ident) && input.peek2(Token![=>]) {
                let fork = input.fork();
                let id: syn::Ident = fork.parse()?;
                match id.to_string().as_str() {
                    "complete" => Some(BranchKind::Complete),
                    "default" => Some(BranchKind::Default),
                    _ => None,
                }
                .inspect(|_| {
                    let _ = input.parse::<syn::Ident>();
                })
            } else {
                None
            };
            let (kind, pat, fut, cond) = match kind {
                Some(k) => (k, None, None, None),
                None => {
                    let pat = Pat::parse_multi_with_leading_vert(input)?;
                    input.parse::<Token![=]>()?;
                    let fut: Expr = input.parse()?;
                    let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
                        input.parse::<Token![,]>()?;
                        input.parse::<Token![if]>()?;
                        Some(input.parse::<Expr>()?)
                    } else {
                        None
                    };
                    (BranchKind::Future, Some(pat), Some(fut), cond)
                }
            };
            input.parse::<Token![=>]>()?;
            let handler: Expr = input.parse()?;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
            branches.push(Branch { kind, pat, fut, cond, handler });
        }
        Ok(Select { biased, branches })
    }
}

/// Parses the tokens of a `select!`-family macro.
pub fn parse_select(tokens: proc_macro2::TokenStream) -> syn::Result<Select> {
    syn::parse2(tokens)
}

/// Whether a macro path names an async `select!` (tokio or futures).
pub fn is_select_macro(last: &str) -> bool {
    matches!(last, "select" | "select_biased")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_tokio_branches() {
        let s = parse_select(quote! {
            biased;
            _ = token.cancelled() => break,
            Some(msg) = rx.recv(), if !paused => { handle(msg).await; }
            res = &mut fut => return res,
            else => { break }
        })
        .unwrap();
        assert!(s.biased);
        assert_eq!(s.branches.len(), 4);
        assert!(s.branches[1].cond.is_some());
        assert_eq!(s.branches[3].kind, BranchKind::Else);
        assert!(matches!(s.branches[0].handler, Expr::Break(_)));
    }

    #[test]
    fn parses_futures_branches() {
        let s = parse_select(quote! {
            msg = rx.next() => println!("{msg:?}"),
            complete => break,
            default => {},
        })
        .unwrap();
        assert_eq!(s.branches.len(), 3);
        assert_eq!(s.branches[1].kind, BranchKind::Complete);
        assert_eq!(s.branches[2].kind, BranchKind::Default);
    }

    #[test]
    fn rejects_crossbeam_syntax() {
        assert!(parse_select(quote! { recv(rx) -> msg => {}, default => {} }).is_err());
    }
}
