//! Settings that change what lints look at (the `[settings]` table of the config).

/// Lint settings; defaults follow the product spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Lint test code too (off by default: test code is allowed to leak).
    pub lint_tests: bool,
    /// Go-style: flag every never-ending loop in async code, not only unstoppable ones.
    pub strict_async_loops: bool,
    /// Extra words (or paths) that name cancellation sources.
    pub cancellation_sources: Vec<String>,
    /// Channel capacities at or above this are oversized.
    pub channel_capacity_max: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lint_tests: false,
            strict_async_loops: false,
            cancellation_sources: Vec::new(),
            channel_capacity_max: 10_000,
        }
    }
}

impl Settings {
    /// The word segments user-added cancellation sources contribute
    /// (`my_crate::shutdown::Signal::wait` adds `wait`'s owner words `signal`, `wait`).
    pub fn extra_cancel_words(&self) -> Vec<String> {
        self.cancellation_sources.iter().filter_map(|s| s.rsplit("::").next()).map(|s| s.to_lowercase()).collect()
    }
}
