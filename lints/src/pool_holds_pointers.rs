use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::pools::CratePools;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags an object pool whose element type has fields that keep other objects alive:
    /// `Rc`, `Arc`, `Weak`, non-`'static` references, raw pointers, `Box<dyn Fn..>`, or
    /// collections of those. Pools are library pools (`object_pool::Pool<T>`,
    /// `lockfree_object_pool::*ObjectPool<T>`, `opool::Pool`) and hand-written ones: a
    /// static or struct field named like a pool (`pool`, `free`, `recycle`) of type
    /// `Mutex`/`RefCell` around `Vec`/`VecDeque`, `SegQueue` or `ArrayQueue`, taken from
    /// with `pop*` and returned to with `push*`. The element's fields are read through
    /// the crate's aliases and struct definitions, in any file; an outer `Rc`/`Box` that
    /// is the pooled allocation itself does not count.
    ///
    /// Not flagged: `&'static` fields, a generic `T`, integer and `Copy` elements,
    /// connection and worker pools, and elements whose reset (`clear`/`reset` method, a
    /// `sharded_slab::Clear` impl, the pool's own take or put code, or the `Drop` of a
    /// wrapper that resets and then calls the pool's put method) empties those fields.
    ///
    /// ### Why is this bad
    /// An idle object in the pool still holds whatever its pointer fields point to: the
    /// previous request's buffers, a whole parsed tree behind an `Rc`, a closure's
    /// captures. The pool turns short-lived garbage into memory that lives as long as the
    /// pool — and hands stale data to the next user.
    ///
    /// ### Example
    /// ```rust,ignore
    /// struct Frame { parent: Option<Rc<Frame>>, locals: Vec<Value> }
    /// static FRAME_POOL: Lazy<Mutex<Vec<Frame>>> = Lazy::new(Default::default);
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// impl Frame {
    ///     fn reset(&mut self) { self.parent = None; self.locals.clear(); }
    /// }
    /// // ... and call `frame.reset()` before every `FRAME_POOL.lock().push(frame)`.
    /// ```
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `sync.Pool` of structs holding pointers or closures.
    ///
    /// ### Known limits
    /// One level of fields is read; element types from other crates are not.
    pub POOL_HOLDS_POINTERS,
    name: "pool_holds_pointers",
    group: Resources,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "an object pool whose elements keep other objects alive",
    triggers: {
        anchors: ["object_pool|lockfree_object_pool|opool|sharded_slab|LinearObjectPool|SpinLockObjectPool|MutexObjectPool", "struct,static,macro: *pool|*Pool|*POOL|*free|*Free|*FREE|*recycle|*Recycle|*RECYCLE & Vec|VecDeque|SegQueue|ArrayQueue"],
        context: [],
        follow: [],
        callers: [],
        scope: Crate,
    },
}

pub struct PoolHoldsPointers;

impl Lint for PoolHoldsPointers {
    fn meta(&self) -> &'static LintMeta {
        &POOL_HOLDS_POINTERS
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let facts: Vec<_> = cx.index.files.iter().map(|(_, f)| *f).collect();
        let Some(pools) = CratePools::of_crate(&facts) else { return };
        for &(file, d) in &pools.decls {
            if d.in_test && !cx.settings.lint_tests || cx.ignores_body(BodyRef { file, body: 0 }) || pools.skipped(d) {
                continue;
            }
            // A hand-written pool is one the crate takes from and returns to.
            let used = pools.ops_of(&d.name).any(|(_, o)| o.put) && pools.ops_of(&d.name).any(|(_, o)| !o.put);
            if d.library.is_none() && !used {
                continue;
            }
            let Some(elem) = pools.elem_name(d) else { continue };
            let Some(def) = pools.structs.get(elem) else { continue };
            // The element's reset empties the pointer fields, or the pool's own take or put
            // code resets what passes through it.
            let empties = |keys: &[String]| def.pointer_fields.iter().all(|(f, _)| keys.contains(f));
            let takes_empty = pools.ops_of(&d.name).any(|(_, o)| !o.put && empties(&o.reset_keys));
            // A put method called by a wrapper's `Drop` that resets first (actix-web's
            // `HttpRequestPool`) resets through that `Drop`.
            let puts_empty = {
                let mut puts = pools.ops_of(&d.name).filter(|(_, o)| o.put).peekable();
                puts.peek().is_some()
                    && puts.all(|(_, o)| {
                        empties(&o.reset_keys) || o.param_of.as_deref().is_some_and(|f| pools.drop_puts.contains(f))
                    })
            };
            if def.pointer_fields.is_empty()
                || pools.reset_empties(elem, &def.pointer_fields)
                || takes_empty
                || puts_empty
            {
                continue;
            }
            let mut diag = Diagnostic::new(
                self.meta().name,
                format!("pooled `{elem}` keeps other objects alive while it sits in the pool"),
                d.span,
                "this pool holds its idle elements for its whole life",
            );
            for (name, span) in def.pointer_fields.iter().take(3) {
                diag = diag.with_label(*span, format!("`{name}` holds a pointer"));
            }
            out.push(diag.with_help(format!(
                "give `{elem}` a `reset(&mut self)` that clears (or sets to `None`) its pointer fields and call it before every put, or pool only plain buffers"
            )));
        }
    }
}
