//! Scope-aware resolution of paths through `use` items.
//!
//! Every path-named API (spawners, signals, sleeps) is matched after resolution:
//! renames, groups, globs of known modules and known re-exports are followed, and a
//! `use` inside a fn or block shadows the file's. A bare name that resolves to nothing
//! is not guessed.

use std::collections::{HashMap, HashSet};

/// Where a resolved path points.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Another crate (`tokio::spawn`, or a name imported from one).
    External,
    /// This crate (`crate::`, `self::`, `super::`, a local item, or imported from one).
    Local,
    /// A bare name not imported and not defined here (prelude, macro-generated, glob).
    Unknown,
}

/// A resolved path: canonical segments and where they point.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub segments: Vec<String>,
    pub origin: Origin,
}

impl Resolved {
    /// `tokio::spawn` style text of the path.
    pub fn joined(&self) -> String {
        self.segments.join("::")
    }

    /// The last segment.
    pub fn last(&self) -> &str {
        self.segments.last().map_or("", String::as_str)
    }

    /// Whether the canonical path equals `path` (`"std::thread::spawn"`).
    pub fn is(&self, path: &str) -> bool {
        self.origin == Origin::External && self.joined() == path
    }

    /// Whether the canonical path is one of `paths`.
    pub fn is_any(&self, paths: &[&str]) -> bool {
        self.origin == Origin::External && paths.iter().any(|p| self.joined() == *p)
    }
}

/// Known re-exports, rewritten to the crate that defines the item.
const REEXPORTS: &[(&str, &str)] = &[
    ("crossbeam::channel", "crossbeam_channel"),
    ("futures::channel", "futures_channel"),
    ("futures_util", "futures"),
    ("actix_web::rt", "actix_rt"),
    ("tokio::task::spawn", "tokio::spawn"),
    ("tokio_with_wasm::alias", "tokio"),
    ("core", "std"),
    ("alloc", "std"),
    ("async_std::task::sleep", "async_std::task::sleep"),
];

fn canonicalize(mut segs: Vec<String>) -> Vec<String> {
    for (from, to) in REEXPORTS {
        let from_segs: Vec<&str> = from.split("::").collect();
        if segs.len() >= from_segs.len() && segs.iter().zip(&from_segs).all(|(a, b)| a == b) {
            let mut out: Vec<String> = to.split("::").map(str::to_string).collect();
            out.extend(segs.drain(from_segs.len()..));
            return out;
        }
    }
    segs
}

/// The `use` items and local item names of one scope (file, module, fn or block).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct UseScope {
    names: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    /// Names of items defined in this scope (mods, fns, types, consts).
    locals: HashSet<String>,
}

impl UseScope {
    /// Collects the `use` items and item names among `items`.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a syn::Item>) -> Self {
        let mut scope = UseScope::default();
        for item in items {
            scope.add_item(item);
        }
        scope
    }

    /// Adds one item (a `use` item or a named definition).
    pub fn add_item(&mut self, item: &syn::Item) {
        let name = match item {
            syn::Item::Use(u) => {
                self.add_use_tree(&u.tree, Vec::new());
                return;
            }
            syn::Item::Fn(f) => &f.sig.ident,
            syn::Item::Mod(m) => &m.ident,
            syn::Item::Struct(s) => &s.ident,
            syn::Item::Enum(e) => &e.ident,
            syn::Item::Trait(t) => &t.ident,
            syn::Item::Type(t) => &t.ident,
            syn::Item::Const(c) => &c.ident,
            syn::Item::Static(s) => &s.ident,
            syn::Item::Union(u) => &u.ident,
            _ => return,
        };
        self.locals.insert(name.to_string());
    }

    fn add_use_tree(&mut self, tree: &syn::UseTree, prefix: Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.add_use_tree(&p.tree, next);
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last().cloned() {
                        self.names.insert(last, prefix);
                    }
                } else {
                    let mut full = prefix;
                    full.push(name.clone());
                    self.names.insert(name, full);
                }
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix;
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                if r.rename != "_" {
                    self.names.insert(r.rename.to_string(), full);
                }
            }
            syn::UseTree::Glob(_) => self.globs.push(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.add_use_tree(t, prefix.clone());
                }
            }
        }
    }
}

/// A stack of scopes; the innermost scope wins.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct Resolver {
    scopes: Vec<UseScope>,
}

const LOCAL_ROOTS: &[&str] = &["crate", "self", "super", "Self"];

impl Resolver {
    pub fn push(&mut self, scope: UseScope) {
        self.scopes.push(scope);
    }

    pub fn pop(&mut self) {
        self.scopes.pop();
    }

    fn lookup(&self, name: &str) -> Option<&Vec<String>> {
        for scope in self.scopes.iter().rev() {
            if scope.locals.contains(name) {
                return None;
            }
            if let Some(p) = scope.names.get(name) {
                return Some(p);
            }
        }
        None
    }

    fn is_local_item(&self, name: &str) -> bool {
        for scope in self.scopes.iter().rev() {
            if scope.locals.contains(name) {
                return true;
            }
            if scope.names.contains_key(name) {
                return false;
            }
        }
        false
    }

    /// Resolves a path expression's segments (generic arguments ignored).
    pub fn resolve(&self, path: &syn::Path) -> Resolved {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_some() {
            return Resolved { segments: canonicalize(segs), origin: Origin::External };
        }
        self.resolve_segments(segs)
    }

    /// Resolves plain segments as written in the source. Scopes are searched innermost
    /// first; within a scope, local items and explicit imports come before globs.
    pub fn resolve_segments(&self, segs: Vec<String>) -> Resolved {
        let Some(first) = segs.first().cloned() else {
            return Resolved { segments: segs, origin: Origin::Unknown };
        };
        if LOCAL_ROOTS.contains(&first.as_str()) {
            return Resolved { segments: segs, origin: Origin::Local };
        }
        for scope in self.scopes.iter().rev() {
            if scope.locals.contains(&first) {
                return Resolved { segments: segs, origin: Origin::Local };
            }
            if let Some(target) = scope.names.get(&first) {
                let mut full = target.clone();
                full.extend(segs.iter().skip(1).cloned());
                let origin = match full.first().map(String::as_str) {
                    Some(r) if LOCAL_ROOTS.contains(&r) => Origin::Local,
                    // `use worker::run;` in 2018+ names a local module when one is in scope.
                    Some(r) if self.is_local_item(r) => Origin::Local,
                    _ => Origin::External,
                };
                let segments = if origin == Origin::External { canonicalize(full) } else { full };
                return Resolved { segments, origin };
            }
            if segs.len() == 1 {
                // A glob of a known module may bring the name in (`use std::thread::*;`).
                for glob in &scope.globs {
                    if glob.first().is_some_and(|r| LOCAL_ROOTS.contains(&r.as_str())) {
                        continue;
                    }
                    let mut full = glob.clone();
                    full.push(first.clone());
                    let full = canonicalize(full);
                    if is_known_glob_item(&full) {
                        return Resolved { segments: full, origin: Origin::External };
                    }
                }
            }
        }
        if segs.len() == 1 {
            return Resolved { segments: segs, origin: Origin::Unknown };
        }
        Resolved { segments: canonicalize(segs), origin: Origin::External }
    }

    /// Whether a bare fn name is defined in this crate's scopes or imported from it.
    pub fn is_crate_local_name(&self, name: &str) -> bool {
        if self.is_local_item(name) {
            return true;
        }
        if let Some(p) = self.lookup(name) {
            let root = p.first().map(String::as_str).unwrap_or("");
            return LOCAL_ROOTS.contains(&root) || self.is_local_item(root);
        }
        // A glob import from this crate may bring it in.
        self.scopes.iter().any(|s| s.globs.iter().any(|g| g.first().is_some_and(|r| LOCAL_ROOTS.contains(&r.as_str()))))
    }
}

/// Items a glob import of a well-known module can bring in that taskcheck matches on.
fn is_known_glob_item(full: &[String]) -> bool {
    const KNOWN: &[&str] = &[
        "std::thread::spawn",
        "std::thread::sleep",
        "std::thread::scope",
        "std::thread::Builder",
        "tokio::spawn",
        "tokio::task::spawn_blocking",
        "tokio::task::spawn_local",
        "tokio::time::sleep",
        "tokio::time::sleep_until",
        "tokio::time::timeout",
        "tokio::signal::ctrl_c",
        "tokio::select",
        "async_std::task::spawn",
        "async_std::task::sleep",
        "smol::spawn",
        "futures::select",
        "futures::future::pending",
        "std::future::pending",
        "std::process::exit",
        "std::mem::drop",
    ];
    let joined = full.join("::");
    KNOWN.contains(&joined.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(src: &str) -> Resolver {
        let file = syn::parse_file(src).unwrap();
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        r
    }

    fn path(s: &str) -> syn::Path {
        syn::parse_str(s).unwrap()
    }

    #[test]
    fn follows_renames_groups_and_self() {
        let r = resolver("use std::thread::{self, spawn as go}; use tokio::task;");
        assert_eq!(r.resolve(&path("go")).joined(), "std::thread::spawn");
        assert_eq!(r.resolve(&path("thread::spawn")).joined(), "std::thread::spawn");
        assert_eq!(r.resolve(&path("task::spawn")).joined(), "tokio::spawn");
        assert!(r.resolve(&path("task::spawn_blocking")).is("tokio::task::spawn_blocking"));
    }

    #[test]
    fn known_reexports_are_canonical() {
        let r = resolver("use crossbeam::channel; use actix_web::rt;");
        assert_eq!(r.resolve(&path("channel::bounded")).joined(), "crossbeam_channel::bounded");
        assert_eq!(r.resolve(&path("rt::spawn")).joined(), "actix_rt::spawn");
        assert_eq!(r.resolve(&path("core::future::pending")).joined(), "std::future::pending");
    }

    #[test]
    fn unresolved_bare_names_are_not_guessed() {
        let r = resolver("use tokio::time::Duration;");
        let res = r.resolve(&path("sleep"));
        assert_eq!(res.origin, Origin::Unknown);
        assert!(!res.is("std::thread::sleep"));
    }

    #[test]
    fn globs_of_known_modules_resolve() {
        let r = resolver("use std::thread::*;");
        assert!(r.resolve(&path("sleep")).is("std::thread::sleep"));
    }

    fn block_scope(src: &str) -> UseScope {
        let block: syn::Block = syn::parse_str(src).unwrap();
        UseScope::from_items(block.stmts.iter().filter_map(|s| match s {
            syn::Stmt::Item(i) => Some(i),
            _ => None,
        }))
    }

    #[test]
    fn inner_scopes_shadow_outer_ones() {
        let mut r = resolver("use tokio::time::sleep;");
        assert!(r.resolve(&path("sleep")).is("tokio::time::sleep"));
        r.push(block_scope("{ use std::thread::sleep; }"));
        assert!(r.resolve(&path("sleep")).is("std::thread::sleep"));
        r.pop();
        assert!(r.resolve(&path("sleep")).is("tokio::time::sleep"));
        // A glob in an inner scope also shadows an outer explicit import.
        r.push(block_scope("{ use std::thread::*; }"));
        assert!(r.resolve(&path("sleep")).is("std::thread::sleep"));
    }

    #[test]
    fn local_items_and_crate_imports_are_local() {
        let r = resolver("mod worker; use crate::util::helper; use worker::run; fn local() {}");
        assert_eq!(r.resolve(&path("worker::run")).origin, Origin::Local);
        assert_eq!(r.resolve(&path("run")).origin, Origin::Local);
        assert_eq!(r.resolve(&path("helper")).origin, Origin::Local);
        assert!(r.is_crate_local_name("local"));
        assert!(r.is_crate_local_name("helper"));
        assert!(!r.is_crate_local_name("spawn"));
        assert_eq!(r.resolve(&path("tokio::spawn")).origin, Origin::External);
    }
}
