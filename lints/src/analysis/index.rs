//! The crate-wide join: every file's facts together, with crate-local call resolution,
//! test files found through the module tree, and spawn wrappers resolved across files.

use std::collections::{HashMap, HashSet, VecDeque};

use taskcheck_core::engine::FileUnit;
use taskcheck_core::Span;

use super::facts::{Body, BodyId, BodyKind, Call, CallTarget, FileFacts, LoopFact, SpawnSite, Target};
use super::spawn::{Disposition, SpawnApi, Spawner, ValueKind};

/// A body anywhere in the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BodyRef {
    pub file: usize,
    pub body: BodyId,
}

/// A loop anywhere in the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoopRef {
    pub file: usize,
    pub idx: usize,
}

/// Do not follow a name with more candidates than this (resolution by bare name would
/// otherwise make half a crate "task context" from one spawn).
pub const MAX_CANDIDATES: usize = 3;

/// A spawn site with its wrapper and receiver resolved.
#[derive(Clone, Debug)]
pub struct ResolvedSpawn<'a> {
    pub file: usize,
    pub site: &'a SpawnSite,
    pub spawner: Spawner,
    pub disposition: Disposition,
    /// The API that starts the work (the wrapper's, for a call of a spawn wrapper).
    pub api: SpawnApi,
    /// The spawn wrapper this site calls (`crate::rt::spawn(fut)`).
    pub wrapper: Option<BodyRef>,
}

impl ResolvedSpawn<'_> {
    /// The body holding the spawned work.
    pub fn body(&self) -> BodyRef {
        BodyRef { file: self.file, body: self.site.body }
    }

    /// Nobody can stop or join the work through its handle.
    pub fn is_detached(&self) -> bool {
        match self.spawner {
            Spawner::Task | Spawner::Blocking | Spawner::Thread => self.disposition != Disposition::Kept,
            Spawner::CancelOnDrop => self.disposition == Disposition::Detached,
            Spawner::Tracker | Spawner::Scoped | Spawner::Set => false,
        }
    }
}

/// One step of a call path found by [`CrateIndex::reach`].
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub body: BodyRef,
    /// The call that led here and the body it was made from (`None` for the start).
    pub from: Option<(BodyRef, Span)>,
    pub depth: usize,
}

/// All facts of one crate, indexed.
pub struct CrateIndex<'a> {
    pub files: Vec<(&'a FileUnit<'a>, &'a FileFacts)>,
    by_name: HashMap<&'a str, Vec<BodyRef>>,
    test_files: Vec<bool>,
    field_kinds: HashMap<&'a str, ValueKind>,
    loops_by_owner: HashMap<BodyRef, Vec<usize>>,
    /// Closures handed to crate-local fns that turned out not to spawn them: they run
    /// as part of the body that created them.
    inline_edges: HashMap<BodyRef, Vec<BodyRef>>,
    pub spawns: Vec<ResolvedSpawn<'a>>,
}

impl<'a> CrateIndex<'a> {
    pub fn new(files: Vec<(&'a FileUnit<'a>, &'a FileFacts)>) -> Self {
        let mut by_name: HashMap<&str, Vec<BodyRef>> = HashMap::new();
        let mut field_kinds = HashMap::new();
        let mut loops_by_owner: HashMap<BodyRef, Vec<usize>> = HashMap::new();
        for (fi, (_, f)) in files.iter().enumerate() {
            for (bi, b) in f.bodies.iter().enumerate() {
                if matches!(b.kind, BodyKind::Fn | BodyKind::Method) {
                    by_name.entry(b.name.as_str()).or_default().push(BodyRef { file: fi, body: bi });
                }
            }
            for (name, kind) in &f.field_kinds {
                field_kinds.insert(name.as_str(), *kind);
            }
            for (li, l) in f.loops.iter().enumerate() {
                loops_by_owner.entry(BodyRef { file: fi, body: l.owner }).or_default().push(li);
            }
        }
        let test_files = test_files(&files);
        let mut index = CrateIndex {
            files,
            by_name,
            test_files,
            field_kinds,
            loops_by_owner,
            inline_edges: HashMap::new(),
            spawns: Vec::new(),
        };
        index.resolve_spawns();
        index
    }

    fn resolve_spawns(&mut self) {
        let mut spawns = Vec::new();
        let mut inline: HashMap<BodyRef, Vec<BodyRef>> = HashMap::new();
        for (fi, (_, f)) in self.files.iter().enumerate() {
            for site in &f.spawns {
                let owner = BodyRef { file: fi, body: site.owner };
                match (site.spawner, &site.via) {
                    (Some(mut spawner), _) => {
                        let mut api = site.api.unwrap_or(SpawnApi::of_receiver(spawner));
                        if let Some(field) = &site.receiver_field {
                            let declared = match self.field_kinds.get(field.as_str()) {
                                Some(ValueKind::TaskSet) => Some(Spawner::Set),
                                Some(ValueKind::Tracker) => Some(Spawner::Tracker),
                                Some(ValueKind::Executor) => Some(Spawner::CancelOnDrop),
                                Some(ValueKind::Scope) => Some(Spawner::Scoped),
                                _ => None,
                            };
                            if let Some(d) = declared {
                                spawner = d;
                                api = SpawnApi::of_receiver(d);
                            }
                        }
                        let disposition = site.disposition;
                        spawns.push(ResolvedSpawn { file: fi, site, spawner, disposition, api, wrapper: None });
                    }
                    (None, Some((target, arg))) => {
                        let call = Call { target: target.clone(), span: site.span, raced: false, operand: false };
                        let wrapper = self
                            .resolve(owner, &call)
                            .into_iter()
                            .filter_map(|c| Some((c, self.body(c).wrapper?)))
                            .find(|(_, w)| w.param == *arg);
                        match wrapper {
                            Some((at, w)) => {
                                let disposition = match w.disposition {
                                    // The wrapper hands the handle back: the caller decides.
                                    Disposition::Kept => site.disposition,
                                    d => d,
                                };
                                spawns.push(ResolvedSpawn {
                                    file: fi,
                                    site,
                                    spawner: w.spawner,
                                    disposition,
                                    api: w.api,
                                    wrapper: Some(at),
                                });
                            }
                            None => inline.entry(owner).or_default().push(BodyRef { file: fi, body: site.body }),
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        self.spawns = spawns;
        self.inline_edges = inline;
    }

    pub fn body(&self, r: BodyRef) -> &'a Body {
        &self.files[r.file].1.bodies[r.body]
    }

    pub fn loop_fact(&self, r: LoopRef) -> &'a LoopFact {
        &self.files[r.file].1.loops[r.idx]
    }

    /// Loops written directly in a body.
    pub fn loops_of(&self, r: BodyRef) -> impl Iterator<Item = LoopRef> + '_ {
        self.loops_by_owner.get(&r).into_iter().flatten().map(move |&idx| LoopRef { file: r.file, idx })
    }

    /// Every loop in the crate.
    pub fn all_loops(&self) -> impl Iterator<Item = LoopRef> + '_ {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(fi, (_, f))| (0..f.loops.len()).map(move |idx| LoopRef { file: fi, idx }))
    }

    /// Whether a body is test code (its own attributes, or its file).
    pub fn is_test_body(&self, r: BodyRef) -> bool {
        self.test_files[r.file] || self.body(r).in_test
    }

    /// Whether a loop is test code.
    pub fn is_test_loop(&self, r: LoopRef) -> bool {
        self.test_files[r.file] || self.loop_fact(r).in_test
    }

    /// Whether a file is compile-time code (`build.rs`).
    pub fn is_build_script(&self, file: usize) -> bool {
        self.files[file].1.is_build_script
    }

    fn visible(&self, from: BodyRef, to: BodyRef) -> bool {
        let t = &self.files[to.file].1.target;
        (*t == Target::Src || *t == self.files[from.file].1.target)
            && (!self.body(to).in_test || self.body(from).in_test)
    }

    /// Crate-local definitions a call may reach: never into other crates, at most
    /// [`MAX_CANDIDATES`], respecting cargo target visibility.
    pub fn resolve(&self, from: BodyRef, call: &Call) -> Vec<BodyRef> {
        let named = |name: &str| -> Vec<BodyRef> {
            self.by_name.get(name).into_iter().flatten().copied().filter(|&c| self.visible(from, c)).collect()
        };
        let cands: Vec<BodyRef> = match &call.target {
            CallTarget::Body(b) => return vec![BodyRef { file: from.file, body: *b }],
            CallTarget::Free { name, qualifier, arity } => {
                let all: Vec<BodyRef> = named(name)
                    .into_iter()
                    .filter(|&c| self.body(c).self_ty.is_none() && self.body(c).arity == *arity)
                    .collect();
                let narrowed: Vec<BodyRef> = match qualifier {
                    Some(q) => all
                        .iter()
                        .copied()
                        .filter(|&c| self.body(c).module.rsplit("::").next() == Some(q.as_str()))
                        .collect(),
                    // An unqualified name defined in the caller's own module shadows the rest.
                    None => all
                        .iter()
                        .copied()
                        .filter(|&c| c.file == from.file && self.body(c).module == self.body(from).module)
                        .collect(),
                };
                if narrowed.is_empty() {
                    all
                } else {
                    narrowed
                }
            }
            CallTarget::Assoc { ty, name } => {
                named(name).into_iter().filter(|&c| self.body(c).self_ty.as_deref() == Some(ty.as_str())).collect()
            }
            CallTarget::SelfMethod { name, arity } => {
                let all: Vec<BodyRef> = named(name)
                    .into_iter()
                    .filter(|&c| self.body(c).has_self && self.body(c).arity == *arity)
                    .collect();
                let own_ty = self.body(from).self_ty.as_deref();
                let same: Vec<BodyRef> = all
                    .iter()
                    .copied()
                    .filter(|&c| own_ty.is_some() && self.body(c).self_ty.as_deref() == own_ty)
                    .collect();
                if same.is_empty() {
                    all
                } else {
                    same
                }
            }
            CallTarget::Method { name, arity, recv_ty } => {
                let all: Vec<BodyRef> = named(name)
                    .into_iter()
                    .filter(|&c| self.body(c).has_self && self.body(c).arity == *arity)
                    .collect();
                // A receiver of a known type: that type's method when the crate defines one
                // (else it may come from a trait's default method: keep every candidate).
                let typed: Vec<BodyRef> =
                    all.iter().copied().filter(|&c| recv_ty.is_some() && self.body(c).self_ty == *recv_ty).collect();
                if typed.is_empty() {
                    all
                } else {
                    typed
                }
            }
        };
        if cands.len() > MAX_CANDIDATES {
            Vec::new()
        } else {
            cands
        }
    }

    /// Bodies reachable from `start` through crate-local calls, breadth first, at most
    /// `max_depth` calls deep. `follow` decides which calls to take.
    pub fn reach(&self, start: BodyRef, max_depth: usize, follow: impl Fn(&Call) -> bool) -> Vec<Step> {
        let mut out = vec![Step { body: start, from: None, depth: 0 }];
        let mut seen: HashSet<BodyRef> = HashSet::from([start]);
        let mut queue = VecDeque::from([0usize]);
        while let Some(i) = queue.pop_front() {
            let Step { body, depth, .. } = out[i];
            let mut next: Vec<(BodyRef, Span, usize)> = Vec::new();
            // Inline closures run as part of the body: same depth.
            for &b in self.inline_edges.get(&body).into_iter().flatten() {
                next.push((b, self.body(b).span, depth));
            }
            if depth < max_depth {
                for call in &self.body(body).calls {
                    if !follow(call) {
                        continue;
                    }
                    for c in self.resolve(body, call) {
                        next.push((c, call.span, depth + 1));
                    }
                }
            }
            for (b, span, d) in next {
                if seen.insert(b) {
                    out.push(Step { body: b, from: Some((body, span)), depth: d });
                    queue.push_back(out.len() - 1);
                }
            }
        }
        out
    }
}

/// Which files are test code: under `tests/`/`benches/`, `#![cfg(test)]`, or declared
/// by `#[cfg(test)] mod x;` in their parent (and everything below such a module).
fn test_files(files: &[(&FileUnit<'_>, &FileFacts)]) -> Vec<bool> {
    let mut test: Vec<bool> = files.iter().map(|(_, f)| f.is_test_file).collect();
    let mut test_dirs: Vec<String> = Vec::new();
    let mut test_paths: HashSet<String> = HashSet::new();
    for (u, f) in files {
        if f.cfg_test_mods.is_empty() {
            continue;
        }
        let rel = u.rel_path;
        let (dir, stem) = match rel.rsplit_once('/') {
            Some((d, file)) => (d.to_string(), file.trim_end_matches(".rs").to_string()),
            None => (String::new(), rel.trim_end_matches(".rs").to_string()),
        };
        // `mod.rs`, `lib.rs`, `main.rs` own their directory; `a.rs` owns `a/`.
        let base = if matches!(stem.as_str(), "mod" | "lib" | "main") {
            dir
        } else if dir.is_empty() {
            stem
        } else {
            format!("{dir}/{stem}")
        };
        for m in &f.cfg_test_mods {
            let p = if base.is_empty() { m.clone() } else { format!("{base}/{m}") };
            test_paths.insert(format!("{p}.rs"));
            test_paths.insert(format!("{p}/mod.rs"));
            test_dirs.push(format!("{p}/"));
        }
    }
    for (i, (u, _)) in files.iter().enumerate() {
        if test_paths.contains(u.rel_path) || test_dirs.iter().any(|d| u.rel_path.starts_with(d.as_str())) {
            test[i] = true;
        }
    }
    test
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::facts::extract;
    use taskcheck_core::{FileId, SourceFile};

    /// Sources and facts of a small crate given as `(crate-relative path, text)`.
    pub(crate) struct Fixture {
        pub sources: Vec<SourceFile>,
        pub rels: Vec<String>,
        pub facts: Vec<FileFacts>,
    }

    impl Fixture {
        pub(crate) fn new(files: &[(&str, &str)]) -> Self {
            let sources: Vec<SourceFile> = files
                .iter()
                .enumerate()
                .map(|(i, (p, t))| SourceFile::new(FileId(i as u32), p.into(), p.to_string(), (*t).into()))
                .collect();
            let facts = sources
                .iter()
                .zip(files)
                .map(|(s, (p, _))| extract(s, p, &syn::parse_file(&s.text).unwrap(), &[]))
                .collect();
            Fixture { rels: files.iter().map(|(p, _)| p.to_string()).collect(), sources, facts }
        }

        pub(crate) fn units(&self) -> Vec<FileUnit<'_>> {
            self.sources
                .iter()
                .zip(&self.rels)
                .map(|(s, r)| FileUnit { source: s, crate_root: None, rel_path: r, active: None })
                .collect()
        }
    }

    pub(crate) fn index<'a>(units: &'a [FileUnit<'a>], fx: &'a Fixture) -> CrateIndex<'a> {
        CrateIndex::new(units.iter().zip(&fx.facts).collect())
    }

    fn body_named(idx: &CrateIndex<'_>, name: &str) -> BodyRef {
        for (fi, (_, f)) in idx.files.iter().enumerate() {
            if let Some(bi) = f.bodies.iter().position(|b| b.name == name) {
                return BodyRef { file: fi, body: bi };
            }
        }
        panic!("no body {name}")
    }

    fn callees(idx: &CrateIndex<'_>, from: &str) -> Vec<String> {
        let b = body_named(idx, from);
        let mut out: Vec<String> = idx
            .body(b)
            .calls
            .iter()
            .flat_map(|c| idx.resolve(b, c))
            .map(|c| format!("{}:{}", idx.files[c.file].0.rel_path, idx.body(c).name))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn resolves_across_files_by_path_method_and_self() {
        let fx = Fixture::new(&[
            (
                "src/main.rs",
                "mod worker; use crate::worker::Worker;
                 async fn start(w: Worker) { worker::run(1).await; w.poll(); Worker::new(); tokio::spawn(x()); }",
            ),
            (
                "src/worker.rs",
                "pub struct Worker;
                 impl Worker { pub fn new() -> Self { Worker } pub fn poll(&self) { self.step(); } fn step(&self) {} }
                 pub async fn run(n: u32) {}",
            ),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        assert_eq!(callees(&idx, "start"), ["src/worker.rs:new", "src/worker.rs:poll", "src/worker.rs:run"]);
        assert_eq!(callees(&idx, "poll"), ["src/worker.rs:step"]);
    }

    #[test]
    fn never_resolves_into_other_crates_or_past_three_candidates() {
        let many: String = (0..4).map(|i| format!("struct T{i}; impl T{i} {{ fn go(&self) {{}} }}\n")).collect();
        let fx = Fixture::new(&[
            ("src/main.rs", "use tokio::spawn; fn start(x: X) { spawn(async {}); x.go(); helper(); }"),
            ("src/many.rs", &many),
            ("src/other.rs", "pub fn spawn(f: F) {}"),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        // `spawn` is imported from tokio; `go` has 4 candidates; `helper` is not defined.
        assert!(callees(&idx, "start").is_empty());
    }

    #[test]
    fn same_module_definition_shadows_and_arity_must_match() {
        let fx = Fixture::new(&[
            ("src/a.rs", "fn serve(l: L, s: S) {} fn main_a() { serve(l, s); }"),
            ("src/b.rs", "pub fn serve(l: L, s: S) {} pub fn serve1(l: L) {}"),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        assert_eq!(callees(&idx, "main_a"), ["src/a.rs:serve"]);
    }

    #[test]
    fn src_never_sees_tests_and_examples() {
        let fx = Fixture::new(&[
            ("src/lib.rs", "pub fn run() { helper(); } pub fn shared() {}"),
            ("tests/it.rs", "use crate::helper; fn helper() {} fn t() { shared(); helper(); }"),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        assert!(callees(&idx, "run").is_empty());
        assert_eq!(callees(&idx, "t"), ["tests/it.rs:helper"]);
    }

    #[test]
    fn test_modules_through_the_module_tree() {
        let fx = Fixture::new(&[
            ("src/lib.rs", "mod net; #[cfg(test)] mod tests;"),
            ("src/net.rs", "#[cfg(test)] mod tests; pub fn f() {}"),
            ("src/net/tests.rs", "fn t() {}"),
            ("src/net/tests/helpers.rs", "fn h() {}"),
            ("src/tests/mod.rs", "fn t() {}"),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        let test: Vec<bool> = (0..5).map(|i| idx.is_test_body(BodyRef { file: i, body: 0 })).collect();
        assert_eq!(test, [false, false, true, true, true]);
    }

    #[test]
    fn spawn_wrappers_resolve_across_files() {
        let fx = Fixture::new(&[
            ("src/rt.rs", "pub fn spawn<F: Future>(fut: F) { tokio::spawn(fut); }"),
            (
                "src/main.rs",
                "mod rt; fn start() { crate::rt::spawn(async move { loop { tick().await } }); retry(|| go()); }",
            ),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        let wrapped: Vec<_> = idx.spawns.iter().filter(|s| s.site.via.is_some()).collect();
        assert_eq!(wrapped.len(), 1);
        assert_eq!(wrapped[0].spawner, Spawner::Task);
        assert_eq!(wrapped[0].disposition, Disposition::Dropped);
        assert!(wrapped[0].is_detached());
    }

    #[test]
    fn reach_follows_calls_to_the_depth_limit() {
        let fx = Fixture::new(&[("src/lib.rs", "fn a() { b(); } fn b() { c(); } fn c() { d(); } fn d() {}")]);
        let units = fx.units();
        let idx = index(&units, &fx);
        let names = |depth| -> Vec<String> {
            idx.reach(body_named(&idx, "a"), depth, |_| true).iter().map(|s| idx.body(s.body).name.clone()).collect()
        };
        assert_eq!(names(2), ["a", "b", "c"]);
        assert_eq!(names(3), ["a", "b", "c", "d"]);
    }
}
