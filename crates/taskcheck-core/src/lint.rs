//! Lint metadata. Each lint declares its metadata and docs next to its logic with
//! [`declare_lint!`]; the docs string is built from the doc comment, so `taskcheck explain`
//! and generated docs come from the code.

use crate::diagnostic::Level;

/// The family a lint belongs to (the sections of the rule catalogue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Tasks and threads that never end.
    Lifecycle,
    /// Cancellation and timeouts.
    Timeouts,
    /// Shared state and resources that only grow.
    Resources,
    /// The tool's own hygiene: suppression comments.
    Suppressions,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Lifecycle => "lifecycle",
            Group::Timeouts => "timeouts",
            Group::Resources => "resources",
            Group::Suppressions => "suppressions",
        }
    }
}

/// Whether a lint is on by default, pedantic (style, allow by default) or in the
/// nursery (measured to be noisy, allow by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Default,
    Pedantic,
    Nursery,
}

impl Tier {
    pub fn group_name(self) -> Option<&'static str> {
        match self {
            Tier::Default => None,
            Tier::Pedantic => Some("pedantic"),
            Tier::Nursery => Some("nursery"),
        }
    }
}

/// What kind of fix a lint can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    Safe,
    Unsafe,
    /// Some findings get a fix, others only help.
    Sometimes,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "no",
            FixAvailability::Safe => "safe",
            FixAvailability::Unsafe => "unsafe",
            FixAvailability::Sometimes => "sometimes",
        }
    }
}

/// Static description of one lint.
#[derive(Debug)]
pub struct LintMeta {
    pub name: &'static str,
    pub group: Group,
    pub tier: Tier,
    pub default_level: Level,
    pub fix: FixAvailability,
    /// One line: what the lint finds.
    pub summary: &'static str,
    /// Markdown docs: What it does / Why is this bad / Example / Use instead / ...
    pub docs: &'static str,
    /// The words without which it cannot fire, for the prefilter.
    pub triggers: crate::prefilter::Triggers,
}

impl LintMeta {
    /// Group names this lint belongs to, for `-W GROUP` and config.
    pub fn group_names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.group.as_str()).chain(self.tier.group_name())
    }

    /// The docs as Markdown: doc comments keep the space after `///`, drop it.
    pub fn docs_markdown(&self) -> String {
        self.docs.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect::<Vec<_>>().join("\n")
    }

    /// URL of the lint's documentation.
    pub fn doc_url(&self) -> String {
        format!("{}#{}", DOCS_URL, self.name)
    }
}

/// Where the lint docs live (the generated rule reference).
pub const DOCS_URL: &str = "https://github.com/taskcheck/taskcheck/blob/main/docs/lints.md";

/// Names usable as groups in `-W/-A/-D` and config.
pub const GROUP_NAMES: &[&str] = &["lifecycle", "timeouts", "resources", "suppressions", "pedantic", "nursery", "all"];

/// Declares a lint's metadata with its docs taken from the doc comment.
///
/// ```
/// taskcheck_core::declare_lint! {
///     /// ### What it does
///     /// Finds things.
///     pub EXAMPLE_LINT,
///     name: "example_lint",
///     group: Lifecycle,
///     tier: Default,
///     level: Warn,
///     fix: None,
///     summary: "finds things",
/// }
/// assert_eq!(EXAMPLE_LINT.name, "example_lint");
/// assert!(EXAMPLE_LINT.docs.contains("Finds things."));
/// assert!(EXAMPLE_LINT.docs_markdown().starts_with("### What it does\nFinds things."));
/// ```
#[macro_export]
macro_rules! declare_lint {
    (@triggers) => {
        $crate::prefilter::Triggers::EVERYTHING
    };
    (@triggers [$($a:literal),*] [$($c:literal),*] [$($f:literal),*] [$($k:literal),*] $scope:ident) => {
        $crate::prefilter::Triggers {
            anchors: &[$($a),*],
            context: &[$($c),*],
            follow: &[$($f),*],
            callers: &[$($k),*],
            scope: $crate::prefilter::Scope::$scope,
        }
    };
    (
        $(#[doc = $doc:expr])*
        $vis:vis $ident:ident,
        name: $name:literal,
        group: $group:ident,
        tier: $tier:ident,
        level: $level:ident,
        fix: $fix:ident,
        summary: $summary:literal
        $(, triggers: {
            anchors: [$($a:literal),* $(,)?],
            context: [$($c:literal),* $(,)?],
            follow: [$($f:literal),* $(,)?],
            callers: [$($k:literal),* $(,)?],
            scope: $scope:ident $(,)?
        })?
        $(,)?
    ) => {
        $vis static $ident: $crate::lint::LintMeta = $crate::lint::LintMeta {
            name: $name,
            group: $crate::lint::Group::$group,
            tier: $crate::lint::Tier::$tier,
            default_level: $crate::diagnostic::Level::$level,
            fix: $crate::lint::FixAvailability::$fix,
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
            triggers: $crate::declare_lint!(@triggers $([$($a),*] [$($c),*] [$($f),*] [$($k),*] $scope)?),
        };
    };
}
