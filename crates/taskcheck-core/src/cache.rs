//! The opt-in on-disk cache (`--cache-dir`), in the spirit of ruff's: the facts of each
//! file, so that an unchanged file is not parsed again on the next run.
//!
//! One bundle per crate (named after a hash of the crate root) maps a key to the
//! serialized facts of one file. The key covers everything the facts depend on: the
//! text the parser would see (the prefilter's reduced text, which depends on the rest of
//! the crate, or the whole file), the file's path in its crate, the lints that can fire
//! in the crate, the analyzer's own settings for the file, and taskcheck's version. A
//! file whose key is found is not parsed; the crate-wide join always runs, so findings
//! are those of a run without the cache. Files that failed to parse are not cached (they
//! are rare, and their error is reported again). A bundle that cannot be read is ignored;
//! each run rewrites the bundles of the crates it linted with only the keys it used.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bumped when the bundle layout changes; the version of taskcheck is in every key too.
const FORMAT: u32 = 1;

/// The cached facts of one crate, and those this run adds.
pub struct CrateCache {
    path: PathBuf,
    old: HashMap<u64, Vec<u8>>,
    new: Mutex<Vec<(u64, Vec<u8>)>>,
}

/// What a key is made of (see the module docs).
#[derive(Clone, Copy)]
pub struct KeyParts<'a> {
    pub text: &'a str,
    pub rel_path: &'a str,
    pub crate_root: Option<&'a Path>,
    pub active: Option<&'a [&'static str]>,
    pub analyzer: u64,
}

/// The key of one file's facts.
pub fn key(parts: &KeyParts<'_>) -> u64 {
    // `DefaultHasher::new()` is the same in every process of one build; a different
    // build only means misses (the version is hashed too).
    let mut h = std::collections::hash_map::DefaultHasher::new();
    FORMAT.hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    parts.text.hash(&mut h);
    parts.rel_path.hash(&mut h);
    parts.crate_root.hash(&mut h);
    parts.active.hash(&mut h);
    parts.analyzer.hash(&mut h);
    h.finish()
}

impl CrateCache {
    /// The bundle of the crate at `root` (or of the loose files starting with `first`).
    pub fn open(dir: &Path, root: &Path) -> CrateCache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        root.hash(&mut h);
        let path = dir.join(format!("{:016x}.facts", h.finish()));
        let old = std::fs::read(&path)
            .ok()
            .and_then(|bytes| postcard::from_bytes::<(u32, Vec<(u64, Vec<u8>)>)>(&bytes).ok())
            .filter(|(format, _)| *format == FORMAT)
            .map(|(_, entries)| entries.into_iter().collect())
            .unwrap_or_default();
        CrateCache { path, old, new: Mutex::new(Vec::new()) }
    }

    /// The facts stored under `key`, if any (and readable).
    pub fn get<F: DeserializeOwned>(&self, key: u64) -> Option<F> {
        let bytes = self.old.get(&key)?;
        let facts = postcard::from_bytes(bytes).ok()?;
        self.new.lock().unwrap_or_else(|e| e.into_inner()).push((key, bytes.clone()));
        Some(facts)
    }

    /// Stores the facts of a file analyzed in this run.
    pub fn put<F: Serialize>(&self, key: u64, facts: &F) {
        if let Ok(bytes) = postcard::to_stdvec(facts) {
            self.new.lock().unwrap_or_else(|e| e.into_inner()).push((key, bytes));
        }
    }

    /// Writes the bundle: the keys this run used, sorted (a temp file renamed over the
    /// old one, so a reader never sees half a bundle).
    pub fn save(self) -> std::io::Result<()> {
        let mut entries = self.new.into_inner().unwrap_or_else(|e| e.into_inner());
        entries.sort_unstable_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        if entries.is_empty() && self.old.is_empty() {
            return Ok(());
        }
        let bytes = postcard::to_stdvec(&(FORMAT, entries)).map_err(std::io::Error::other)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, &bytes)?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_reads_back_and_keeps_only_used_keys() {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new("/some/crate");
        let c = CrateCache::open(dir.path(), root);
        assert_eq!(c.get::<Vec<u32>>(1), None);
        c.put(1, &vec![1u32, 2, 3]);
        c.put(2, &vec![4u32]);
        c.save().unwrap();
        let c = CrateCache::open(dir.path(), root);
        assert_eq!(c.get::<Vec<u32>>(1), Some(vec![1, 2, 3]));
        c.save().unwrap();
        // Key 2 was not used by the second run: gone.
        let c = CrateCache::open(dir.path(), root);
        assert_eq!(c.get::<Vec<u32>>(2), None);
        assert_eq!(c.get::<Vec<u32>>(1), Some(vec![1, 2, 3]));
        // Another crate has its own bundle.
        assert_eq!(CrateCache::open(dir.path(), Path::new("/other")).get::<Vec<u32>>(1), None);
    }

    #[test]
    fn a_damaged_bundle_is_ignored_and_keys_change_with_any_part() {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new("/c");
        let c = CrateCache::open(dir.path(), root);
        c.put(7, &1u8);
        c.save().unwrap();
        let bundle = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        std::fs::write(&bundle, b"\xff\xff garbage").unwrap();
        assert_eq!(CrateCache::open(dir.path(), root).get::<u8>(7), None);

        let base = KeyParts { text: "fn a() {}", rel_path: "src/lib.rs", crate_root: None, active: None, analyzer: 0 };
        let k = key(&base);
        assert_eq!(k, key(&base));
        assert_ne!(k, key(&KeyParts { text: "fn b() {}", ..base }));
        assert_ne!(k, key(&KeyParts { rel_path: "src/main.rs", ..base }));
        assert_ne!(k, key(&KeyParts { crate_root: Some(Path::new("/c")), ..base }));
        assert_ne!(k, key(&KeyParts { active: Some(&["x"]), ..base }));
        assert_ne!(k, key(&KeyParts { analyzer: 1, ..base }));
    }
}
