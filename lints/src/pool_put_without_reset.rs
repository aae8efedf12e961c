use taskcheck_core::{declare_lint, Applicability, Diagnostic, Edit, Fix, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::pools::CratePools;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags returning an object to a pool (`push*`/`append`/`put`/`attach`/`give_back`/
    /// `release` on a pool as in `pool_holds_pointers`) with no reset on either path: no
    /// `clear()`, `reset()`, `truncate(0)`, `fill(..)`, field-by-field reset or
    /// `*x = Default::default()` before the put, none after the take (between `pop()`
    /// and handing it out), no crate-local `clear`/`reset`/`recycle` call on it, and none
    /// in the `Drop` of the wrapper that puts it back.
    ///
    /// Not flagged: any of those resets (a pool's own put method counts as reset when a
    /// `Drop` that resets calls it); values put back as computed (`recv.free(..)`);
    /// `sharded_slab`, connection and worker pools; integer free lists; generic elements.
    ///
    /// ### Why is this bad
    /// The next user gets the previous user's data: a buffer with old bytes (a response
    /// body leaking to another client), a string with a stale prefix, a struct with old
    /// flags set. Buffers that kept growing keep their largest size forever.
    ///
    /// ### Example
    /// ```rust,ignore
    /// fn give_back(&self, buf: Vec<u8>) {
    ///     self.free.lock().unwrap().push(buf);
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// fn give_back(&self, mut buf: Vec<u8>) {
    ///     buf.clear();
    ///     self.free.lock().unwrap().push(buf);
    /// }
    /// ```
    ///
    /// ### Fix safety
    /// Unsafe: inserts `x.clear();` (or `x.reset();` for a crate type that only has
    /// `reset`) on the line before the put, when the element is a `Vec`, `String`,
    /// `VecDeque`, `HashMap`, `BytesMut` or a crate type with such a method. The binding
    /// may need `mut`, and code that relied on the stale contents changes behaviour.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `bufferPool.Put(buf)` without `buf.Reset()`.
    ///
    /// ### Known limits
    /// A reset in a helper with another name, or in a different fn than the put and the
    /// take, is not seen.
    pub POOL_PUT_WITHOUT_RESET,
    name: "pool_put_without_reset",
    group: Resources,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "an object goes back to a pool without being reset",
    triggers: {
        anchors: ["object_pool|lockfree_object_pool|opool|sharded_slab|LinearObjectPool|SpinLockObjectPool|MutexObjectPool", "struct,static,macro: *pool|*Pool|*POOL|*free|*Free|*FREE|*recycle|*Recycle|*RECYCLE & Vec|VecDeque|SegQueue|ArrayQueue"],
        context: [],
        follow: [],
        callers: [],
        scope: Crate,
    },
}

/// Element types whose `clear()` empties them.
const CLEARABLE: &[&str] = &["Vec", "String", "VecDeque", "HashMap", "BytesMut", "HashSet", "BTreeMap"];

pub struct PoolPutWithoutReset;

impl Lint for PoolPutWithoutReset {
    fn meta(&self) -> &'static LintMeta {
        &POOL_PUT_WITHOUT_RESET
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let facts: Vec<_> = cx.index.files.iter().map(|(_, f)| *f).collect();
        let Some(pools) = CratePools::of_crate(&facts) else { return };
        // Two pools may share a field name; each put is reported once, and only a put
        // whose pool is unambiguous gets a fix.
        let mut reported = std::collections::HashSet::new();
        for &(_, d) in &pools.decls {
            let ambiguous = pools.decls.iter().filter(|(_, o)| o.name == d.name).count() > 1;
            // `sharded_slab`'s `clear(key)` resets the slot itself.
            if pools.skipped(d) || d.library.as_deref() == Some("sharded_slab") || pools.resets_on_take(&d.name) {
                continue;
            }
            let Some(elem) = pools.elem_name(d) else { continue };
            for &(file, op) in pools.ops_of(&d.name) {
                if !op.put
                    || op.reset
                    || op.in_test && !cx.settings.lint_tests
                    || cx.ignores_body(BodyRef { file, body: 0 })
                {
                    continue;
                }
                // The pool's own put method, called by a wrapper's `Drop` that resets first.
                if op.param_of.as_deref().is_some_and(|f| pools.drop_puts.contains(f)) || !reported.insert(op.span) {
                    continue;
                }
                let diag = Diagnostic::new(
                    self.meta().name,
                    "object returned to the pool without a reset",
                    op.span,
                    "the next user of the pool gets this object's old contents",
                );
                let method =
                    if CLEARABLE.contains(&elem) { Some("clear") } else { pools.resettable.get(elem).map(|(m, _)| *m) };
                out.push(match (method, &op.value) {
                    // `append` moves the contents out: clearing first would lose them.
                    (Some(m), Some(v)) if op.local && !ambiguous && op.method != "append" => diag.with_fix(Fix {
                        message: format!("reset it first: `{v}.{m}();`"),
                        applicability: Applicability::Unsafe,
                        edits: vec![Edit { span: op.line_start, replacement: format!("{}{v}.{m}();\n", op.indent) }],
                    }),
                    _ => diag
                        .with_help("reset the object (`clear()`, `reset()`, or field by field) before putting it back"),
                });
            }
        }
    }
}
