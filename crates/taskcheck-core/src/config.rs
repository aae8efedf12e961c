//! Configuration files: `taskcheck.toml`, `.taskcheck.toml`, or the `taskcheck` table
//! of a `Cargo.toml`'s `[workspace.metadata]`/`[package.metadata]`, discovered from each
//! linted file upwards; a nested config overrides its parents for its subtree.
//!
//! ```toml
//! [lints]
//! spawn_without_cancel = "deny"
//! pedantic = "warn"
//! [settings]
//! cancellation-sources = ["halt"]
//! channel-capacity-max = 10000
//! lint-tests = false
//! strict-async-loops = false
//! exclude = ["generated/**"]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::diagnostic::Level;
use crate::levels::{closest, LevelFlag};
use crate::settings::Settings;

/// One config file's contents, validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// `[lints]`, in file order.
    pub lints: Vec<LevelFlag>,
    pub cancellation_sources: Option<Vec<String>>,
    pub channel_capacity_max: Option<u64>,
    pub lint_tests: Option<bool>,
    pub strict_async_loops: Option<bool>,
    /// Globs relative to the config's directory.
    pub exclude: Vec<String>,
}

impl ConfigFile {
    /// The directory the config governs.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// A config that cannot be used: the file, the line (when known) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

const SETTINGS: &[&str] =
    &["cancellation-sources", "channel-capacity-max", "lint-tests", "strict-async-loops", "exclude"];
const LEVELS: &[&str] = &["allow", "warn", "deny"];

/// The 1-based line of the first line that starts with `key` (for messages).
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')) || l.starts_with(&format!("\"{key}\""))
        })
        .map(|i| i + 1)
}

/// Reads and validates one config file. `names` are the valid lint and group names.
/// `Ok(None)` for a `Cargo.toml` without a `taskcheck` table.
pub fn load(path: &Path, names: &[&str]) -> Result<Option<ConfigFile>, ConfigError> {
    let err = |line: Option<usize>, message: String| ConfigError { path: path.to_path_buf(), line, message };
    let text = std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        err(line, format!("invalid TOML: {}", e.message()))
    })?;
    let is_cargo = path.file_name().is_some_and(|n| n == "Cargo.toml");
    let tables: Vec<&toml::Table> = if is_cargo {
        ["workspace", "package"]
            .iter()
            .filter_map(|k| doc.get(*k)?.get("metadata")?.get("taskcheck")?.as_table())
            .collect()
    } else {
        vec![&doc]
    };
    if is_cargo && tables.is_empty() {
        return Ok(None);
    }
    let mut cfg = ConfigFile { path: path.to_path_buf(), ..ConfigFile::default() };
    for table in tables {
        for (key, value) in table {
            match key.as_str() {
                "lints" => {
                    let lints = value
                        .as_table()
                        .ok_or_else(|| err(line_of(&text, "[lints]"), "`lints` must be a table".into()))?;
                    for (name, level) in lints {
                        let line = line_of(&text, name);
                        let n = name.replace('-', "_");
                        if !names.contains(&n.as_str()) {
                            let hint = closest(&n, names.iter().copied())
                                .map(|c| format!("; did you mean `{c}`?"))
                                .unwrap_or_default();
                            return Err(err(line, format!("unknown lint or group `{name}`{hint}")));
                        }
                        let level = level.as_str().and_then(Level::parse).ok_or_else(|| {
                            err(
                                line,
                                format!(
                                    "`{name}` must be one of {}",
                                    LEVELS.iter().map(|l| format!("\"{l}\"")).collect::<Vec<_>>().join(", ")
                                ),
                            )
                        })?;
                        cfg.lints.push(LevelFlag::new(level, n).from_config(path));
                    }
                }
                "settings" => {
                    let settings = value
                        .as_table()
                        .ok_or_else(|| err(line_of(&text, "[settings]"), "`settings` must be a table".into()))?;
                    for (key, v) in settings {
                        let line = line_of(&text, key);
                        let wrong = |what: &str| err(line, format!("`{key}` must be {what}"));
                        match key.as_str() {
                            "cancellation-sources" | "exclude" => {
                                let list: Option<Vec<String>> = v
                                    .as_array()
                                    .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect());
                                let list = list.ok_or_else(|| wrong("a list of strings"))?;
                                if key == "exclude" {
                                    cfg.exclude = list;
                                } else {
                                    cfg.cancellation_sources = Some(list);
                                }
                            }
                            "channel-capacity-max" => {
                                let n = v.as_integer().filter(|n| *n > 0).ok_or_else(|| wrong("a positive integer"))?;
                                cfg.channel_capacity_max = Some(n as u64);
                            }
                            "lint-tests" => cfg.lint_tests = Some(v.as_bool().ok_or_else(|| wrong("true or false"))?),
                            "strict-async-loops" => {
                                cfg.strict_async_loops = Some(v.as_bool().ok_or_else(|| wrong("true or false"))?)
                            }
                            other => {
                                let hint = closest(other, SETTINGS.iter().copied())
                                    .map(|c| format!("; did you mean `{c}`?"))
                                    .unwrap_or_default();
                                return Err(err(line, format!("unknown setting `{other}`{hint}")));
                            }
                        }
                    }
                }
                other => {
                    let hint = closest(other, ["lints", "settings"])
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    let header =
                        text.lines().position(|l| l.trim_start().starts_with(&format!("[{other}"))).map(|i| i + 1);
                    return Err(err(header.or(line_of(&text, other)), format!("unknown key `{other}`{hint}")));
                }
            }
        }
    }
    // Groups first, then single lints: the specific setting wins, whatever the key order
    // (TOML tables are unordered).
    cfg.lints.sort_by_key(|f| !crate::lint::GROUP_NAMES.contains(&f.name.as_str()));
    Ok(Some(cfg))
}

/// The config files of one directory (`taskcheck.toml`, `.taskcheck.toml`, `Cargo.toml`
/// metadata), in increasing precedence.
fn in_dir(dir: &Path, names: &[&str]) -> Result<Vec<ConfigFile>, ConfigError> {
    let mut out = Vec::new();
    for file in ["Cargo.toml", ".taskcheck.toml", "taskcheck.toml"] {
        let p = dir.join(file);
        if p.is_file() {
            if let Some(c) = load(&p, names)? {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Discovers and caches the configs that govern each directory.
pub struct Configs {
    names: Vec<&'static str>,
    cache: Mutex<HashMap<PathBuf, Vec<ConfigFile>>>,
}

impl Configs {
    pub fn new(names: Vec<&'static str>) -> Self {
        Configs { names, cache: Mutex::new(HashMap::new()) }
    }

    /// The configs governing `dir`, outermost first (a nested one overrides its parents).
    pub fn chain(&self, dir: &Path) -> Result<Vec<ConfigFile>, ConfigError> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        if let Some(c) = self.cache.lock().expect("no panic holds this lock").get(&dir) {
            return Ok(c.clone());
        }
        let mut chain = match dir.parent() {
            Some(parent) => self.chain(parent)?,
            None => Vec::new(),
        };
        chain.extend(in_dir(&dir, &self.names)?);
        self.cache.lock().expect("no panic holds this lock").insert(dir, chain.clone());
        Ok(chain)
    }

    /// The chain for a file (its directory's).
    pub fn for_file(&self, file: &Path) -> Result<Vec<ConfigFile>, ConfigError> {
        self.chain(file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
    }
}

/// The level flags of a chain, outermost first.
pub fn level_flags(chain: &[ConfigFile]) -> Vec<LevelFlag> {
    chain.iter().flat_map(|c| c.lints.iter().cloned()).collect()
}

/// The settings of a chain over the defaults.
pub fn settings(chain: &[ConfigFile]) -> Settings {
    let mut s = Settings::default();
    for c in chain {
        if let Some(v) = &c.cancellation_sources {
            s.cancellation_sources = v.clone();
        }
        if let Some(v) = c.channel_capacity_max {
            s.channel_capacity_max = v;
        }
        if let Some(v) = c.lint_tests {
            s.lint_tests = v;
        }
        if let Some(v) = c.strict_async_loops {
            s.strict_async_loops = v;
        }
    }
    s
}

/// Whether `file` is excluded by a config of its chain (globs relative to each config's
/// directory).
pub fn is_excluded(chain: &[ConfigFile], file: &Path) -> bool {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    chain.iter().any(|c| {
        let Ok(rel) = file.strip_prefix(std::path::absolute(c.dir()).unwrap_or_else(|_| c.dir().to_path_buf())) else {
            return false;
        };
        c.exclude.iter().any(|g| globset::Glob::new(g).is_ok_and(|g| g.compile_matcher().is_match(rel)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["spawn_without_cancel", "lost_cancel", "pedantic", "all"];

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn loads_levels_and_settings() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "taskcheck.toml",
            "[lints]\nspawn_without_cancel = \"deny\"\npedantic = \"warn\"\n[settings]\nlint-tests = true\nchannel-capacity-max = 64\nexclude = [\"gen/**\"]\n",
        );
        let c = load(&p, NAMES).unwrap().unwrap();
        assert_eq!(c.lints.len(), 2);
        // The group comes first, so the lint's own level wins.
        assert_eq!((c.lints[0].name.as_str(), c.lints[1].name.as_str()), ("pedantic", "spawn_without_cancel"));
        assert_eq!(c.lints[1].level, Level::Deny);
        assert_eq!((c.lint_tests, c.channel_capacity_max), (Some(true), Some(64)));
        assert!(is_excluded(std::slice::from_ref(&c), &dir.path().join("gen/a.rs")));
        assert!(!is_excluded(&[c], &dir.path().join("src/a.rs")));
    }

    #[test]
    fn errors_name_the_file_line_and_closest_key() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("[lints]\nspawn_without_cancle = \"deny\"\n", 2, "did you mean `spawn_without_cancel`?"),
            ("[lints]\nlost_cancel = \"loud\"\n", 2, "must be one of"),
            ("[settings]\nlint_tests = true\n", 2, "did you mean `lint-tests`?"),
            ("[settings]\nlint-tests = 1\n", 2, "must be true or false"),
            ("[lint]\n", 1, "did you mean `lints`?"),
            ("[lints\n", 1, "invalid TOML"),
        ];
        for (text, line, msg) in cases {
            let p = write(dir.path(), "taskcheck.toml", text);
            let e = load(&p, NAMES).unwrap_err();
            assert_eq!(e.line, Some(line), "{text}: {e}");
            assert!(e.to_string().contains(msg), "{text}: {e}");
        }
    }

    #[test]
    fn nested_configs_override_their_parents() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[workspace]\n[workspace.metadata.taskcheck.lints]\nlost_cancel = \"deny\"\n");
        write(dir.path(), "svc/taskcheck.toml", "[lints]\nlost_cancel = \"allow\"\n[settings]\nlint-tests = true\n");
        let configs = Configs::new(NAMES.to_vec());
        let chain = configs.for_file(&dir.path().join("svc/src/main.rs")).unwrap();
        let flags = level_flags(&chain);
        assert_eq!(flags.iter().map(|f| f.level).collect::<Vec<_>>(), [Level::Deny, Level::Allow]);
        assert!(settings(&chain).lint_tests);
        let outer = configs.for_file(&dir.path().join("other.rs")).unwrap();
        assert_eq!(level_flags(&outer).len(), 1);
        assert!(!settings(&outer).lint_tests);
    }
}
