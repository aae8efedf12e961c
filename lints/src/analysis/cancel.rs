//! Cancellation sources: expressions that observe a stop request.

use super::paths::Resolved;
use super::words::has_cancel_word;

/// Methods that observe a stop request on any receiver.
pub const CANCEL_METHODS: &[&str] = &[
    "cancelled",
    "cancelled_owned",
    "is_cancelled",
    "run_until_cancelled",
    "run_until_cancelled_owned",
    "closed",
    "is_closed",
];

/// Paths that are cancellation sources by themselves.
pub fn is_signal_path(path: &Resolved) -> bool {
    let j = path.joined();
    j.starts_with("tokio::signal::") || j.starts_with("async_ctrlc") || j.starts_with("ctrlc::")
}

/// Whether an identifier (binding, field or method name) names a stop request.
pub fn is_cancel_name(ident: &str, extra: &[String]) -> bool {
    has_cancel_word(ident, extra)
}

/// Methods that bound a future's lifetime when its caller races it: `main` racing a
/// call through one of these is not waiting forever.
pub fn is_racing_method(name: &str) -> bool {
    matches!(name, "run_until_cancelled" | "run_until_cancelled_owned" | "with_graceful_shutdown")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::paths::{Resolver, UseScope};

    #[test]
    fn signal_paths_after_resolution() {
        let file = syn::parse_file("use tokio::signal::ctrl_c;").unwrap();
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        assert!(is_signal_path(&r.resolve(&syn::parse_str("ctrl_c").unwrap())));
        assert!(!is_signal_path(&r.resolve(&syn::parse_str("tokio::time::sleep").unwrap())));
    }

    #[test]
    fn names_and_racing_methods() {
        assert!(is_cancel_name("shutdown_rx", &[]));
        assert!(!is_cancel_name("stopwatch", &[]));
        assert!(is_racing_method("with_graceful_shutdown"));
        assert!(!is_racing_method("await_shutdown"));
    }
}
