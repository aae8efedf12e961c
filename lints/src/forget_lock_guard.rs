use taskcheck_core::{declare_lint, Applicability, Diagnostic, Fix, LintMeta};

use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a lock guard that is never released: `std::mem::forget(g)`,
    /// `ManuallyDrop::new(g)` (unless the fn later calls `ManuallyDrop::drop`/
    /// `into_inner`), `Box::leak(Box::new(g))` or `*Guard::leak(g)`, where `g` comes from
    /// `.lock()`, `.read()`, `.write()`, `try_*`, `*_owned()`, `lock_arc()`,
    /// `upgradable_read()` or `blocking_*()` — through `unwrap`/`expect`/`?`/`.await`,
    /// `if let`/`match`, or the parameter of `.map(|g| ..)` on a lock result.
    ///
    /// Not flagged: lock implementations — code in an `impl` of a `Raw*` lock trait
    /// (`lock_api::RawMutex`, `RawRwLock`), an `unsafe fn`, a crate that defines its own
    /// lock type, or a crate that calls `force_unlock*`/`unlock_unchecked`.
    ///
    /// ### Why is this bad
    /// The guard's destructor is what unlocks. Forgotten, the lock stays held for the
    /// rest of the process: every later `lock()` blocks forever (a sync mutex parks the
    /// thread, an async one parks the task), and the service hangs on the next request
    /// that touches the data — often far from the line that leaked it.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let guard = CONFIG.write().unwrap();
    /// std::mem::forget(guard); // keep readers out while we reload
    /// reload_from_disk()?;
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let mut guard = CONFIG.write().unwrap();
    /// *guard = load_from_disk()?;
    /// drop(guard);
    /// ```
    ///
    /// ### Fix safety
    /// Unsafe: `mem::forget(g)` becomes `drop(g)`, which releases the lock at that
    /// point; code that relied on the lock staying held (the bug) changes behaviour.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// A `Lock()` without `Unlock()`.
    ///
    /// ### Known limits
    /// Only guards bound in the same fn are followed; a guard returned from a helper and
    /// forgotten by its caller is not seen.
    pub FORGET_LOCK_GUARD,
    name: "forget_lock_guard",
    group: Resources,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "a lock guard is forgotten or leaked, so the lock is never released",
    triggers: {
        anchors: ["forget|ManuallyDrop|leak"],
        context: ["*force_unlock", "unlock_unchecked"],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct ForgetLockGuard;

impl Lint for ForgetLockGuard {
    fn meta(&self) -> &'static LintMeta {
        &FORGET_LOCK_GUARD
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        // A crate that defines locks or force-unlocks them is implementing one.
        if cx.index.files.iter().any(|(_, f)| f.defines_lock || f.force_unlock) {
            return;
        }
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for (owner, g) in &facts.forgotten_guards {
                let body = BodyRef { file, body: *owner };
                if cx.ignores_body(body) || cx.index.body(body).lock_impl {
                    continue;
                }
                let d = Diagnostic::new(
                    self.meta().name,
                    "lock guard is never released",
                    g.span,
                    "the lock stays held: every later locker blocks forever",
                );
                out.push(match &g.fix {
                    Some(edit) => d.with_fix(Fix {
                        message: "release the lock: `drop(g)`".into(),
                        applicability: Applicability::Unsafe,
                        edits: vec![edit.clone()],
                    }),
                    None => d.with_help("release the lock with `drop(g)` (or let the guard go out of scope)"),
                });
            }
        }
    }
}
