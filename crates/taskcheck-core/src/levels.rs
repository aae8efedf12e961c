//! Resolving lint levels from defaults and `-W/-A/-D` flags (groups, `all`, `warnings`).

use std::collections::HashMap;

use crate::diagnostic::{Level, LevelSource};
use crate::lint::{LintMeta, GROUP_NAMES};

/// One `-W/-A/-D NAME` flag, in command-line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelFlag {
    pub level: Level,
    pub name: String,
    /// The config file it comes from (`None`: the command line).
    pub origin: Option<String>,
}

impl LevelFlag {
    pub fn new(level: Level, name: impl Into<String>) -> Self {
        LevelFlag { level, name: name.into(), origin: None }
    }

    /// The same flag, set in a config file.
    pub fn from_config(mut self, path: &std::path::Path) -> Self {
        self.origin = Some(path.display().to_string());
        self
    }

    fn spelled(&self) -> String {
        if let Some(origin) = &self.origin {
            return format!("{} = \"{}\" in {origin}", self.name, self.level.as_str());
        }
        let f = match self.level {
            Level::Allow => "-A",
            Level::Warn => "-W",
            Level::Deny => "-D",
        };
        format!("{f} {}", self.name)
    }
}

/// An unknown lint or group name, with the closest valid name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    pub name: String,
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown lint or group `{}`", self.name)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

/// Finds the known name closest to `name` (for "did you mean").
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let name = name.replace('-', "_");
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// The effective level of every lint.
#[derive(Clone, Debug)]
pub struct Levels {
    levels: HashMap<&'static str, (Level, LevelSource)>,
}

impl Levels {
    /// Applies `flags` in order over the defaults. `warnings` (as in `-D warnings`)
    /// turns every lint that ends up at warn into deny, like rustc.
    pub fn resolve(lints: &[&'static LintMeta], flags: &[LevelFlag]) -> Result<Levels, UnknownName> {
        let mut levels: HashMap<&'static str, (Level, LevelSource)> =
            lints.iter().map(|l| (l.name, (l.default_level, LevelSource::Default))).collect();
        let mut warnings_as: Option<(Level, String)> = None;
        for flag in flags {
            let name = flag.name.replace('-', "_");
            if name == "warnings" {
                warnings_as = Some((flag.level, flag.spelled()));
                continue;
            }
            let matched: Vec<&LintMeta> = lints
                .iter()
                .copied()
                .filter(|l| name == "all" || l.name == name || l.group_names().any(|g| g == name))
                .collect();
            if matched.is_empty() && !GROUP_NAMES.contains(&name.as_str()) {
                let candidates = lints.iter().map(|l| l.name).chain(GROUP_NAMES.iter().copied()).chain(["warnings"]);
                return Err(UnknownName { suggestion: closest(&name, candidates), name: flag.name.clone() });
            }
            for l in matched {
                levels.insert(l.name, (flag.level, LevelSource::CommandLine(flag.spelled())));
            }
        }
        if let Some((level, spelled)) = warnings_as {
            for v in levels.values_mut() {
                if v.0 == Level::Warn {
                    *v = (level, LevelSource::CommandLine(spelled.clone()));
                }
            }
        }
        Ok(Levels { levels })
    }

    /// The level of `lint` (lints not in the table are allowed).
    pub fn level(&self, lint: &str) -> Level {
        self.levels.get(lint).map_or(Level::Allow, |v| v.0)
    }

    /// The level of `lint` and where it came from.
    pub fn get(&self, lint: &str) -> Option<&(Level, LevelSource)> {
        self.levels.get(lint)
    }

    /// Whether any lint in the table is enabled.
    pub fn is_enabled(&self, lint: &str) -> bool {
        self.level(lint) != Level::Allow
    }

    /// The lints that are not allowed.
    pub fn enabled(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.levels.iter().filter(|(_, (l, _))| *l != Level::Allow).map(|(name, _)| *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    crate::declare_lint! {
        /// A default lint.
        A,
        name: "spawn_without_cancel",
        group: Lifecycle,
        tier: Default,
        level: Warn,
        fix: None,
        summary: "",
    }
    crate::declare_lint! {
        /// A pedantic lint.
        B,
        name: "unbounded_channel",
        group: Resources,
        tier: Pedantic,
        level: Allow,
        fix: None,
        summary: "",
    }

    #[test]
    fn flags_apply_in_order_with_groups() {
        let lints = [&A, &B];
        let l = Levels::resolve(&lints, &[]).unwrap();
        assert_eq!(l.level("spawn_without_cancel"), Level::Warn);
        assert_eq!(l.level("unbounded_channel"), Level::Allow);
        let l =
            Levels::resolve(&lints, &[LevelFlag::new(Level::Deny, "all"), LevelFlag::new(Level::Allow, "pedantic")])
                .unwrap();
        assert_eq!(l.level("spawn_without_cancel"), Level::Deny);
        assert_eq!(l.level("unbounded_channel"), Level::Allow);
    }

    #[test]
    fn deny_warnings_promotes_only_warnings() {
        let lints = [&A, &B];
        let l = Levels::resolve(&lints, &[LevelFlag::new(Level::Deny, "warnings")]).unwrap();
        assert_eq!(l.level("spawn_without_cancel"), Level::Deny);
        assert_eq!(l.level("unbounded_channel"), Level::Allow);
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let err = Levels::resolve(&[&A, &B], &[LevelFlag::new(Level::Warn, "spawn_witout_cancel")]).unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("spawn_without_cancel"));
        assert_eq!(
            err.to_string(),
            "unknown lint or group `spawn_witout_cancel`; did you mean `spawn_without_cancel`?"
        );
        // Dashes are accepted like rustc's lint names.
        assert!(Levels::resolve(&[&A], &[LevelFlag::new(Level::Warn, "spawn-without-cancel")]).is_ok());
    }
}
