//! The task inventory (`taskcheck tasks`): every spawn site of a crate, what starts it,
//! where its handle goes, and how its work stops — from the same facts and the same
//! call-following as the lifecycle lints ([`super::tasks`]): the loops a task reaches
//! through calls, which of them run forever (`LoopFact::long_running`), and what ends
//! the others ([`super::stops`]). The model here is plain data; rendering it is the
//! renderers' business.

use std::collections::{HashMap, HashSet};

use taskcheck_core::{Diagnostic, Level, Span};

use super::facts::BodyKind;
use super::handles::{FieldOp, HandleUse, UseKind};
use super::index::{BodyRef, CrateIndex, ResolvedSpawn};
use super::spawn::{Disposition, SpawnApi, Spawner};
use super::stops::{EndObs, SourceKind};
use super::tasks::{is_singleton, TaskOptions, TASK_CALL_DEPTH};

/// A place in the sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// As diagnostics show it (relative to the working directory).
    pub file: String,
    /// Relative to the crate root (compact graph labels).
    pub rel: String,
    pub line: usize,
    pub column: usize,
    /// For matching findings to the sites they are about.
    pub span: Span,
}

impl Location {
    fn key(&self) -> (&str, usize, usize) {
        (&self.file, self.line, self.column)
    }
}

/// A fn, with its `impl` type for methods.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FnName {
    /// Module path in its crate (`server::conn`; empty at the crate root).
    pub module: String,
    pub ty: Option<String>,
    /// Empty for code outside any fn (a static's initialiser).
    pub name: String,
}

impl FnName {
    /// `Type::method` or `fn` (`-` outside any fn).
    pub fn short(&self) -> String {
        match (&self.ty, self.name.is_empty()) {
            (_, true) => "-".to_string(),
            (Some(t), false) => format!("{t}::{}", self.name),
            (None, false) => self.name.clone(),
        }
    }

    /// With the module path: `cache::PriceRefresher::start`.
    pub fn qualified(&self) -> String {
        let short = if self.name.is_empty() { "(top level)".to_string() } else { self.short() };
        if self.module.is_empty() {
            short
        } else {
            format!("{}::{short}", self.module)
        }
    }
}

/// How a task's work ends, most risky first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stop {
    /// It reaches a loop (or a `pending()`) that nothing ends, and nobody aborts it.
    Never,
    /// It runs forever by itself, but its owner aborts it (the handle's `abort()`, its
    /// `JoinSet`, dropping its cancel-on-drop `Task`).
    Aborted,
    /// Its loops end when their input channel closes.
    ChannelClose,
    /// It observes a cancellation source that ends its loops or its wait.
    Cancellation,
    /// Every loop it reaches has an exit: it returns.
    Finite,
    /// A spawn wrapper's own spawn: it runs whatever its callers pass (each call is a row).
    Delegated,
}

impl Stop {
    pub const ALL: [Stop; 6] =
        [Stop::Never, Stop::Aborted, Stop::ChannelClose, Stop::Cancellation, Stop::Finite, Stop::Delegated];

    /// The stable machine name (JSON).
    pub fn id(self) -> &'static str {
        match self {
            Stop::Never => "never",
            Stop::Aborted => "aborted",
            Stop::ChannelClose => "channel_close",
            Stop::Cancellation => "cancellation",
            Stop::Finite => "finite",
            Stop::Delegated => "delegated",
        }
    }

    /// How a person says it (the table).
    pub fn label(self) -> &'static str {
        match self {
            Stop::Never => "never",
            Stop::Aborted => "aborted",
            Stop::ChannelClose => "channel close",
            Stop::Cancellation => "cancellation",
            Stop::Finite => "finite",
            Stop::Delegated => "caller's work",
        }
    }
}

/// Through what a handle use was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Through {
    /// On the handle itself.
    Direct,
    /// On the struct field it is stored in, anywhere in the crate.
    Field,
    /// By a caller of the fn that returns it.
    Caller,
}

/// What a handle is, or what is done with it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FateKind {
    /// Nobody holds it (dropped at once, `let _ =`, `.detach()`, never used).
    Detached,
    /// A cancel-on-drop `Task` dropped at once: the work is cancelled.
    Dropped,
    /// Spawned on a `JoinSet`/`JoinMap`/`FuturesUnordered`: the set owns it.
    Set,
    /// Spawned on a scope: joined when the scope ends.
    Scope,
    /// `TaskTracker::spawn` with the handle dropped: waited for, never stoppable.
    Tracked,
    /// Kept in a way the analysis does not follow.
    Kept,
    Use(UseKind),
}

/// One thing that happens to a handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fate {
    pub kind: FateKind,
    pub through: Through,
    pub at: Option<Location>,
}

/// What stops a task's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StopBy {
    /// A cancellation source or a closed channel, observed by the task.
    Observed(SourceKind),
    /// Its handle's `abort()`.
    Abort,
    /// Its `JoinSet` aborts it on `shutdown()`/`abort_all()` or drop.
    SetDropped,
    /// Dropping its cancel-on-drop `Task` cancels it.
    TaskDropped,
}

impl StopBy {
    /// The stable machine name (JSON).
    pub fn id(self) -> &'static str {
        match self {
            StopBy::Observed(k) => k.id(),
            StopBy::Abort => "abort",
            StopBy::SetDropped => "join_set",
            StopBy::TaskDropped => "task_drop",
        }
    }
}

/// One way the work stops, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub by: StopBy,
    /// The observing expression (`token.cancelled()`, `rx.recv()`).
    pub expr: Option<String>,
    pub at: Option<Location>,
}

/// What never ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ForeverKind {
    /// A long-running loop with no exit and no cancellation that leaves it.
    Loop,
    /// `pending().await`.
    Pending,
    /// `loop {}` / `loop { thread::park(); }`.
    ParkLoop,
}

/// Why a forever loop is worth a second look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForeverNote {
    /// It has exits, but only on error or panic.
    OnlyErrors,
    /// It has a cancellation branch (here) whose handler does not leave it.
    CancelNoLeave(Location),
}

/// Evidence that a task never ends by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forever {
    pub kind: ForeverKind,
    pub at: Location,
    /// The fn it is in, when the task reaches it through calls.
    pub function: Option<FnName>,
    pub note: Option<ForeverNote>,
}

/// A lint finding about a task (at its spawn, or at a loop or `pending()` it reaches).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub lint: String,
    /// `warning` or `error`, as reported.
    pub level: &'static str,
    pub message: String,
    pub at: Location,
}

/// One spawn site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub at: Location,
    pub spawner: SpawnApi,
    /// The crate's spawn wrapper it calls (`rt::spawn`).
    pub via: Option<FnName>,
    /// The enclosing fn.
    pub function: FnName,
    /// The spawn site of the task this one is spawned from, when nested.
    pub parent: Option<Location>,
    pub handle: Vec<Fate>,
    pub stop: Stop,
    /// What stops it (cancellation, channel close, abort); empty for `Never`/`Finite`.
    pub sources: Vec<Source>,
    /// What never ends (for `Never` and `Aborted`).
    pub forever: Vec<Forever>,
    /// A process-lifetime singleton (`get_or_init`, `Lazy::new`, a once-guard): meant to
    /// run until the process exits.
    pub singleton: bool,
    pub findings: Vec<Finding>,
    /// Where findings about this task point: the spawn, the loops and `pending()`s it reaches.
    pub evidence: Vec<Location>,
}

/// Tasks per way of stopping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub by_stop: Vec<(Stop, usize)>,
}

impl Summary {
    pub fn count(&self, stop: Stop) -> usize {
        self.by_stop.iter().find(|(s, _)| *s == stop).map_or(0, |(_, n)| *n)
    }
}

/// The inventory of a run: tasks sorted most risky first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub tasks: Vec<Task>,
}

impl Inventory {
    /// Sorts the tasks (from any number of crates, in any order): by how they stop, then
    /// singletons after the rest of their kind, then by location.
    pub fn new(mut tasks: Vec<Task>) -> Self {
        tasks.sort_by(|a, b| (a.stop, a.singleton, a.at.key()).cmp(&(b.stop, b.singleton, b.at.key())));
        Inventory { tasks }
    }

    /// Attaches the findings whose primary span is a task's spawn, or a loop or
    /// `pending()` the task reaches. `findings` are the run's, after levels and
    /// suppressions.
    pub fn attach(&mut self, findings: &[Diagnostic]) {
        let mut by_span: HashMap<Span, Vec<&Diagnostic>> = HashMap::new();
        for d in findings.iter().filter(|d| !d.is_input_error()) {
            by_span.entry(d.primary.span).or_default().push(d);
        }
        for t in &mut self.tasks {
            for at in &t.evidence {
                for d in by_span.get(&at.span).into_iter().flatten() {
                    t.findings.push(Finding {
                        lint: d.lint.to_string(),
                        level: if d.level == Level::Deny { "error" } else { "warning" },
                        message: d.message.clone(),
                        at: at.clone(),
                    });
                }
            }
            t.findings.sort_by(|a, b| (a.at.key(), &a.lint).cmp(&(b.at.key(), &b.lint)));
            t.findings.dedup();
        }
    }

    pub fn summary(&self) -> Summary {
        let by_stop = Stop::ALL.iter().map(|s| (*s, self.tasks.iter().filter(|t| t.stop == *s).count())).collect();
        Summary { total: self.tasks.len(), by_stop }
    }
}

/// The crate-wide facts the inventory looks up per spawn.
struct Tables<'i> {
    /// Uses of the values crate-local fns return, by callee.
    caller_uses: HashMap<BodyRef, Vec<(usize, &'i HandleUse)>>,
    field_ops: Vec<(usize, &'i FieldOp)>,
    ends: HashMap<BodyRef, Vec<&'i EndObs>>,
    /// Spawned work bodies, to their spawn.
    spawn_of_body: HashMap<BodyRef, usize>,
}

/// The inventory of one crate (unsorted; see [`Inventory::new`]).
pub fn build(index: &CrateIndex<'_>, opts: TaskOptions) -> Vec<Task> {
    let mut tables = Tables {
        caller_uses: HashMap::new(),
        field_ops: Vec::new(),
        ends: HashMap::new(),
        spawn_of_body: index.spawns.iter().enumerate().map(|(i, s)| (s.body(), i)).collect(),
    };
    for (fi, (_, f)) in index.files.iter().enumerate() {
        for (bi, b) in f.bodies.iter().enumerate() {
            let from = BodyRef { file: fi, body: bi };
            for (ci, u) in &b.call_uses {
                for callee in index.resolve(from, &b.calls[*ci]) {
                    tables.caller_uses.entry(callee).or_default().push((fi, u));
                }
            }
        }
        tables.field_ops.extend(f.field_ops.iter().map(|o| (fi, o)));
        for e in &f.ends {
            tables.ends.entry(BodyRef { file: fi, body: e.owner }).or_default().push(e);
        }
    }
    let mut out = Vec::new();
    for (si, sp) in index.spawns.iter().enumerate() {
        let owner = BodyRef { file: sp.file, body: sp.site.owner };
        if !opts.lint_tests && index.is_test_body(owner) || index.is_build_script(sp.file) {
            continue;
        }
        out.push(task(index, &tables, si, sp, opts));
    }
    out
}

fn location(index: &CrateIndex<'_>, file: usize, span: Span) -> Location {
    let unit = index.files[file].0;
    Location {
        file: unit.source.display.clone(),
        rel: unit.rel_path.to_string(),
        line: span.lo.line,
        column: span.lo.column,
        span,
    }
}

fn fn_name(index: &CrateIndex<'_>, b: BodyRef) -> FnName {
    let body = index.body(b);
    FnName {
        module: body.module.clone(),
        ty: if body.kind == BodyKind::Method { body.self_ty.clone() } else { None },
        name: if matches!(body.kind, BodyKind::Fn | BodyKind::Method) { body.name.clone() } else { String::new() },
    }
}

/// The fn a spawn is written in, and the spawn of the task it is written in (if any).
fn enclosing(index: &CrateIndex<'_>, tables: &Tables<'_>, owner: BodyRef) -> (FnName, Option<usize>) {
    let mut cur = owner;
    let mut parent_task = None;
    // Bodies only point to earlier ones, so this ends; the bound guards against a cycle.
    for _ in 0..index.files[owner.file].1.bodies.len() + 1 {
        let body = index.body(cur);
        match body.kind {
            BodyKind::Fn | BodyKind::Method | BodyKind::Items => return (fn_name(index, cur), parent_task),
            BodyKind::Task | BodyKind::Pending => {
                if body.kind == BodyKind::Task && parent_task.is_none() {
                    parent_task = tables.spawn_of_body.get(&cur).copied();
                }
                match body.parent {
                    Some(p) => cur = BodyRef { file: cur.file, body: p },
                    None => break,
                }
            }
        }
    }
    (fn_name(index, BodyRef { file: owner.file, body: 0 }), parent_task)
}

/// Where the handle goes: the site's own uses, the field it is stored in, the callers
/// of the fn that returns it.
fn fates(index: &CrateIndex<'_>, tables: &Tables<'_>, sp: &ResolvedSpawn<'_>) -> Vec<Fate> {
    let at = |file: usize, u: &HandleUse| Some(location(index, file, u.span));
    let plain = |kind| vec![Fate { kind, through: Through::Direct, at: None }];
    match sp.spawner {
        Spawner::Set => return plain(FateKind::Set),
        Spawner::Scoped => return plain(FateKind::Scope),
        Spawner::Tracker if sp.disposition != Disposition::Kept => return plain(FateKind::Tracked),
        Spawner::CancelOnDrop if sp.disposition == Disposition::Dropped => return plain(FateKind::Dropped),
        _ if sp.is_detached() => return plain(FateKind::Detached),
        _ => {}
    }
    let mut out: Vec<Fate> = Vec::new();
    let owner = BodyRef { file: sp.file, body: sp.site.owner };
    for u in &sp.site.uses {
        out.push(Fate { kind: FateKind::Use(u.kind.clone()), through: Through::Direct, at: at(sp.file, u) });
        match &u.kind {
            UseKind::Stored { ty, field } => {
                for (fi, op) in tables.field_ops.iter().filter(|(_, op)| same_field(ty, field, op)) {
                    let l = Some(location(index, *fi, op.span));
                    out.push(Fate { kind: FateKind::Use(op.kind.clone()), through: Through::Field, at: l });
                }
            }
            UseKind::Returned => {
                for (fi, cu) in tables.caller_uses.get(&owner).into_iter().flatten() {
                    out.push(Fate { kind: FateKind::Use(cu.kind.clone()), through: Through::Caller, at: at(*fi, cu) });
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return plain(FateKind::Kept);
    }
    // The handle's own fates first, then those found through its field and its callers;
    // one entry per kind of fate and way it was found (the first place it happens).
    out.sort_by(|a, b| {
        let key = |f: &Fate| (f.through, f.kind.clone(), f.at.as_ref().map(|l| (l.file.clone(), l.line, l.column)));
        key(a).cmp(&key(b))
    });
    out.dedup_by(|b, a| a.kind == b.kind && a.through == b.through);
    out
}

/// A use of field `field` of type `ty` (types must agree when both are known).
fn same_field(ty: &Option<String>, field: &str, op: &FieldOp) -> bool {
    op.field == field && (ty.is_none() || op.ty.is_none() || *ty == op.ty)
}

fn task(index: &CrateIndex<'_>, tables: &Tables<'_>, si: usize, sp: &ResolvedSpawn<'_>, opts: TaskOptions) -> Task {
    let owner = BodyRef { file: sp.file, body: sp.site.owner };
    let (function, parent) = enclosing(index, tables, owner);
    let handle = fates(index, tables, sp);
    let at = location(index, sp.file, sp.site.span);
    let mut evidence = vec![at.clone()];
    let mut forever: Vec<Forever> = Vec::new();
    let mut observed: Vec<Source> = Vec::new();
    let thread = sp.spawner.is_thread();
    // The same reach as the lifecycle lints: a call raced against a cancellation source
    // is dropped when it fires, so its loops do not keep the task alive.
    let steps = index.reach(sp.body(), TASK_CALL_DEPTH, |c| !c.raced);
    let skip_loop = |l| !opts.lint_tests && index.is_test_loop(l);
    for s in &steps {
        let facts = index.files[s.body.file].1;
        let via_call = |b: BodyRef| {
            (b != sp.body() && matches!(index.body(b).kind, BodyKind::Fn | BodyKind::Method)).then(|| fn_name(index, b))
        };
        let ends = tables.ends.get(&s.body).map(Vec::as_slice).unwrap_or_default();
        let mut excluded: HashSet<usize> = HashSet::new();
        for l in index.loops_of(s.body) {
            let fact = index.loop_fact(l);
            if skip_loop(l) || fact.raced {
                excluded.insert(l.idx);
                continue;
            }
            let loc = location(index, l.file, fact.span);
            evidence.push(loc.clone());
            let ended = ends.iter().any(|e| e.loop_idx == Some(l.idx));
            if fact.long_running(thread) && !ended {
                let note = match fact.cancel_no_leave {
                    Some(c) => Some(ForeverNote::CancelNoLeave(location(index, l.file, c))),
                    None if !fact.error_exits.is_empty() => Some(ForeverNote::OnlyErrors),
                    None => None,
                };
                forever.push(Forever { kind: ForeverKind::Loop, at: loc, function: via_call(s.body), note });
            }
        }
        for e in ends.iter().filter(|e| !matches!(e.loop_idx, Some(l) if excluded.contains(&l))) {
            let at = Some(location(index, s.body.file, e.span));
            observed.push(Source { by: StopBy::Observed(e.kind), expr: Some(e.text.clone()), at });
        }
        let sites = [(ForeverKind::Pending, &facts.pendings), (ForeverKind::ParkLoop, &facts.park_loops)];
        for (kind, list) in sites {
            for p in list.iter().filter(|p| p.owner == s.body.body) {
                let loc = location(index, s.body.file, p.span);
                evidence.push(loc.clone());
                if !forever.iter().any(|f| f.at.span == p.span) {
                    forever.push(Forever { kind, at: loc, function: via_call(s.body), note: None });
                }
            }
        }
    }
    forever.sort_by(|a, b| a.at.key().cmp(&b.at.key()));
    observed.sort_by(|a, b| (a.by, a.at.as_ref().map(Location::key)).cmp(&(b.by, b.at.as_ref().map(Location::key))));
    observed.dedup();
    let (stop, sources) = if sp.site.delegated {
        (Stop::Delegated, Vec::new())
    } else if !forever.is_empty() {
        let by_owner = owner_stops(sp, &handle);
        if by_owner.is_empty() {
            (Stop::Never, Vec::new())
        } else {
            (Stop::Aborted, by_owner)
        }
    } else {
        let cancel: Vec<Source> =
            observed.iter().filter(|s| matches!(s.by, StopBy::Observed(k) if k.is_cancel())).cloned().collect();
        if !cancel.is_empty() {
            (Stop::Cancellation, cancel)
        } else if !observed.is_empty() {
            (Stop::ChannelClose, observed)
        } else {
            (Stop::Finite, Vec::new())
        }
    };
    let mut sources = sources;
    sources.sort_by(|a, b| a.at.as_ref().map(Location::key).cmp(&b.at.as_ref().map(Location::key)));
    Task {
        at,
        spawner: sp.api,
        via: sp.wrapper.map(|w| fn_name(index, w)),
        function,
        parent: parent.filter(|&p| p != si).map(|p| {
            let ps = &index.spawns[p];
            location(index, ps.file, ps.site.span)
        }),
        handle,
        stop,
        sources,
        forever,
        singleton: is_singleton(index, sp),
        findings: Vec::new(),
        evidence,
    }
}

/// How the owner of a forever-running task stops it, if it does: an `abort()` on its
/// handle (directly, through the field it is stored in, or by the caller it is returned
/// to), its `JoinSet`, or dropping its cancel-on-drop `Task`. Threads and blocking tasks
/// cannot be stopped from outside.
fn owner_stops(sp: &ResolvedSpawn<'_>, handle: &[Fate]) -> Vec<Source> {
    match sp.spawner {
        Spawner::Set => vec![Source { by: StopBy::SetDropped, expr: None, at: None }],
        Spawner::CancelOnDrop if !sp.is_detached() => vec![Source { by: StopBy::TaskDropped, expr: None, at: None }],
        Spawner::Task | Spawner::Tracker | Spawner::CancelOnDrop => handle
            .iter()
            .filter(|f| f.kind == FateKind::Use(UseKind::Aborted))
            .map(|f| Source { by: StopBy::Abort, expr: None, at: f.at.clone() })
            .collect(),
        Spawner::Thread | Spawner::Blocking | Spawner::Scoped => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::index::tests::{index, Fixture};

    fn inventory(files: &[(&str, &str)]) -> Vec<(usize, Stop, String)> {
        let fx = Fixture::new(files);
        let units = fx.units();
        let idx = index(&units, &fx);
        let inv = Inventory::new(build(&idx, TaskOptions::default()));
        inv.tasks.iter().map(|t| (t.at.line, t.stop, t.function.short())).collect()
    }

    #[test]
    fn how_tasks_stop() {
        let got = inventory(&[(
            "src/lib.rs",
            r#"
fn a(token: CancellationToken, mut rx: Receiver<u8>, set: &mut JoinSet<()>) {
    tokio::spawn(async move { loop { tokio::select! { _ = token.cancelled() => break, _ = tick() => {} } } });
    tokio::spawn(async move { while let Some(x) = rx.recv().await { work(x).await; } });
    tokio::spawn(async move { once().await });
    tokio::spawn(forever());
    set.spawn(async { loop { tick().await } });
    let h = tokio::spawn(forever());
    h.abort();
    std::thread::spawn(|| loop { work() });
}
async fn forever() { loop { tick().await; } }
"#,
        )]);
        let want: Vec<(usize, Stop, String)> = vec![
            (6, Stop::Never, "a".into()),
            (10, Stop::Never, "a".into()),
            (7, Stop::Aborted, "a".into()),
            (8, Stop::Aborted, "a".into()),
            (4, Stop::ChannelClose, "a".into()),
            (3, Stop::Cancellation, "a".into()),
            (5, Stop::Finite, "a".into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn raced_calls_stop_on_their_cancellation_source_and_wrappers_delegate() {
        let fx = Fixture::new(&[
            ("src/rt.rs", "pub fn spawn<F: Future>(f: F) -> JoinHandle<()> { tokio::spawn(f) }"),
            (
                "src/main.rs",
                "mod rt;
                 impl Server { fn start(&self, token: CancellationToken) {
                     crate::rt::spawn(async move { tokio::select! { _ = token.cancelled() => {}, _ = serve() => {} } });
                 } }
                 async fn serve() { loop { accept().await; } }",
            ),
        ]);
        let units = fx.units();
        let idx = index(&units, &fx);
        let inv = Inventory::new(build(&idx, TaskOptions::default()));
        let rows: Vec<(&str, Stop, String, Option<String>)> = inv
            .tasks
            .iter()
            .map(|t| (t.at.rel.as_str(), t.stop, t.function.short(), t.via.as_ref().map(FnName::short)))
            .collect();
        assert_eq!(
            rows,
            [
                ("src/main.rs", Stop::Cancellation, "Server::start".into(), Some("spawn".into())),
                ("src/rt.rs", Stop::Delegated, "spawn".into(), None),
            ]
        );
        assert_eq!(inv.tasks[0].sources[0].expr.as_deref(), Some("token.cancelled()"));
        assert_eq!(inv.tasks[1].handle[0].kind, FateKind::Use(UseKind::Returned));
    }

    #[test]
    fn nested_spawns_name_their_parent_task() {
        let fx = Fixture::new(&[(
            "src/lib.rs",
            "fn a() {\n    tokio::spawn(async {\n        tokio::spawn(async {});\n    });\n}",
        )]);
        let units = fx.units();
        let idx = index(&units, &fx);
        let inv = Inventory::new(build(&idx, TaskOptions::default()));
        let inner = inv.tasks.iter().find(|t| t.at.line == 3).unwrap();
        assert_eq!(inner.parent.as_ref().map(|p| p.line), Some(2));
        assert_eq!(inner.function.short(), "a");
    }
}
