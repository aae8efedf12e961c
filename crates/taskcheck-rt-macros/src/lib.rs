//! The `#[taskcheck_rt::test]` attribute. Use it through the `taskcheck-rt` crate, which
//! re-exports it and documents it; the expansion calls `::taskcheck_rt::check`:
//!
//! ```text
//! #[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2, allow_leaks = 1)]
//! async fn name() -> R { body }
//! ```
//!
//! becomes
//!
//! ```text
//! #[::core::prelude::v1::test]
//! fn name() -> R {
//!     async fn __taskcheck_rt_body() -> R { body }
//!     ::taskcheck_rt::check(
//!         ::taskcheck_rt::Config::new()
//!             .flavor(::taskcheck_rt::Flavor::MultiThread)
//!             .worker_threads(2)
//!             .allow_leaks(1),
//!         __taskcheck_rt_body,
//!     )
//! }
//! ```

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, Token};

/// An async test on a fresh tokio runtime, failed if it leaks tasks or threads. See
/// `taskcheck_rt::test` for the arguments.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    match expand(args.into(), item.clone()) {
        Ok(tokens) => tokens.into(),
        // The error, and the function as written so that its body still gets checked and
        // completed by tools, without #[test] (an async #[test] is an error of its own).
        Err(err) => {
            let err = err.to_compile_error();
            quote!(#err #item).into()
        }
    }
}

#[derive(Default)]
struct Args {
    multi_thread: Option<bool>,
    worker_threads: Option<(usize, Span)>,
    grace_period_ms: Option<u64>,
    allow_leaks: Option<usize>,
    ignore_threads_named: Vec<String>,
}

const KNOWN: &str =
    "expected one of: `flavor`, `worker_threads`, `grace_period_ms`, `allow_leaks`, `ignore_threads_named`";

fn parse_args(args: TokenStream2) -> syn::Result<Args> {
    let metas = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    let mut parsed = Args::default();
    for meta in metas {
        let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        let value = &meta.value;
        let once = |set: bool| -> syn::Result<()> {
            if set {
                return Err(syn::Error::new_spanned(&meta.path, format!("`{name}` is set more than once")));
            }
            Ok(())
        };
        match name.as_str() {
            "flavor" => {
                once(parsed.multi_thread.is_some())?;
                parsed.multi_thread = Some(match lit_str(value)?.as_str() {
                    "current_thread" => false,
                    "multi_thread" => true,
                    other => {
                        return Err(syn::Error::new_spanned(
                            value,
                            format!("no runtime flavor `{other}`; the flavors are `current_thread` and `multi_thread`"),
                        ))
                    }
                });
            }
            "worker_threads" => {
                once(parsed.worker_threads.is_some())?;
                let n: usize = lit_int(value)?;
                if n == 0 {
                    return Err(syn::Error::new_spanned(value, "`worker_threads` may not be 0"));
                }
                parsed.worker_threads = Some((n, value.span()));
            }
            "grace_period_ms" => {
                once(parsed.grace_period_ms.is_some())?;
                parsed.grace_period_ms = Some(lit_int(value)?);
            }
            "allow_leaks" => {
                once(parsed.allow_leaks.is_some())?;
                parsed.allow_leaks = Some(lit_int(value)?);
            }
            "ignore_threads_named" => parsed.ignore_threads_named.push(lit_str(value)?),
            _ => return Err(syn::Error::new_spanned(&meta.path, format!("unknown argument `{name}`; {KNOWN}"))),
        }
    }
    if let (Some((_, span)), false) = (parsed.worker_threads, parsed.multi_thread.unwrap_or(false)) {
        return Err(syn::Error::new(
            span,
            "`worker_threads` needs the multi_thread runtime: add `flavor = \"multi_thread\"` (the default, as \
             with #[tokio::test], is `current_thread`)",
        ));
    }
    Ok(parsed)
}

fn lit_str(value: &Expr) -> syn::Result<String> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.value()),
        _ => Err(syn::Error::new_spanned(value, "expected a string literal")),
    }
}

fn lit_int<N: std::str::FromStr>(value: &Expr) -> syn::Result<N>
where
    N::Err: std::fmt::Display,
{
    match value {
        Expr::Lit(ExprLit { lit: Lit::Int(n), .. }) => n.base10_parse(),
        _ => Err(syn::Error::new_spanned(value, "expected an integer literal")),
    }
}

fn expand(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let args = parse_args(args)?;
    let ItemFn { attrs, vis, sig, block } = syn::parse2::<ItemFn>(item)?;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            "#[taskcheck_rt::test] goes on an `async fn` (it runs the body on its own runtime)",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(&sig.inputs, "a test function takes no arguments"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(&sig.generics, "a test function cannot be generic"));
    }

    let mut config = quote!(::taskcheck_rt::Config::new());
    if args.multi_thread == Some(true) {
        config = quote!(#config.flavor(::taskcheck_rt::Flavor::MultiThread));
    }
    if let Some((n, span)) = args.worker_threads {
        config = quote_spanned!(span=> #config.worker_threads(#n));
    }
    if let Some(ms) = args.grace_period_ms {
        config = quote!(#config.grace_period(::core::time::Duration::from_millis(#ms)));
    }
    if let Some(n) = args.allow_leaks {
        config = quote!(#config.allow_leaks(#n));
    }
    for prefix in &args.ignore_threads_named {
        config = quote!(#config.ignore_threads_named(#prefix));
    }

    // A second #[test] would register the test twice.
    let has_test = attrs.iter().any(|attr| {
        let path = attr.path();
        let std_test = path.segments.first().is_some_and(|s| s.ident == "core" || s.ident == "std")
            && path.segments.last().is_some_and(|s| s.ident == "test");
        path.is_ident("test") || std_test
    });
    let test_attr = if has_test { quote!() } else { quote!(#[::core::prelude::v1::test]) };
    let name = &sig.ident;
    let output = &sig.output;
    // The body becomes a nested async fn, so `?` and `return` behave as in the function the
    // user wrote (its return type is spelled out, which a closure's async block lacks).
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis fn #name() #output {
            async fn __taskcheck_rt_body() #output #block
            ::taskcheck_rt::check(#config, __taskcheck_rt_body)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{expand, TokenStream2};
    use quote::quote;

    fn expanded(args: TokenStream2, item: TokenStream2) -> String {
        expand(args, item).unwrap().to_string()
    }

    fn error(args: TokenStream2, item: TokenStream2) -> String {
        expand(args, item).unwrap_err().to_string()
    }

    #[test]
    fn no_arguments_is_a_current_thread_test_with_the_defaults() {
        let out = expanded(
            quote!(),
            quote!(
                async fn serves() {
                    run().await;
                }
            ),
        );
        let want = quote! {
            #[::core::prelude::v1::test]
            fn serves() {
                async fn __taskcheck_rt_body() { run().await; }
                ::taskcheck_rt::check(::taskcheck_rt::Config::new(), __taskcheck_rt_body)
            }
        };
        assert_eq!(out, want.to_string());
    }

    #[test]
    fn every_argument_becomes_a_config_call() {
        let out = expanded(
            quote!(
                flavor = "multi_thread",
                worker_threads = 2,
                grace_period_ms = 50,
                allow_leaks = 1,
                ignore_threads_named = "metrics",
                ignore_threads_named = "pool"
            ),
            quote!(
                #[should_panic(expected = "boom")]
                pub async fn serves() -> Result<(), String> {
                    Ok(())
                }
            ),
        );
        let want = quote! {
            #[::core::prelude::v1::test]
            #[should_panic(expected = "boom")]
            pub fn serves() -> Result<(), String> {
                async fn __taskcheck_rt_body() -> Result<(), String> { Ok(()) }
                ::taskcheck_rt::check(
                    ::taskcheck_rt::Config::new()
                        .flavor(::taskcheck_rt::Flavor::MultiThread)
                        .worker_threads(2usize)
                        .grace_period(::core::time::Duration::from_millis(50u64))
                        .allow_leaks(1usize)
                        .ignore_threads_named("metrics")
                        .ignore_threads_named("pool"),
                    __taskcheck_rt_body
                )
            }
        };
        assert_eq!(out, want.to_string());
    }

    #[test]
    fn an_existing_test_attribute_is_not_repeated() {
        let out = expanded(
            quote!(),
            quote!(
                #[test]
                async fn serves() {}
            ),
        );
        assert_eq!(out.matches("test").count(), 1, "{out}");
        assert!(!out.contains("prelude"), "{out}");
    }

    #[test]
    fn current_thread_is_accepted_by_name() {
        let out = expanded(
            quote!(flavor = "current_thread"),
            quote!(
                async fn serves() {}
            ),
        );
        assert!(!out.contains("MultiThread"), "{out}");
    }

    #[test]
    fn mistakes_are_compile_errors() {
        let item = || {
            quote!(
                async fn serves() {}
            )
        };
        assert!(error(quote!(worker_threads = 2), item()).contains("needs the multi_thread runtime"));
        assert!(error(quote!(flavor = "current_thread", worker_threads = 2), item()).contains("multi_thread"));
        assert!(error(quote!(flavor = "multi_thread", worker_threads = 0), item()).contains("may not be 0"));
        assert!(error(quote!(flavor = "local"), item()).contains("no runtime flavor `local`"));
        assert!(error(quote!(start_paused = true), item()).contains("unknown argument `start_paused`"));
        assert!(error(quote!(allow_leaks = "1"), item()).contains("expected an integer literal"));
        assert!(error(quote!(ignore_threads_named = 3), item()).contains("expected a string literal"));
        assert!(error(quote!(allow_leaks = 1, allow_leaks = 2), item()).contains("set more than once"));
        assert!(error(
            quote!(),
            quote!(
                fn serves() {}
            )
        )
        .contains("goes on an `async fn`"));
        assert!(error(
            quote!(),
            quote!(
                async fn serves(n: u32) {}
            )
        )
        .contains("takes no arguments"));
        assert!(error(
            quote!(),
            quote!(
                async fn serves<T>() {}
            )
        )
        .contains("cannot be generic"));
    }
}
