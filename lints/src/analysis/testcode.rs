//! Recognising test code: test fns, `#[cfg(test)]` items, test files.

use syn::Attribute;

/// Whether a `cfg(..)` predicate enables the item only under `test`
/// (`test`, `all(test, ..)`, `any(test, ..)`; never under `not(test)`).
pub fn cfg_mentions_test(attr: &Attribute) -> bool {
    if !attr.path().is_ident("cfg") {
        return false;
    }
    let Ok(meta) = attr.parse_args::<syn::Meta>() else {
        return false;
    };
    meta_has_test(&meta)
}

fn meta_has_test(meta: &syn::Meta) -> bool {
    match meta {
        syn::Meta::Path(p) => p.is_ident("test"),
        syn::Meta::List(list) => {
            if list.path.is_ident("not") {
                return false;
            }
            let Ok(nested) =
                list.parse_args_with(syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
            else {
                return false;
            };
            if list.path.is_ident("all") || list.path.is_ident("any") {
                nested.iter().any(meta_has_test)
            } else {
                false
            }
        }
        syn::Meta::NameValue(_) => false,
    }
}

/// Whether attributes mark an item as test code: `#[test]`, `#[tokio::test]` and other
/// `*::test`, `#[bench]`, `#[cfg(test)]`.
pub fn is_test_item(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        let p = a.path();
        p.segments.last().is_some_and(|s| s.ident == "test" || s.ident == "bench") || cfg_mentions_test(a)
    })
}

/// Whether a file's inner attributes make it test code (`#![cfg(test)]`).
pub fn is_test_file_attrs(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| matches!(a.style, syn::AttrStyle::Inner(_)) && cfg_mentions_test(a))
}

/// Whether a crate-relative path is test code by location: `tests/`, `benches/`, and
/// `fuzz/` (cargo-fuzz harnesses loop forever by design).
pub fn is_test_path(rel_path: &str) -> bool {
    ["tests/", "benches/", "fuzz/"].iter().any(|p| rel_path.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(src: &str) -> Vec<Attribute> {
        let f: syn::ItemFn = syn::parse_str(&format!("{src} fn f() {{}}")).unwrap();
        f.attrs
    }

    #[test]
    fn recognises_test_attributes() {
        assert!(is_test_item(&attrs("#[test]")));
        assert!(is_test_item(&attrs("#[tokio::test(flavor = \"multi_thread\")]")));
        assert!(is_test_item(&attrs("#[cfg(test)]")));
        assert!(is_test_item(&attrs("#[cfg(all(test, feature = \"x\"))]")));
        assert!(!is_test_item(&attrs("#[cfg(not(test))]")));
        assert!(!is_test_item(&attrs("#[tokio::main]")));
        assert!(!is_test_item(&attrs("#[cfg(feature = \"test-utils\")]")));
    }

    #[test]
    fn recognises_test_paths() {
        assert!(is_test_path("tests/integration.rs"));
        assert!(is_test_path("benches/throughput.rs"));
        assert!(is_test_path("fuzz/fuzz_targets/parse.rs"));
        assert!(!is_test_path("src/tests_util.rs"));
    }
}
