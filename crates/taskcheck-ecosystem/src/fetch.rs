//! Getting each pinned package's sources.
//!
//! `cargo info NAME@VERSION` downloads exactly that package from crates.io into cargo's
//! registry cache and unpacks it into `$CARGO_HOME/registry/src/<index>/NAME-VERSION`
//! (it has to read the manifest), without resolving or downloading its dependencies and
//! without building anything. That also works for binary-only packages, which cannot be
//! `[dependencies]` of a scratch project. A package already unpacked is not fetched again.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::packages::Package;

/// `$CARGO_HOME` (default `~/.cargo`).
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// The unpacked package in any of cargo's registry source directories (sorted, first wins).
pub fn find(pkg: &Package) -> Option<PathBuf> {
    let src = cargo_home().join("registry").join("src");
    let mut indexes: Vec<PathBuf> = std::fs::read_dir(src).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    indexes.sort();
    indexes.into_iter().map(|i| i.join(pkg.dir_name())).find(|d| d.join("Cargo.toml").is_file())
}

/// The package's directory, downloaded with `cargo info` when it is not unpacked yet.
pub fn fetch(pkg: &Package, scratch: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = find(pkg) {
        return Ok(dir);
    }
    // Outside any workspace, so that cargo does not answer from a lockfile.
    std::fs::create_dir_all(scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let spec = format!("{}@{}", pkg.name, pkg.version);
    let out = Command::new(cargo)
        .args(["info", "--quiet", &spec])
        .current_dir(scratch)
        .output()
        .map_err(|e| format!("cannot run `cargo info {spec}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`cargo info {spec}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    find(pkg).ok_or_else(|| format!("`cargo info {spec}` ran, but {} is not in cargo's registry", pkg.dir_name()))
}
