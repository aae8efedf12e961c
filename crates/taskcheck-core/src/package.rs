//! Cargo package information for machine-readable output: the package id, manifest path
//! and target that cargo's `compiler-message` lines carry, read from `Cargo.toml` without
//! running cargo.

use std::path::{Component, Path, PathBuf};

/// The facts of one cargo package that JSON output needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageInfo {
    /// `[package] name`.
    pub name: String,
    /// `[package] version` (inherited from the workspace when possible, else `0.0.0`).
    pub version: String,
    /// `[package] edition` (inherited from the workspace when possible).
    pub edition: String,
    /// Absolute path of the package directory.
    pub root: PathBuf,
    /// Absolute path of `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Cargo's package id, e.g. `path+file:///abs/dir#name@1.0.0`.
    pub package_id: String,
}

/// A cargo target (lib, bin, test, example, bench, build script) in cargo's JSON shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `["lib"]`, `["bin"]`, `["test"]`, `["example"]`, `["bench"]` or `["custom-build"]`.
    pub kind: Vec<String>,
    /// `["lib"]` for libraries, `["bin"]` for everything else.
    pub crate_types: Vec<String>,
    /// Target name as cargo spells it (`-` becomes `_` for libraries).
    pub name: String,
    /// Absolute path of the target's root file.
    pub src_path: PathBuf,
    /// The package's edition.
    pub edition: String,
    /// Documented by `cargo doc`.
    pub doc: bool,
    /// Its doc tests run.
    pub doctest: bool,
    /// Built and run by `cargo test`.
    pub test: bool,
}

impl PackageInfo {
    /// Reads `root/Cargo.toml`; `None` when it is missing, malformed or has no `[package]`.
    pub fn from_root(root: &Path) -> Option<PackageInfo> {
        let root = std::path::absolute(root).ok()?;
        let root = normalize(&root);
        let manifest_path = root.join("Cargo.toml");
        let manifest = read_toml(&manifest_path)?;
        let package = manifest.get("package")?.as_table()?;
        let name = package.get("name")?.as_str()?.to_string();
        let version = field(package, "version", &root).unwrap_or_else(|| "0.0.0".into());
        let edition = match package.get("edition") {
            // Cargo's default when a manifest names no edition.
            None => "2015".into(),
            Some(_) => field(package, "edition", &root).unwrap_or_else(|| "2021".into()),
        };
        let package_id = package_id(&root, &name, &version);
        Some(PackageInfo { name, version, edition, root, manifest_path, package_id })
    }

    /// The target `file` belongs to, by cargo's auto-discovery conventions.
    pub fn target_for(&self, file: &Path) -> Target {
        let abs = std::path::absolute(file).map(|p| normalize(&p)).unwrap_or_else(|_| file.to_path_buf());
        let rel = abs.strip_prefix(&self.root).unwrap_or(&abs);
        let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let lib_root = self.root.join("src/lib.rs");
        let main_root = self.root.join("src/main.rs");
        let named = |kind: &str, dir: &str, name: &str| -> Target {
            let single = self.root.join(dir).join(format!("{name}.rs"));
            let src_path = if single.is_file() { single } else { self.root.join(dir).join(name).join("main.rs") };
            self.target(kind, name.to_string(), src_path)
        };
        match parts.as_slice() {
            ["build.rs"] => self.target("custom-build", "build-script-build".into(), abs.clone()),
            ["src", "main.rs"] => self.target("bin", self.name.clone(), main_root),
            ["src", "bin", file] if file.ends_with(".rs") => named("bin", "src/bin", file.trim_end_matches(".rs")),
            ["src", "bin", dir, ..] => named("bin", "src/bin", dir),
            [dir @ ("tests" | "examples" | "benches"), rest @ ..] if !rest.is_empty() => {
                let kind = match *dir {
                    "tests" => "test",
                    "examples" => "example",
                    _ => "bench",
                };
                let name = rest[0].trim_end_matches(".rs");
                named(kind, dir, name)
            }
            _ if lib_root.is_file() => self.target("lib", self.name.replace('-', "_"), lib_root),
            _ if main_root.is_file() => self.target("bin", self.name.clone(), main_root),
            _ => self.target("lib", self.name.replace('-', "_"), abs.clone()),
        }
    }

    fn target(&self, kind: &str, name: String, src_path: PathBuf) -> Target {
        let (doc, doctest, test) = match kind {
            "lib" => (true, true, true),
            "bin" => (true, false, true),
            "test" => (false, false, true),
            _ => (false, false, false),
        };
        let crate_type = if kind == "lib" { "lib" } else { "bin" };
        Target {
            kind: vec![kind.to_string()],
            crate_types: vec![crate_type.to_string()],
            name,
            src_path,
            edition: self.edition.clone(),
            doc,
            doctest,
            test,
        }
    }
}

/// Cargo's package id for a path dependency: the name is left out when it equals the
/// directory's name, exactly as `cargo metadata` prints it, so editors can match the two.
pub fn package_id(root: &Path, name: &str, version: &str) -> String {
    let url = file_url(root);
    let dir_name = root.file_name().map(|n| n.to_string_lossy());
    if dir_name.as_deref() == Some(name) {
        format!("path+{url}#{version}")
    } else {
        format!("path+{url}#{name}@{version}")
    }
}

/// A `file://` URL for an absolute path, percent-encoded like the `url` crate does.
pub fn file_url(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        // Windows drive paths (`C:/x`) need the extra slash of `file:///C:/x`.
        out.push('/');
    }
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(path).ok()?;
    text.parse::<toml::Table>().ok()
}

/// A string field of `[package]`, following `{ workspace = true }` to the workspace root.
fn field(package: &toml::Table, key: &str, root: &Path) -> Option<String> {
    match package.get(key)? {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Table(t) if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) => {
            workspace_field(root, key)
        }
        _ => None,
    }
}

/// `[workspace.package] key` of the nearest ancestor manifest that has a `[workspace]`.
fn workspace_field(root: &Path, key: &str) -> Option<String> {
    root.ancestors().find_map(|dir| {
        let manifest = read_toml(&dir.join("Cargo.toml"))?;
        let ws = manifest.get("workspace")?.as_table()?;
        Some(ws.get("package")?.get(key)?.as_str()?.to_string())
    })
}

/// Removes `.` and `..` lexically, so ids and `strip_prefix` agree however a path was given.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_package_and_picks_targets() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("my pkg");
        write(&root, "Cargo.toml", "[package]\nname = \"my-pkg\"\nversion = \"1.2.3\"\nedition = \"2021\"\n");
        write(&root, "src/lib.rs", "");
        write(&root, "src/main.rs", "");
        write(&root, "src/worker.rs", "");
        write(&root, "src/bin/tool.rs", "");
        write(&root, "tests/it.rs", "");
        write(&root, "examples/demo/main.rs", "");
        write(&root, "benches/speed.rs", "");
        let pkg = PackageInfo::from_root(&root).unwrap();
        assert_eq!(pkg.name, "my-pkg");
        assert_eq!(pkg.version, "1.2.3");
        assert_eq!(pkg.edition, "2021");
        assert_eq!(pkg.manifest_path, pkg.root.join("Cargo.toml"));
        assert!(pkg.manifest_path.is_absolute());
        assert!(pkg.package_id.starts_with("path+file:///"), "{}", pkg.package_id);
        assert!(pkg.package_id.ends_with("/my%20pkg#my-pkg@1.2.3"), "{}", pkg.package_id);

        let t = pkg.target_for(&root.join("src/worker.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("lib", "my_pkg"));
        assert_eq!(t.crate_types, ["lib"]);
        assert_eq!(t.src_path, pkg.root.join("src/lib.rs"));
        assert!(t.doc && t.doctest && t.test);

        let t = pkg.target_for(&root.join("src/main.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("bin", "my-pkg"));
        assert!(!t.doctest);
        let t = pkg.target_for(&root.join("src/bin/tool.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("bin", "tool"));
        let t = pkg.target_for(&root.join("tests/it.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("test", "it"));
        assert_eq!(t.crate_types, ["bin"]);
        assert!(t.test && !t.doc);
        let t = pkg.target_for(&root.join("examples/demo/main.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("example", "demo"));
        assert_eq!(t.src_path, pkg.root.join("examples/demo/main.rs"));
        let t = pkg.target_for(&root.join("benches/speed.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("bench", "speed"));
    }

    #[test]
    fn name_is_left_out_of_the_id_when_it_is_the_directory_name() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("svc");
        write(&root, "Cargo.toml", "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n");
        write(&root, "src/main.rs", "");
        let pkg = PackageInfo::from_root(&root).unwrap();
        assert!(pkg.package_id.ends_with("/svc#0.1.0"), "{}", pkg.package_id);
        assert_eq!(pkg.edition, "2015");
        // Without src/lib.rs, other src files belong to the binary.
        let t = pkg.target_for(&root.join("src/util.rs"));
        assert_eq!((t.kind[0].as_str(), t.name.as_str()), ("bin", "svc"));
    }

    #[test]
    fn workspace_inheritance_and_fallbacks() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "Cargo.toml", "[workspace]\nmembers = [\"a\"]\n[workspace.package]\nversion = \"2.0.0\"\n");
        write(
            tmp.path(),
            "a/Cargo.toml",
            "[package]\nname = \"a\"\nversion.workspace = true\nedition = { workspace = true }\n",
        );
        let pkg = PackageInfo::from_root(&tmp.path().join("a")).unwrap();
        assert_eq!(pkg.version, "2.0.0");
        assert_eq!(pkg.edition, "2021");
    }

    #[test]
    fn malformed_manifests_give_none() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(PackageInfo::from_root(tmp.path()), None);
        for bad in ["[package", "[package]\nversion = \"1\"\n", "package = 3\n", "[workspace]\n", "\u{0}"] {
            write(tmp.path(), "Cargo.toml", bad);
            assert_eq!(PackageInfo::from_root(tmp.path()), None, "{bad:?}");
        }
        write(tmp.path(), "Cargo.toml", "[package]\nname = \"x\"\nversion = 3\nedition = []\n");
        let pkg = PackageInfo::from_root(tmp.path()).unwrap();
        assert_eq!((pkg.version.as_str(), pkg.edition.as_str()), ("0.0.0", "2021"));
    }
}
