use std::collections::HashMap;

use taskcheck_core::{declare_lint, Diagnostic, LintMeta, Span};

use crate::analysis::index::BodyRef;
use crate::analysis::statics::{StaticDecl, UseKind, UseTarget};
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a process-wide collection that only grows: a `static` (also `static mut`,
    /// `lazy_static!`, `thread_local!`, statics inside `cfg_if!` and in fn bodies) whose
    /// type — through the crate's type aliases and `Lazy`/`OnceLock`/`Arc` — has interior
    /// mutability around a `HashMap`, `BTreeMap`, `HashSet`, `Vec`, `VecDeque`, `DashMap`,
    /// `IndexMap`, `Slab`, `FxHashMap`, ..., which the crate inserts into (in any file,
    /// directly, through derived bindings such as `let map = CACHE.get_or_init(..)` or
    /// `CACHE.with(|c| ..)`, or through accessor fns) and never removes from. Also flags
    /// statics holding unbounded caches (`LruCache::unbounded()`, a moka builder with no
    /// capacity, weigher or expiry, `UnboundCache`) and `#[cached]`/`#[memoize]` fns with
    /// no size or time bound.
    ///
    /// Not flagged: any removal (`remove*`, `retain`, `clear`, `drain`, `pop*`,
    /// `truncate`, `take`, `evict*`, `mem::take`/`replace`/`swap`, `*guard = ..`) — except
    /// lazy expiry (a removal only in a branch that looked up the same map first, outside
    /// `Drop` and fns named `unregister`/`evict`/`close`/`forget`); inserts guarded by a
    /// `len()`/limit check; finite key domains (literals, consts, enum variants,
    /// `TypeId`) and collections of `&'static` values; inserts in the static's own
    /// initialiser; struct fields; test code.
    ///
    /// ### Why is this bad
    /// Every key ever seen stays for the life of the process: session ids, user ids,
    /// request paths, label sets. Memory creeps with traffic and never comes back, and
    /// lookups slow down as the map grows. Nothing crashes until the OOM killer does.
    ///
    /// ### Example
    /// ```rust,ignore
    /// static SEEN: Lazy<Mutex<HashMap<UserId, Instant>>> = Lazy::new(Default::default);
    ///
    /// fn touch(user: UserId) {
    ///     SEEN.lock().unwrap().insert(user, Instant::now());
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// static SEEN: Lazy<moka::sync::Cache<UserId, Instant>> = Lazy::new(|| {
    ///     moka::sync::Cache::builder().max_capacity(10_000).time_to_idle(Duration::from_secs(3600)).build()
    /// });
    /// ```
    /// or remove the entry when its owner goes away (`SEEN.lock().unwrap().remove(&user)`).
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `var cache = make(map[string]string)` with no eviction.
    ///
    /// ### Known limits
    /// Statics are matched by name across the crate; a collection handed out by
    /// reference to another type and filled there is not followed. Statics declared
    /// inside `macro_rules!` bodies are not seen.
    pub UNBOUNDED_STATIC_MAP,
    name: "unbounded_static_map",
    group: Resources,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "a static collection that the crate only ever inserts into",
    triggers: {
        anchors: [
            "static|thread_local|lazy_static & *Map|*Set|Vec|VecDeque|BinaryHeap|Slab|*Cache|moka|Unlimited|*unbounded",
            // `static S: Lazy<Registry>` with `type Registry = Mutex<HashMap<..>>`.
            "type & *Map|*Set|Vec|VecDeque|BinaryHeap|Slab|*Cache",
            "cached",
            "memoize"
        ],
        context: [],
        follow: [],
        // The fns naming a static (an accessor), and their callers; the statics named by
        // a type alias.
        callers: ["static,macro,type: static|thread_local|lazy_static|type"],
        scope: Items,
    },
}

/// Interior-mutable wrappers that let a static change.
const INTERIOR: &[&str] =
    &["Mutex", "RwLock", "RefCell", "Cell", "UnsafeCell", "DashMap", "DashSet", "ReentrantMutex", "FairMutex"];
/// Collections that grow.
const COLLECTIONS: &[&str] = &[
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "IndexMap",
    "IndexSet",
    "DashMap",
    "DashSet",
    "Vec",
    "VecDeque",
    "BinaryHeap",
    "Slab",
];

pub struct UnboundedStaticMap;

impl Lint for UnboundedStaticMap {
    fn meta(&self) -> &'static LintMeta {
        &UNBOUNDED_STATIC_MAP
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let files = &cx.index.files;
        let aliases: HashMap<&str, &[String]> =
            files.iter().flat_map(|(_, f)| f.statics.aliases.iter().map(|(n, t)| (n.as_str(), t.as_slice()))).collect();
        let accessors: HashMap<&str, &UseTarget> =
            files.iter().flat_map(|(_, f)| f.statics.accessors.iter().map(|(n, t)| (n.as_str(), t))).collect();
        let resolve = |t: &UseTarget| -> Option<String> {
            let mut cur = t;
            for _ in 0..4 {
                match cur {
                    UseTarget::Static(n) => return Some(n.clone()),
                    UseTarget::Accessor(f) => cur = accessors.get(f.as_str())?,
                }
            }
            None
        };
        // Per static name: the insert sites that grow it, and whether anything bounds it.
        let mut growth: HashMap<String, Vec<Span>> = HashMap::new();
        let mut bounded: HashMap<String, bool> = HashMap::new();
        for (_, f) in files {
            for u in f.statics.uses.iter().filter(|u| !u.in_test || cx.settings.lint_tests) {
                let Some(name) = resolve(&u.target) else { continue };
                match u.kind {
                    UseKind::Insert { finite: false, guarded: false } => growth.entry(name).or_default().push(u.span),
                    UseKind::Insert { .. } => {}
                    UseKind::Remove { bounds } => *bounded.entry(name).or_default() |= bounds,
                }
            }
        }
        for (file, (_, f)) in files.iter().enumerate() {
            let file_ignored = cx.ignores_body(BodyRef { file, body: 0 });
            for d in &f.statics.decls {
                if file_ignored || d.in_test && !cx.settings.lint_tests {
                    continue;
                }
                if bounded.get(&d.name).copied().unwrap_or(false) {
                    continue;
                }
                let inserts = growth.get(&d.name).map(Vec::as_slice).unwrap_or(&[]);
                if d.unbounded_cache {
                    out.push(self.finding(d, "static cache with no size bound", inserts));
                } else if !inserts.is_empty() && in_scope(d, &aliases) {
                    out.push(self.finding(d, "static collection only grows: nothing ever removes from it", inserts));
                }
            }
            for &(span, in_test) in &f.statics.cached_fns {
                if file_ignored || in_test && !cx.settings.lint_tests {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        "memoized fn with an unbounded cache",
                        span,
                        "with no `size`, `time` or capacity, every distinct argument is kept forever",
                    )
                    .with_help("bound the cache: `#[cached(size = 10_000)]` or `#[cached(time = 600)]`"),
                );
            }
        }
    }
}

impl UnboundedStaticMap {
    fn finding(&self, d: &StaticDecl, message: &str, inserts: &[Span]) -> Diagnostic {
        let mut diag = Diagnostic::new(self.meta().name, message, d.span, "lives as long as the process");
        for s in inserts.iter().take(3) {
            diag = diag.with_label(*s, "grows here");
        }
        if inserts.len() > 3 {
            diag = diag.with_note(format!("{} more insert sites", inserts.len() - 3));
        }
        diag.with_help(
            "bound it (`moka::sync::Cache::new(10_000)`, `lru::LruCache::new(cap)`), or remove each entry when its owner goes away",
        )
    }
}

/// Whether the static's type (aliases expanded) is a mutable collection.
fn in_scope(d: &StaticDecl, aliases: &HashMap<&str, &[String]>) -> bool {
    let mut idents: Vec<&str> = d.ty.iter().map(String::as_str).collect();
    for _ in 0..3 {
        let expanded: Vec<&str> = idents
            .iter()
            .flat_map(|i| aliases.get(i).map(|t| t.iter().map(String::as_str).collect()).unwrap_or_else(|| vec![*i]))
            .collect();
        let extra: Vec<&str> = idents.iter().filter(|i| aliases.contains_key(*i)).copied().collect();
        idents = expanded;
        idents.extend(extra);
    }
    // `Vec<&'static dyn Callsite>`: elements that live for the whole program are a
    // finite set (one per callsite in the binary), not growth.
    if idents.contains(&"static") {
        return false;
    }
    let interior = d.is_mut || d.thread_local || idents.iter().any(|i| INTERIOR.contains(i));
    let collection = idents.iter().any(|i| COLLECTIONS.contains(i) || i.ends_with("HashMap") || i.ends_with("HashSet"));
    interior && collection
}
