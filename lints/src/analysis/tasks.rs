//! Task contexts: which long-running loops run where nothing can stop them. Both
//! lifecycle lints read this one analysis, so "one finding per bug" holds whichever of
//! them is enabled.

use std::collections::{BTreeMap, HashSet};

use taskcheck_core::Span;

use super::handlers::HandlerShape;
use super::index::{BodyRef, CrateIndex, LoopRef, ResolvedSpawn, Step};
use super::spawn::{Disposition, Spawner};

/// Calls followed from a spawned task's body.
pub const TASK_CALL_DEPTH: usize = 4;
/// Calls followed from `main` (the catalogue asks for three levels).
pub const MAIN_CALL_DEPTH: usize = 3;

/// A detached spawn whose work runs forever: `spawn_without_cancel`.
#[derive(Clone, Debug)]
pub struct DetachedLeak {
    pub spawn: usize,
    /// The offending loops, each with the call in the task body that leads to it (when
    /// the loop is in another fn) and the callee's name.
    pub loops: Vec<ReachedLoop>,
}

/// A loop reached from a context, and how.
#[derive(Clone, Debug)]
pub struct ReachedLoop {
    pub at: LoopRef,
    /// The first call on the path from the context's body, and the fn it calls.
    pub via: Option<(Span, String)>,
}

/// Why a loop cannot be stopped (for `loop_without_cancel`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoopContext {
    /// Runs in an OS thread spawned at `spawn`.
    Thread { spawn: Span },
    /// Runs in a task spawned on a `TaskTracker` whose handle is discarded.
    Tracker { spawn: Span },
    /// Runs in `main` (or a fn it calls), with no shutdown signal raced against it.
    Main { via: Option<Span>, sync: bool },
    /// `strict-async-loops`: any long-running async loop.
    StrictAsync,
}

/// The result of the task-context analysis for one crate.
#[derive(Debug, Default)]
pub struct TaskAnalysis {
    pub detached: Vec<DetachedLeak>,
    /// Loops labelled by a detached-spawn finding (lint 1 stays silent on them).
    pub covered: HashSet<LoopRef>,
    /// Long-running loops that nothing can stop, by loop, with the first context found.
    pub contexts: BTreeMap<LoopRef, LoopContext>,
    /// Spawns (indices into `CrateIndex::spawns`) whose work contains a long-running loop.
    pub long_running: HashSet<usize>,
    /// Detached spawns in a request handler with no timeout or cancellation source
    /// (`spawn_in_handler`, which takes precedence over `spawn_without_cancel`).
    pub in_handler: Vec<usize>,
}

/// What the analysis may look at.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskOptions {
    pub lint_tests: bool,
    pub strict_async_loops: bool,
}

pub fn first_call(steps: &[Step], target: BodyRef, index: &CrateIndex<'_>) -> Option<(Span, String)> {
    // Walk parents back to the start; keep the call made from the start body and the
    // fn it calls.
    let mut cur = steps.iter().find(|s| s.body == target)?;
    let mut first = None;
    while let Some((parent, span)) = cur.from {
        first = Some((span, index.body(cur.body).name.clone()));
        cur = steps.iter().find(|s| s.body == parent)?;
    }
    first
}

/// Runs the analysis.
pub fn analyze(index: &CrateIndex<'_>, opts: TaskOptions) -> TaskAnalysis {
    let mut out = TaskAnalysis::default();
    let skip_test = |b: BodyRef| !opts.lint_tests && index.is_test_body(b);
    let skip_loop = |l: LoopRef| !opts.lint_tests && index.is_test_loop(l);
    let routes: HashSet<&str> = index.files.iter().flat_map(|(_, f)| f.routes.iter().map(String::as_str)).collect();

    for (si, sp) in index.spawns.iter().enumerate() {
        let owner = BodyRef { file: sp.file, body: sp.site.owner };
        if skip_test(owner) || index.is_build_script(sp.file) || is_singleton(index, sp) {
            continue;
        }
        let thread = sp.spawner.is_thread();
        let handler = sp.is_detached() && is_unbounded_handler_spawn(index, &routes, sp);
        if handler {
            out.in_handler.push(si);
        }
        // A call raced against a cancellation source is dropped when it fires.
        let steps = index.reach(sp.body(), TASK_CALL_DEPTH, |c| !c.raced);
        let long: Vec<ReachedLoop> = steps
            .iter()
            .flat_map(|s| index.loops_of(s.body))
            .filter(|&l| !skip_loop(l) && !index.loop_fact(l).raced && index.loop_fact(l).long_running(thread))
            .map(|l| ReachedLoop {
                at: l,
                via: first_call(&steps, BodyRef { file: l.file, body: index.loop_fact(l).owner }, index),
            })
            .collect();
        if long.is_empty() {
            continue;
        }
        out.long_running.insert(si);
        if handler {
            // One finding per bug: `spawn_in_handler` reports this spawn.
            out.covered.extend(long.iter().map(|l| l.at));
        } else if sp.is_detached() {
            // A stop signal moved in cannot help a loop that has no exit at all.
            let offending: Vec<ReachedLoop> = long
                .iter()
                .filter(|l| !sp.site.cancel_moved_in || !index.loop_fact(l.at).any_exit())
                // A loop whose cancellation branch does not leave it is its own, more precise
                // finding (`loop_without_cancel` (d)): one finding per bug.
                .filter(|l| index.loop_fact(l.at).cancel_no_leave.is_none())
                .cloned()
                .collect();
            if !offending.is_empty() {
                out.covered.extend(offending.iter().map(|l| l.at));
                out.detached.push(DetachedLeak { spawn: si, loops: offending });
            }
        }
        let ctx = match (sp.spawner, sp.disposition) {
            (Spawner::Thread, _) => Some(LoopContext::Thread { spawn: sp.site.span }),
            (Spawner::Tracker, Disposition::Dropped | Disposition::Detached) => {
                Some(LoopContext::Tracker { spawn: sp.site.span })
            }
            _ => None,
        };
        if let Some(ctx) = ctx {
            for l in &long {
                out.contexts.entry(l.at).or_insert_with(|| ctx.clone());
            }
        }
    }

    for (fi, (_, f)) in index.files.iter().enumerate() {
        for (bi, b) in f.bodies.iter().enumerate() {
            let main = BodyRef { file: fi, body: bi };
            if !b.is_main || skip_test(main) || index.is_build_script(fi) {
                continue;
            }
            let sync = !b.is_async;
            let steps = index.reach(main, MAIN_CALL_DEPTH, |c| !c.raced);
            for s in &steps {
                for l in index.loops_of(s.body) {
                    let fact = index.loop_fact(l);
                    if skip_loop(l) || fact.raced || !fact.long_running(sync && !fact.in_async) {
                        continue;
                    }
                    let via = first_call(&steps, s.body, index).map(|(span, _)| span);
                    out.contexts.entry(l).or_insert(LoopContext::Main { via, sync });
                }
            }
        }
    }

    if opts.strict_async_loops {
        for l in index.all_loops() {
            let fact = index.loop_fact(l);
            if fact.in_async && fact.long_running(false) && !skip_loop(l) {
                out.contexts.entry(l).or_insert(LoopContext::StrictAsync);
            }
        }
    }
    out
}

/// A spawn in a one-time initialiser or behind a once-guard, or a task whose fn returns
/// `!` and is documented to run forever: the process's own driver threads.
pub fn is_singleton(index: &CrateIndex<'_>, sp: &ResolvedSpawn<'_>) -> bool {
    if sp.site.singleton {
        return true;
    }
    let body = index.body(sp.body());
    body.calls.iter().flat_map(|c| index.resolve(sp.body(), c)).any(|c| index.body(c).never_forever)
}

/// A spawn made while serving a request (in a handler fn or a hyper `service_fn`
/// closure) whose work is neither bounded by a timeout nor given a cancellation source.
fn is_unbounded_handler_spawn(index: &CrateIndex<'_>, routes: &HashSet<&str>, sp: &ResolvedSpawn<'_>) -> bool {
    let owner = index.body(BodyRef { file: sp.file, body: sp.site.owner });
    let handler = sp.site.in_service_fn
        || match owner.handler {
            HandlerShape::Handler => true,
            HandlerShape::IfRouted => routes.contains(owner.name.as_str()),
            HandlerShape::No => false,
        };
    handler && !sp.site.bounded && !sp.site.cancel_moved_in
}

/// How a long-running loop is described in a label.
pub fn loop_label(fact: &super::facts::LoopFact) -> &'static str {
    if fact.error_exits.is_empty() {
        "this loop has no exit and observes no cancellation signal"
    } else {
        "this loop only ends on error or panic"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::index::tests::{index, Fixture};

    fn run(files: &[(&str, &str)]) -> (Vec<usize>, Vec<(usize, String)>) {
        let fx = Fixture::new(files);
        let units = fx.units();
        let idx = index(&units, &fx);
        let a = analyze(&idx, TaskOptions::default());
        let detached = a.detached.iter().map(|d| idx.spawns[d.spawn].site.span.lo.line).collect();
        let contexts = a
            .contexts
            .iter()
            .filter(|(l, _)| !a.covered.contains(l))
            .map(|(l, c)| {
                let kind = match c {
                    LoopContext::Thread { .. } => "thread",
                    LoopContext::Tracker { .. } => "tracker",
                    LoopContext::Main { .. } => "main",
                    LoopContext::StrictAsync => "strict",
                };
                (idx.loop_fact(*l).span.lo.line, kind.to_string())
            })
            .collect();
        (detached, contexts)
    }

    #[test]
    fn detached_task_with_loop_in_another_file() {
        let (detached, contexts) = run(&[
            ("src/main.rs", "mod w;\nfn start() {\n    tokio::spawn(w::run());\n}"),
            ("src/w.rs", "pub async fn run() {\n    loop { tick().await; }\n}"),
        ]);
        assert_eq!(detached, [3]);
        assert!(contexts.is_empty(), "lint 1 stays silent on a loop lint 2 labels");
    }

    #[test]
    fn kept_threads_and_tracker_tasks_are_loop_contexts() {
        let (detached, contexts) = run(&[(
            "src/lib.rs",
            "fn a(tracker: TaskTracker) {\n    let h = std::thread::spawn(|| loop { work(); });\n    h.join();\n    tracker.spawn(async { loop { tick().await } });\n}",
        )]);
        assert!(detached.is_empty());
        assert_eq!(contexts, [(2, "thread".to_string()), (4, "tracker".to_string())]);
    }

    #[test]
    fn main_loops_unless_raced() {
        let (_, contexts) = run(&[(
            "src/main.rs",
            "async fn serve() {\n    loop { accept().await; }\n}\nasync fn other() {\n    loop { accept().await; }\n}\n#[tokio::main]\nasync fn main() {\n    tokio::select! { _ = serve() => {}, _ = tokio::signal::ctrl_c() => {} }\n    other().await;\n}",
        )]);
        assert_eq!(contexts, [(5, "main".to_string())]);
    }

    #[test]
    fn cancellation_moved_in_clears_loops_that_can_exit() {
        let (detached, _) = run(&[(
            "src/lib.rs",
            "fn a(stop: Arc<AtomicBool>, shutdown: Token) {
                 std::thread::spawn(move || loop { let j = rx.recv()?; if stop.load(SeqCst) { work(j) } });
                 std::thread::spawn(move || loop { check(&shutdown); });
             }",
        )]);
        assert_eq!(detached, [3], "a loop with no exit at all is flagged even with a stop flag moved in");
    }

    #[test]
    fn singletons_and_test_code_are_skipped() {
        let (detached, contexts) = run(&[(
            "src/lib.rs",
            "fn r() { R.get_or_init(|| { std::thread::spawn(|| loop { poll() }); }); }
             #[cfg(test)] mod tests { fn t() { tokio::spawn(async { loop { tick().await } }); } }
             /// Reaps zombies forever.
             fn reap() -> ! { loop { wait() } }
             fn start() { std::thread::spawn(|| reap()); }",
        )]);
        assert!(detached.is_empty());
        assert!(contexts.is_empty());
    }
}
