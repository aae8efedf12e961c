//! `cargo taskcheck`: which files to lint, from `cargo metadata` — the workspace
//! members' `src/`, `tests/`, `examples/` and `benches/`, narrowed by `-p`, widened by
//! `--workspace`, found from `--manifest-path` or the current directory.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package};
use taskcheck_core::levels::closest;

/// The package selection flags.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub packages: Vec<String>,
    pub workspace: bool,
    pub manifest_path: Option<PathBuf>,
}

/// The directories of a package that hold Rust sources.
const SOURCE_DIRS: &[&str] = &["src", "tests", "examples", "benches"];

/// The paths to lint for a selection, or an error message for the user.
pub fn paths(sel: &Selection, cwd: &Path) -> Result<Vec<PathBuf>, String> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps().current_dir(cwd);
    if let Some(m) = &sel.manifest_path {
        cmd.manifest_path(m);
    }
    let meta = cmd.exec().map_err(|e| match e {
        cargo_metadata::Error::CargoMetadata { stderr } if stderr.contains("could not find `Cargo.toml`") => {
            format!(
                "no cargo project here (no `Cargo.toml` in {} or above); to lint files without one, run `taskcheck PATH`",
                cwd.display()
            )
        }
        other => format!("`cargo metadata` failed: {}", other.to_string().trim()),
    })?;
    let selected = select(&meta, sel, cwd)?;
    let mut out = Vec::new();
    for p in selected {
        let dir = p.manifest_path.parent().map(|d| d.as_std_path().to_path_buf()).unwrap_or_default();
        out.extend(SOURCE_DIRS.iter().map(|s| dir.join(s)).filter(|d| d.is_dir()));
    }
    if out.is_empty() {
        return Err("the selected packages have no `src/`, `tests/`, `examples/` or `benches/` directory".into());
    }
    Ok(out)
}

/// Cargo's rules: `-p NAME` picks packages; `--workspace`, or a virtual workspace root,
/// picks every member; otherwise the package around the current directory (or the
/// `--manifest-path` package).
fn select<'m>(meta: &'m Metadata, sel: &Selection, cwd: &Path) -> Result<Vec<&'m Package>, String> {
    let members = meta.workspace_packages();
    if !sel.packages.is_empty() {
        let mut out = Vec::new();
        for name in &sel.packages {
            match members.iter().find(|p| p.name.as_str() == name) {
                Some(p) => out.push(*p),
                None => {
                    let hint = closest(name, members.iter().map(|p| p.name.as_str()))
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    return Err(format!("package `{name}` is not a member of the workspace{hint}"));
                }
            }
        }
        return Ok(out);
    }
    if sel.workspace {
        return Ok(members);
    }
    let anchor = match &sel.manifest_path {
        Some(m) => std::path::absolute(m).unwrap_or_else(|_| m.clone()),
        None => std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf()).join("Cargo.toml"),
    };
    let anchor_dir = anchor.parent().unwrap_or(Path::new("/")).to_path_buf();
    // The innermost member whose directory holds the anchor.
    let current = members
        .iter()
        .filter(|p| p.manifest_path.parent().is_some_and(|d| anchor_dir.starts_with(d.as_std_path())))
        .max_by_key(|p| p.manifest_path.as_str().len());
    Ok(match current {
        Some(p) => vec![*p],
        None => members,
    })
}
