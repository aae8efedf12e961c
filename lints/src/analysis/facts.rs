//! The per-file pass: one walk over the AST that records the facts the lints need
//! (bodies, calls, spawn sites, loops and how they exit), after which the AST is dropped.
//! Nothing here holds a syn or proc-macro2 value: spans are converted on the spot.

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};
use taskcheck_core::{Edit, SourceFile, Span};

use super::cancel::{is_cancel_name, is_racing_method, is_signal_path, CANCEL_METHODS};
use super::channels::{bound_of, Bound};
use super::consts::{int_expr, is_non_default_cfg, IntExpr};
use super::exits::{handler_leaves, is_error_macro};
use super::guards::{forgotten_guards, ForgottenGuard};
use super::handlers::{handler_shape, is_bounded_work, routed_fns, HandlerShape};
use super::handles::{field_of, is_one_of, is_wrapper_ctor, receiver_name, value_root, FieldOp, HandleUse, UseKind};
use super::http::{clients_without_timeout, ClientSite};
use super::paths::{Origin, Resolved, Resolver, UseScope};
use super::pools::{pool_facts, PoolFacts};
use super::select::{is_select_macro, parse_select, BranchKind};
use super::spawn::{
    api_of_path, is_lazy_type, is_once_initialiser, is_spawn_method, kind_of_constructor, kind_of_type,
    spawner_of_path, Disposition, SpawnApi, Spawner, ValueKind,
};
use super::statics::{static_facts, StaticFacts};
use super::stops::{is_closed_pattern, is_value_pattern, kind_of_source, recv_call, short_text, EndObs, SourceKind};
use super::testcode::{is_test_file_attrs, is_test_item, is_test_path};
use super::timers::{is_deadline_poll, is_plain_sleep, sleep_call, timer_task};
use super::tokens::{lost_cancels, LostCancel};

/// Index of a body within its file's facts.
pub type BodyId = usize;

/// What a body is.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// Code outside any fn (static initialisers).
    Items,
    /// A free fn.
    Fn,
    /// A fn in an `impl` or trait.
    Method,
    /// The work a spawn site starts (its closure, async block or call).
    Task,
    /// A closure or async block passed to a crate-local fn that may turn out to spawn it.
    Pending,
}

/// A fn-like body: a fn, a method, or the work handed to a spawn.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Body {
    pub kind: BodyKind,
    pub name: String,
    /// Last segment of the `impl` self type (or the trait name).
    pub self_ty: Option<String>,
    pub has_self: bool,
    /// Parameter count, not counting `self`.
    pub arity: usize,
    pub is_async: bool,
    /// `fn main` at the top of a file.
    pub is_main: bool,
    /// Returns `!` and is documented as running forever.
    pub never_forever: bool,
    pub span: Span,
    pub in_test: bool,
    /// Module path of the body (`worker`, `server::conn`).
    pub module: String,
    pub calls: Vec<Call>,
    /// When the fn passes its parameter to a spawn site, it is a spawn wrapper.
    pub wrapper: Option<Wrapper>,
    /// Whether the signature makes it an HTTP/RPC request handler.
    pub handler: HandlerShape,
    /// `fn drop` of an `impl Drop`.
    pub is_drop: bool,
    /// Calls `Handle::try_current()`: spawns here are guarded against a missing runtime.
    pub try_current: bool,
    /// Takes `&self`/`&mut self` (or `self: Arc<Self>`): callable more than once.
    pub self_ref: bool,
    /// Guards against running twice: `Once`/`get_or_init`, an atomic `swap`/
    /// `compare_exchange`, or a check of an `Option` handle field on `self`.
    pub start_guard: bool,
    /// Upper bounds of `for _ in 0..N` loops (constant expressions).
    pub range_bounds: Vec<IntExpr>,
    /// Lock-implementation code: an `unsafe fn` or a method of a `Raw*` lock trait impl.
    pub lock_impl: bool,
    /// Sends and receives on channel endpoints, in order.
    pub chan_ops: Vec<ChanOp>,
    /// `let a = b.clone()` / `Arc::clone(&b)` / `Arc::new(Mutex::new(b))`: (a, b).
    pub local_aliases: Vec<(String, String)>,
    /// For spawned work and pending closures: the body they are written in.
    pub parent: Option<BodyId>,
    /// What is done with the values some calls return (indices into `calls`): a
    /// returned spawn handle is followed to its callers through these.
    pub call_uses: Vec<(usize, HandleUse)>,
}

/// A fn that spawns one of its parameters (`fn spawn<F: Future>(f: F) { tokio::spawn(f); }`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wrapper {
    pub param: usize,
    pub spawner: Spawner,
    pub api: SpawnApi,
    /// What the wrapper does with the inner handle (`Kept` = returns it to the caller).
    pub disposition: Disposition,
}

/// A call to something that may be crate-local.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub target: CallTarget,
    pub span: Span,
    /// Raced against a cancellation source (`select!` with a cancel branch,
    /// `run_until_cancelled`, `with_graceful_shutdown`, `timeout`).
    pub raced: bool,
    /// In a `select!` operand or an operand of a race combinator (`select(a, b)`,
    /// `a.or(b)`): its future is polled only until another operand completes.
    pub operand: bool,
}

/// What a call names, for crate-wide resolution.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum CallTarget {
    /// `f(..)`, `worker::f(..)`, `crate::a::f(..)`; qualifier = last module segment.
    Free { name: String, qualifier: Option<String>, arity: usize },
    /// `Type::f(..)` or `Self::f(..)`.
    Assoc { ty: String, name: String },
    /// `self.m(..)`.
    SelfMethod { name: String, arity: usize },
    /// `x.m(..)` on any receiver; `recv_ty` is the last segment of the receiver's type
    /// when a local binding tells it (`let h = Handler { .. }`, `let h: Handler`).
    Method { name: String, arity: usize, recv_ty: Option<String> },
    /// A body of the same file (a pending closure that turned out not to be spawned).
    Body(BodyId),
}

/// A `loop`, `while` or `for` and how it can end.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct LoopFact {
    pub owner: BodyId,
    /// The keyword and header.
    pub span: Span,
    /// `loop` or `while true`: only these can run forever.
    pub infinite: bool,
    /// A `break` targeting it, a non-`Err` `return`, or a diverging exit call.
    pub normal_exit: bool,
    /// `?`, `return Err(..)`, `bail!`, `panic!`, `unwrap()`, `expect()`.
    pub error_exits: Vec<ErrorExit>,
    /// The body has an await point or a blocking call.
    pub awaits_or_blocks: bool,
    /// A `select!` branch on a cancellation source whose handler does not leave the loop.
    pub cancel_no_leave: Option<Span>,
    /// Inside a future raced against a cancellation source.
    pub raced: bool,
    pub in_async: bool,
    pub in_test: bool,
    /// When the body is a `tokio::select!` and a `CancellationToken` is in scope: the
    /// edit that adds `_ = token.cancelled() => break,` as its first branch.
    pub cancel_fix: Option<Edit>,
}

impl LoopFact {
    /// Whether anything (normal or error) can end the loop.
    pub fn any_exit(&self) -> bool {
        self.normal_exit || !self.error_exits.is_empty()
    }

    /// Long-running: runs until the process ends unless stopped from outside. In an OS
    /// thread a loop with no exit at all counts even when its body only calls opaque fns.
    pub fn long_running(&self, in_thread: bool) -> bool {
        self.infinite && !self.normal_exit && (self.awaits_or_blocks || in_thread && !self.any_exit())
    }
}

/// A way out of a loop that only fires on failure.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorExit {
    pub span: Span,
    /// `true` for a panic path (`panic!`, `unwrap()`, `expect()`, `assert!`), `false`
    /// for an error return (`?`, `return Err(..)`, `bail!`).
    pub panics: bool,
}

/// A place that starts concurrent work.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct SpawnSite {
    pub owner: BodyId,
    /// The body holding the spawned work.
    pub body: BodyId,
    /// The spawn callee (`tokio::spawn`, `.spawn`).
    pub span: Span,
    /// `None` while it is a call to a crate-local fn that may be a spawn wrapper.
    pub spawner: Option<Spawner>,
    pub disposition: Disposition,
    /// For `self.field.spawn(..)` with a field declared elsewhere: resolved in the join.
    pub receiver_field: Option<String>,
    /// For a possible wrapper: the call and which argument holds the work.
    pub via: Option<(CallTarget, usize)>,
    pub cancel_moved_in: bool,
    pub singleton: bool,
    pub in_test: bool,
    /// On the ambient tokio runtime (`tokio::spawn`, `Handle::current().spawn`): panics
    /// when no runtime is running.
    pub ambient: bool,
    /// The work is bounded by a timeout, or is an upgraded connection (`hyper::upgrade::on`).
    pub bounded: bool,
    /// The work first sleeps and then acts (a timer task): the sleep's span.
    pub timer: Option<Span>,
    /// Inside a hyper `service_fn` closure: per-request code.
    pub in_service_fn: bool,
    /// When a `CancellationToken` is in scope and the work is an async block: the edits
    /// that run it under `token.run_until_cancelled(..)`.
    pub cancel_fix: Option<Vec<Edit>>,
    /// The API that starts the work (`None` while it may be a spawn wrapper's call).
    pub api: Option<SpawnApi>,
    /// What is done with the handle when it is kept (in source order).
    pub uses: Vec<HandleUse>,
    /// The work is a parameter of the enclosing fn: a spawn wrapper spawning its caller's work.
    pub delegated: bool,
}

/// Which cargo target a file belongs to, for call visibility.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `src/` (library and main binary): visible from every target.
    Src,
    /// Another target (`tests/x`, `examples/y`, `benches/z`, `src/bin/w`): sees `src/` and itself.
    Unit(String),
}

/// Everything the lints need from one file.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct FileFacts {
    pub module: String,
    pub target: Target,
    /// Under `tests/`/`benches/`, or `#![cfg(test)]`.
    pub is_test_file: bool,
    /// `build.rs`: compile-time code.
    pub is_build_script: bool,
    /// Out-of-line `#[cfg(test)] mod x;` declarations.
    pub cfg_test_mods: Vec<String>,
    pub bodies: Vec<Body>,
    pub loops: Vec<LoopFact>,
    pub spawns: Vec<SpawnSite>,
    /// Struct fields and statics whose type matters to spawns (`JoinSet`, `TaskTracker`).
    pub field_kinds: Vec<(String, ValueKind)>,
    /// Calls of `std::thread::sleep` whose nearest enclosing fn-like is async.
    pub blocking_sleeps: Vec<BlockingSleep>,
    /// Fns named by a router (`.route("/", get(f))`, `web::get().to(f)`).
    pub routes: Vec<String>,
    /// `pending().await` as a statement or the tail of a body.
    pub pendings: Vec<Site>,
    /// `loop {}` and `loop { thread::park(); }`.
    pub park_loops: Vec<Site>,
    /// Async loops that poll a condition with a sleep until a deadline.
    pub sleep_polls: Vec<Site>,
    /// A sleep raced in `select!` against one operation.
    pub select_sleeps: Vec<SelectSleep>,
    /// Cancellation signals lost inside a fn.
    pub lost_cancels: Vec<(BodyId, LostCancel)>,
    /// HTTP clients built without a request timeout.
    pub http_clients: Vec<(BodyId, ClientSite)>,
    /// Async runtimes the file's paths name.
    pub runtimes: Runtimes,
    /// Integer `const` items (default cfg), by name.
    pub consts: Vec<(String, IntExpr)>,
    /// Channel constructors.
    pub channels: Vec<ChannelSite>,
    /// Structs and enums carrying a reply sender (request/reply messages).
    pub reply_types: Vec<String>,
    /// Unit structs (`struct Token;`): a channel of them carries no data.
    pub unit_structs: Vec<String>,
    /// Lock guards that are forgotten or leaked.
    pub forgotten_guards: Vec<(BodyId, ForgottenGuard)>,
    /// The file defines a lock type: guards forgotten in this crate are lock internals.
    pub defines_lock: bool,
    /// The file calls `force_unlock*`/`unlock_unchecked` (a lock implementation).
    pub force_unlock: bool,
    /// Statics, their inserts and removals, accessors and `#[cached]` fns.
    pub statics: StaticFacts,
    /// Object pools, element structs, takes and puts.
    pub pools: PoolFacts,
    /// Line ranges of items, for suppressions above an item.
    pub items: Vec<(usize, usize)>,
    /// The file's suppression comments (read once, with the rest of its facts).
    pub suppressions: Vec<super::suppress::Suppression>,
    /// Loop exits and raced waits taken on cancellation or on a closed channel.
    pub ends: Vec<EndObs>,
    /// `.abort()`/`.join()`/`.await` on handles read from struct fields.
    pub field_ops: Vec<FieldOp>,
}

/// A channel constructor call.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct ChannelSite {
    pub owner: BodyId,
    /// The constructor path.
    pub span: Span,
    pub bound: Bound,
    /// The capacity argument of a bounded channel, when it is a constant expression.
    pub capacity: Option<IntExpr>,
    /// The element type's last segment (`()` for the unit type), from a turbofish or
    /// a `let` annotation.
    pub elem: Option<String>,
    /// `let (tx, rx) = ..` names (`None` for `_` or when not bound by a `let`).
    pub tx: Option<String>,
    pub rx: Option<String>,
    /// The constructor's canonical path (`tokio::sync::mpsc::channel`).
    pub path: String,
    /// Struct fields the endpoints are stored into in the creating fn (`Self { slot_tx,
    /// slot_rx: Mutex::new(slot_rx) }`).
    pub tx_fields: Vec<String>,
    pub rx_fields: Vec<String>,
}

/// What a channel operation is on: `self.field` or a local binding.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Field(String),
    Local(String),
}

/// A send or receive on a channel endpoint, in body order.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct ChanOp {
    pub endpoint: Endpoint,
    pub send: bool,
    pub span: Span,
    /// The value sent is a unit value (`()`, `true`, a unit struct).
    pub unit_value: bool,
}

/// Which async runtimes a file uses (for fixes that name one).
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Runtimes {
    pub tokio: bool,
    pub async_std: bool,
}

/// A blocking `std::thread::sleep(..)` call in async code.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub struct BlockingSleep {
    pub owner: BodyId,
    /// The callee path.
    pub callee: Span,
    /// The end of the call (where `.await` goes).
    pub end: Span,
}

/// A `sleep(..)` branch of a `select!` with one operation.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct SelectSleep {
    pub owner: BodyId,
    /// The sleep future.
    pub span: Span,
    /// Shape (b): inside a loop, restarted on every iteration.
    pub restarts: bool,
    /// Shape (a): the `tokio::time::timeout` rewrite of the whole `select!`.
    pub fix: Option<Edit>,
}

/// A call site recorded for a lint, with the body it is in.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub struct Site {
    pub owner: BodyId,
    pub span: Span,
}

/// Module path of a crate-relative file path (`src/server/conn.rs` -> `server::conn`).
pub fn module_of(rel_path: &str) -> String {
    let p = rel_path.trim_end_matches(".rs");
    let p =
        ["src/bin/", "src/", "tests/", "examples/", "benches/"].iter().find_map(|pre| p.strip_prefix(pre)).unwrap_or(p);
    let p = p.strip_suffix("/mod").unwrap_or(p);
    if matches!(p, "main" | "lib" | "mod") || !p.contains('/') && p.is_empty() {
        return String::new();
    }
    p.replace('/', "::")
}

/// The cargo target of a crate-relative path.
pub fn target_of(rel_path: &str) -> Target {
    for pre in ["src/bin/", "tests/", "examples/", "benches/"] {
        if let Some(rest) = rel_path.strip_prefix(pre) {
            let unit = rest.split('/').next().unwrap_or(rest).trim_end_matches(".rs");
            return Target::Unit(format!("{pre}{unit}"));
        }
    }
    Target::Src
}

/// Which of the separate walks to run: each serves only some lints.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub struct Walks {
    /// Statics and their uses (`unbounded_static_map`), type aliases (also the pools').
    pub statics: bool,
    /// Object pools (`pool_holds_pointers`, `pool_put_without_reset`).
    pub pools: bool,
}

impl Walks {
    pub const ALL: Walks = Walks { statics: true, pools: true };
}

/// Extracts the facts of one parsed file.
pub fn extract(src: &SourceFile, rel_path: &str, ast: &syn::File, extra_words: &[String]) -> FileFacts {
    extract_with(src, rel_path, ast, extra_words, Walks::ALL)
}

/// [`extract`], leaving out the walks no lint will read.
pub fn extract_with(
    src: &SourceFile,
    rel_path: &str,
    ast: &syn::File,
    extra_words: &[String],
    walks: Walks,
) -> FileFacts {
    let mut kinds = FieldKinds::default();
    kinds.visit_file(ast);
    let module = module_of(rel_path);
    let mut x = Extractor {
        src,
        extra_words,
        resolver: Resolver::default(),
        facts: FileFacts {
            module: module.clone(),
            target: target_of(rel_path),
            is_test_file: is_test_path(rel_path) || is_test_file_attrs(&ast.attrs),
            is_build_script: rel_path == "build.rs",
            cfg_test_mods: Vec::new(),
            bodies: Vec::new(),
            loops: Vec::new(),
            spawns: Vec::new(),
            field_kinds: kinds.found.clone(),
            reply_types: std::mem::take(&mut kinds.reply_types),
            unit_structs: std::mem::take(&mut kinds.unit_structs),
            defines_lock: kinds.defines_lock,
            force_unlock: false,
            consts: Vec::new(),
            channels: Vec::new(),
            forgotten_guards: Vec::new(),
            statics: if walks.statics { static_facts(src, ast) } else { StaticFacts::default() },
            pools: if walks.pools { pool_facts(src, ast) } else { PoolFacts::default() },
            suppressions: super::suppress::parse(src),
            // Item ranges only serve suppressions; most files have none.
            items: Vec::new(),
            ends: Vec::new(),
            field_ops: Vec::new(),
            blocking_sleeps: Vec::new(),
            routes: Vec::new(),
            pendings: Vec::new(),
            park_loops: Vec::new(),
            sleep_polls: Vec::new(),
            select_sleeps: Vec::new(),
            lost_cancels: Vec::new(),
            http_clients: Vec::new(),
            runtimes: Runtimes::default(),
        },
        field_kinds: kinds.found.into_iter().collect(),
        ctx: Ctx::default(),
        bindings: vec![HashMap::new()],
        types: vec![HashMap::new()],
        futures: vec![HashMap::new()],
        marks: HashMap::new(),
        module: if module.is_empty() { vec![] } else { vec![module] },
        self_ty: None,
        scope_closure: false,
        block_on_arg: false,
        body_block: false,
        no_pending: 0,
        in_drop_impl: false,
        spawn_work: false,
        in_raw_lock_impl: false,
        in_trait_impl: false,
        next_loop_cond: Vec::new(),
        sleep_primitive: false,
        origins: vec![HashMap::new()],
        use_marks: HashMap::new(),
        produced: HashMap::new(),
        returns_block: false,
        closure_origin: None,
    };
    let file_span = src.span(0, 0);
    x.ctx.body = x.new_body(BodyKind::Items, String::new(), file_span, false);
    x.resolver.push(UseScope::from_items(&ast.items));
    for item in &ast.items {
        x.visit_item(item);
    }
    if !x.facts.suppressions.is_empty() {
        x.facts.items = super::suppress::item_ranges(ast);
    }
    x.facts
}

/// Collects struct fields and statics whose types matter (`tasks: JoinSet<()>`).
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct FieldKinds {
    found: Vec<(String, ValueKind)>,
    /// Structs and enums carrying a reply sender (`oneshot::Sender`, `SyncSender`).
    reply_types: Vec<String>,
    /// The file defines a lock type (`struct SpinLock`, `..Mutex`, `..RwLock`).
    defines_lock: bool,
    unit_structs: Vec<String>,
}

/// Whether type tokens name a reply sender: `oneshot::Sender<..>` or `SyncSender<..>`.
fn carries_reply_sender(ts: proc_macro2::TokenStream) -> bool {
    let mut prev: Vec<String> = Vec::new();
    fn scan(ts: proc_macro2::TokenStream, prev: &mut Vec<String>) -> bool {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    let s = i.to_string();
                    let after_oneshot = prev.len() >= 2 && prev[prev.len() - 2] == "oneshot";
                    if s == "SyncSender" || s == "Sender" && after_oneshot {
                        return true;
                    }
                    prev.push(s);
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => {
                    if prev.last().map(String::as_str) != Some(":") {
                        prev.push(":".into());
                    }
                }
                proc_macro2::TokenTree::Group(g) => {
                    if scan(g.stream(), prev) {
                        return true;
                    }
                }
                _ => prev.push(String::new()),
            }
        }
        false
    }
    scan(ts, &mut prev)
}

fn is_lock_type_name(name: &str) -> bool {
    ["Mutex", "RwLock", "Lock", "Semaphore"].iter().any(|s| name.ends_with(s))
}

impl<'ast> Visit<'ast> for FieldKinds {
    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        if matches!(s.fields, syn::Fields::Unit) {
            self.unit_structs.push(s.ident.to_string());
        }
        if carries_reply_sender(quote::ToTokens::to_token_stream(&s.fields)) {
            self.reply_types.push(s.ident.to_string());
        }
        self.defines_lock |= is_lock_type_name(&s.ident.to_string());
        visit::visit_item_struct(self, s);
    }
    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        if carries_reply_sender(quote::ToTokens::to_token_stream(&e.variants)) {
            self.reply_types.push(e.ident.to_string());
        }
        visit::visit_item_enum(self, e);
    }
    fn visit_field(&mut self, f: &'ast syn::Field) {
        if let (Some(name), Some(kind)) = (&f.ident, kind_of_type(&f.ty)) {
            self.found.push((name.to_string(), kind));
        }
    }
    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        if let Some(kind) = kind_of_type(&s.ty) {
            self.found.push((s.ident.to_string(), kind));
        }
        visit::visit_item_static(self, s);
    }
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
struct LoopFrame {
    idx: usize,
    label: Option<String>,
    /// Names a `while` condition reads (`running`, `self.stopped` gives `stopped`): a
    /// branch that assigns one of them leaves the loop at the next check.
    cond: Vec<String>,
}

/// Where the walk is: which body, and what surrounds the current expression.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
struct Ctx {
    body: BodyId,
    is_async: bool,
    in_test: bool,
    singleton: bool,
    raced: bool,
    /// Loops enclosing the current expression inside the current closure/async boundary.
    frames: Vec<LoopFrame>,
    /// Parameter names of the current fn (to recognise spawn wrappers).
    params: Vec<String>,
    /// Inside the closure of a hyper `service_fn`.
    in_service_fn: bool,
    /// Exits taken here end their loops because of this (a cancellation branch, the
    /// `else` of a receive): recorded as [`EndObs`] for the loops they leave.
    end_reason: Option<EndReason>,
    /// Directly in a fn body (not in a closure or async block): `return` returns from the fn.
    fn_level: bool,
    /// In a `select!` or race-combinator operand.
    operand: bool,
}

/// Why the exits in a region end their loops.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
struct EndReason {
    /// Only the loops enclosing the region (frames below this depth) end for this reason.
    depth: usize,
    kind: SourceKind,
    span: Span,
    text: String,
}

/// Where a local binding's value came from, for following a handle.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
enum ValueOrigin {
    /// The handle of spawn site `n` of this file.
    Spawn(usize),
    /// What call `n` of body `b` returned.
    Call(BodyId, usize),
    /// A struct field (`self.handle.take()`): the impl type when read through `self`.
    Field(Option<String>, String),
}

struct Extractor<'a> {
    src: &'a SourceFile,
    extra_words: &'a [String],
    resolver: Resolver,
    facts: FileFacts,
    field_kinds: HashMap<String, ValueKind>,
    ctx: Ctx,
    /// Local bindings whose kind matters, innermost scope last.
    bindings: Vec<HashMap<String, ValueKind>>,
    /// The type of local bindings when the code says it (`None` shadows an outer one),
    /// for resolving `x.m(..)` on the right `impl`; scoped like `bindings`.
    types: Vec<HashMap<String, Option<String>>>,
    /// Locals bound to an async block (`let server = async { loop { .. } };`): the loops
    /// and calls written in it, marked raced when a `select!` later races the local
    /// against a cancellation source. Scoped like `bindings`.
    futures: Vec<HashMap<String, FutureLocal>>,
    /// Handle dispositions decided by the statement around a spawn call, keyed by the
    /// address of the call expression; inserted before and removed after visiting it.
    marks: HashMap<usize, Disposition>,
    module: Vec<String>,
    self_ty: Option<String>,
    /// The next closure's first parameter is a scope (`thread::scope(|s| ..)`).
    scope_closure: bool,
    /// The next async block is the direct argument of `block_on`: it runs on a thread
    /// that may block, so it does not count as async code.
    block_on_arg: bool,
    /// The next block is the body of a fn or async block (for `pending_forever`).
    body_block: bool,
    /// Inside a `select!`/`join!`/`race` operand, where `pending()` means "never fires".
    no_pending: usize,
    /// Inside `impl Drop for ..`.
    in_drop_impl: bool,
    /// The next async block is spawned work (its body is a task's body).
    spawn_work: bool,
    /// Inside `impl RawMutex for ..` (or another `Raw*` lock trait).
    in_raw_lock_impl: bool,
    /// Inside `impl Trait for ..`.
    in_trait_impl: bool,
    /// The names the next loop's `while` condition reads (see [`LoopFrame::cond`]).
    next_loop_cond: Vec<String>,
    /// Inside a trait impl's `sleep`/`delay` fn returning a future (a runtime adapter's timer).
    sleep_primitive: bool,
    /// Where local bindings' values came from (scoped like `bindings`).
    origins: Vec<HashMap<String, ValueOrigin>>,
    /// Uses decided by the expression around a value, keyed by the address of the
    /// value's root expression; set before visiting it, read by `on_spawn`.
    use_marks: HashMap<usize, Vec<HandleUse>>,
    /// Spawn calls just visited, by address, until a `let` binds their handle.
    produced: HashMap<usize, ValueOrigin>,
    /// The next block is a fn body: its tail expression is returned.
    returns_block: bool,
    /// The next closure's first parameter is this value (`self.h.take().map(|h| h.abort())`).
    closure_origin: Option<ValueOrigin>,
}

/// What an async block bound to a local holds: loops `loops` of the file's facts and
/// calls `calls` of body `body`.
#[derive(Clone, Debug)]
struct FutureLocal {
    body: BodyId,
    loops: std::ops::Range<usize>,
    calls: std::ops::Range<usize>,
}

/// How a spawn site starts its work.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SpawnHow {
    /// `None` while it is a call to a crate-local fn that may be a spawn wrapper.
    spawner: Option<Spawner>,
    /// `self.field.spawn(..)` with a field declared elsewhere.
    receiver_field: Option<String>,
    /// A possible wrapper: the call and which argument holds the work.
    via: Option<(CallTarget, usize)>,
    /// On the ambient tokio runtime.
    ambient: bool,
    api: Option<SpawnApi>,
}

impl SpawnHow {
    fn via(target: CallTarget, arg: usize) -> Self {
        SpawnHow { via: Some((target, arg)), ..SpawnHow::default() }
    }
}

fn addr(e: &Expr) -> usize {
    e as *const Expr as usize
}

/// The expression that produces a handle, looking through `?`, `.unwrap()`, `.expect(..)`.
fn handle_root(mut e: &Expr) -> &Expr {
    loop {
        match e {
            Expr::Try(t) => e = &t.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => e = &m.receiver,
            _ => return e,
        }
    }
}

fn is_blocking_name(n: &str) -> bool {
    ["recv", "accept", "sleep", "park", "read", "wait"].iter().any(|p| n.starts_with(p))
        || matches!(n, "lock" | "block_on" | "blocking_recv" | "blocking_lock")
}

fn is_err_ctor(e: Option<&Expr>) -> bool {
    match e {
        Some(Expr::Call(c)) => {
            matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Err"))
        }
        _ => false,
    }
}

fn doc_says_forever(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("doc")
            && matches!(&a.meta, syn::Meta::NameValue(nv) if quote::quote!(#nv).to_string().to_lowercase().contains("forever"))
    })
}

fn returns_never(sig: &syn::Signature) -> bool {
    matches!(&sig.output, syn::ReturnType::Type(_, t) if matches!(**t, syn::Type::Never(_)))
}

fn param_names(sig: &syn::Signature) -> Vec<String> {
    sig.inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(i) => Some(i.ident.to_string()),
                _ => Some(String::new()),
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

fn single_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => Some(p.path.segments[0].ident.to_string()),
        Expr::Reference(r) => single_ident(&r.expr),
        Expr::Paren(p) => single_ident(&p.expr),
        _ => None,
    }
}

/// The variables and fields a `while` condition reads (`!stopped`, `!self.done.get()`).
fn flag_names(cond: &Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(i) = p.path.get_ident() {
                self.0.push(i.to_string());
            }
        }
        fn visit_member(&mut self, m: &'ast syn::Member) {
            if let syn::Member::Named(n) = m {
                self.0.push(n.to_string());
            }
        }
    }
    let mut n = Names(Vec::new());
    n.visit_expr(cond);
    n.0.retain(|x| x != "self");
    n.0
}

/// The variables and fields a handler assigns (`stopped = true`, `self.done = true`).
fn assigned_names(e: &Expr) -> Vec<String> {
    struct Assigned(Vec<String>);
    impl<'ast> Visit<'ast> for Assigned {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            match &*a.left {
                Expr::Path(p) => self.0.extend(p.path.get_ident().map(|i| i.to_string())),
                Expr::Field(f) => {
                    if let syn::Member::Named(n) = &f.member {
                        self.0.push(n.to_string());
                    }
                }
                _ => {}
            }
            visit::visit_expr_assign(self, a);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    }
    let mut v = Assigned(Vec::new());
    v.visit_expr(e);
    v.0
}

/// Whether a `let` initialiser is an async block, possibly wrapped (`async { .. }.boxed()`,
/// `.fuse()`, `Box::pin(async { .. })`).
fn is_async_block(e: &Expr) -> bool {
    match e {
        Expr::Async(_) => true,
        Expr::Paren(p) => is_async_block(&p.expr),
        Expr::MethodCall(m) => m.args.is_empty() && is_async_block(&m.receiver),
        Expr::Call(c) => c.args.len() == 1 && is_async_block(&c.args[0]),
        _ => false,
    }
}

/// The local a `select!` operand polls: `server`, `&mut server`, `server.fuse()`,
/// `Box::pin(server)`.
fn future_root(e: &Expr) -> &Expr {
    match e {
        Expr::Reference(r) => future_root(&r.expr),
        Expr::Paren(p) => future_root(&p.expr),
        Expr::MethodCall(m) if m.args.is_empty() => future_root(&m.receiver),
        Expr::Call(c) if c.args.len() == 1 => future_root(&c.args[0]),
        _ => e,
    }
}

/// The type recorded for a local bound to a `std::thread::Builder` chain.
const THREAD_BUILDER: &str = "std::thread::Builder";

/// The last segment of a named type, through references (`&mut Handler` is `Handler`;
/// `Self` is the impl's type).
fn receiver_type(ty: &syn::Type, self_ty: Option<&str>) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => receiver_type(&r.elem, self_ty),
        syn::Type::Paren(p) => receiver_type(&p.elem, self_ty),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?.ident.to_string();
            if last == "Self" {
                self_ty.map(str::to_string)
            } else {
                Some(last)
            }
        }
        _ => None,
    }
}

/// The type a constructor expression builds: a struct literal `Handler { .. }`, or
/// `Handler::new(..)`/`::default()`/`::with_*(..)`/`::new_*(..)`, through `?`,
/// `.unwrap()`, `.expect(..)` and `.await`.
fn constructed_type(e: &Expr, self_ty: Option<&str>) -> Option<String> {
    let named = |path: &syn::Path, skip_last: bool| {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let ty = if skip_last { segs.len().checked_sub(2).map(|i| &segs[i]) } else { segs.last() }?;
        match ty.as_str() {
            "Self" => self_ty.map(str::to_string),
            t if t.starts_with(|c: char| c.is_ascii_uppercase()) => Some(t.to_string()),
            _ => None,
        }
    };
    match e {
        Expr::Struct(st) => named(&st.path, false),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if p.qself.is_none() => {
                let f = p.path.segments.last()?.ident.to_string();
                let ctor = f == "new" || f == "default" || f.starts_with("new_") || f.starts_with("with_");
                if ctor {
                    named(&p.path, true)
                } else {
                    None
                }
            }
            _ => None,
        },
        Expr::Try(t) => constructed_type(&t.expr, self_ty),
        Expr::Await(a) => constructed_type(&a.base, self_ty),
        Expr::Paren(p) => constructed_type(&p.expr, self_ty),
        Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => constructed_type(&m.receiver, self_ty),
        _ => None,
    }
}

/// Whether an expression is work a spawn can take: an async block, a closure or a call.
fn is_work(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Async(_) | Expr::Closure(_) | Expr::Call(_) | Expr::MethodCall(_) | Expr::Path(_) | Expr::Block(_)
    )
}

impl<'a> Extractor<'a> {
    fn span(&self, s: proc_macro2::Span) -> Span {
        self.src.span_of(s)
    }

    fn new_body(&mut self, kind: BodyKind, name: String, span: Span, is_async: bool) -> BodyId {
        self.facts.bodies.push(Body {
            kind,
            name,
            self_ty: self.self_ty.clone(),
            has_self: false,
            arity: 0,
            is_async,
            is_main: false,
            never_forever: false,
            span,
            in_test: self.ctx.in_test,
            module: self.module.join("::"),
            calls: Vec::new(),
            wrapper: None,
            handler: HandlerShape::No,
            is_drop: false,
            try_current: false,
            self_ref: false,
            start_guard: false,
            range_bounds: Vec::new(),
            lock_impl: false,
            chan_ops: Vec::new(),
            local_aliases: Vec::new(),
            parent: None,
            call_uses: Vec::new(),
        });
        self.facts.bodies.len() - 1
    }

    fn binding_kind(&self, name: &str) -> Option<ValueKind> {
        self.bindings.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn bind(&mut self, name: String, kind: Option<ValueKind>) {
        if let Some(scope) = self.bindings.last_mut() {
            match kind {
                Some(k) => {
                    scope.insert(name, k);
                }
                None => {
                    scope.remove(&name);
                }
            }
        }
    }

    fn bind_type(&mut self, name: String, ty: Option<String>) {
        if let Some(scope) = self.types.last_mut() {
            scope.insert(name, ty);
        }
    }

    /// Records the type of a `let` binding: its annotation, else what the initialiser
    /// builds; any other `let` of the name shadows what was known.
    fn bind_pat_type(&mut self, pat: &Pat, init: Option<&Expr>) {
        let (pat, annotated) = match pat {
            Pat::Type(t) => (&*t.pat, receiver_type(&t.ty, self.self_ty.as_deref())),
            p => (p, None),
        };
        if let Pat::Ident(i) = pat {
            let builder = || {
                let e = init?;
                let built = self.classify_receiver(e, "spawn").0 == Spawner::Thread && !matches!(e, Expr::Path(_));
                built.then(|| THREAD_BUILDER.to_string())
            };
            let ty =
                annotated.or_else(|| init.and_then(|e| constructed_type(e, self.self_ty.as_deref()))).or_else(builder);
            self.bind_type(i.ident.to_string(), ty);
        }
    }

    fn type_of_local(&self, name: &str) -> Option<String> {
        self.types.iter().rev().find_map(|s| s.get(name)).cloned().flatten()
    }

    fn bind_pat(&mut self, pat: &Pat, kind: Option<ValueKind>) {
        match pat {
            Pat::Ident(i) => self.bind(i.ident.to_string(), kind),
            Pat::Type(t) => {
                let k = kind_of_type(&t.ty).or(kind);
                self.bind_pat(&t.pat, k);
            }
            _ => {}
        }
    }

    // ---- where handles go ----

    fn origin_of(&self, name: &str) -> Option<ValueOrigin> {
        for scope in self.origins.iter().rev() {
            if let Some(o) = scope.get(name) {
                return Some(o.clone());
            }
        }
        None
    }

    /// Binds (or, with `None`, shadows) a local's origin in the innermost scope.
    fn bind_origin(&mut self, name: String, origin: Option<ValueOrigin>) {
        // Only a name bound before needs shadowing (by an origin that leads nowhere);
        // most `let`s bind fresh names.
        let origin = match origin {
            Some(o) => o,
            None if self.origins.iter().any(|s| s.contains_key(&name)) => ValueOrigin::Field(None, String::new()),
            None => return,
        };
        if let Some(scope) = self.origins.last_mut() {
            scope.insert(name, origin);
        }
    }

    /// The origin of a binding a pattern introduces for `value` (`h`, `Some(h)`, `Ok(h)`).
    fn bind_pat_origin(&mut self, pat: &Pat, origin: Option<ValueOrigin>) {
        match pat {
            Pat::Ident(i) if i.subpat.is_none() => self.bind_origin(i.ident.to_string(), origin),
            Pat::Type(t) => self.bind_pat_origin(&t.pat, origin),
            Pat::TupleStruct(t) if t.elems.len() == 1 && (t.path.is_ident("Some") || t.path.is_ident("Ok")) => {
                self.bind_pat_origin(&t.elems[0], origin)
            }
            _ => {}
        }
    }

    /// Where the value of an initialiser comes from: a spawn just visited, a crate-local
    /// call of this body (recorded since call `since`, i.e. while visiting `init`: the
    /// search stays linear in the initialiser, not in the fn), or a struct field.
    fn origin_of_value(&mut self, init: &Expr, since: usize) -> Option<ValueOrigin> {
        if let Some((on_self, field)) = field_of(init) {
            let ty = if on_self { self.self_ty.clone() } else { None };
            return Some(ValueOrigin::Field(ty, field));
        }
        let root = value_root(init);
        if let Some(o) = self.produced.remove(&addr(root)) {
            return Some(o);
        }
        // No crate-local call was recorded while visiting it: nothing to bind to.
        let body = self.ctx.body;
        if matches!(root, Expr::Call(_) | Expr::MethodCall(_)) && self.facts.bodies[body].calls.len() <= since {
            return None;
        }
        let callee = match root {
            Expr::Call(c) => self.span(c.func.span()),
            Expr::MethodCall(m) => self.span(m.method.span()),
            Expr::Path(_) if self.origins.iter().any(|s| !s.is_empty()) => {
                return single_ident(root).and_then(|n| self.origin_of(&n))
            }
            _ => return None,
        };
        let calls = &self.facts.bodies[body].calls;
        let ci = calls.get(since..)?.iter().rposition(|c| c.span == callee)? + since;
        Some(ValueOrigin::Call(body, ci))
    }

    /// Something is done with `e`: when `e` is (a wrapper of) a spawn call, mark it for
    /// `on_spawn` (returns the mark to remove after visiting `e`); when it is a local
    /// or a field with a known origin, record the use there.
    ///
    /// Callers check [`Extractor::may_carry`] first: it is cheap, the use is not.
    fn note_use(&mut self, e: &Expr, kind: UseKind, at: proc_macro2::Span) -> Option<usize> {
        if kind.is_op() {
            if let Some((on_self, field)) = field_of(e) {
                let ty = if on_self { self.self_ty.clone() } else { None };
                let span = self.span(at);
                self.facts.field_ops.push(FieldOp { ty, field, kind, span });
                return None;
            }
        }
        let root = value_root(e);
        match root {
            Expr::Call(_) | Expr::MethodCall(_) if may_return_handle(root) => {
                let k = addr(root);
                let span = self.span(at);
                self.use_marks.entry(k).or_default().push(HandleUse { kind, span });
                Some(k)
            }
            Expr::Path(_) => {
                let name = single_ident(root)?;
                let origin = self.origin_of(&name)?;
                let span = self.span(at);
                self.apply_use(origin, HandleUse { kind, span });
                None
            }
            _ => None,
        }
    }

    fn apply_use(&mut self, origin: ValueOrigin, u: HandleUse) {
        match origin {
            ValueOrigin::Spawn(i) => self.facts.spawns[i].uses.push(u),
            ValueOrigin::Call(b, ci) => self.facts.bodies[b].call_uses.push((ci, u)),
            ValueOrigin::Field(_, field) if field.is_empty() => {}
            ValueOrigin::Field(ty, field) => {
                if u.kind.is_op() {
                    self.facts.field_ops.push(FieldOp { ty, field, kind: u.kind, span: u.span });
                }
            }
        }
    }

    /// Whether `e` may be a handle worth following: a spawn-like call, a local with an
    /// origin, or (for `op`s) a struct field. Cheap, so that the uses of every call's
    /// arguments are only built when it says yes.
    fn may_carry(&self, e: &Expr, op: bool) -> bool {
        match value_root(e) {
            root @ (Expr::Call(_) | Expr::MethodCall(_)) => may_return_handle(root) || op && field_of(e).is_some(),
            Expr::Path(p) => p.path.get_ident().is_some() && self.origins.iter().any(|s| !s.is_empty()),
            _ => op && field_of(e).is_some(),
        }
    }

    /// `f(h)`: the handle is passed on (not for `drop`, which detaches it, nor for
    /// wrappers like `Some(..)`, which the use around them sees through).
    fn call_arg_uses(&mut self, c: &syn::ExprCall) -> Vec<Option<usize>> {
        let Expr::Path(p) = &*c.func else { return Vec::new() };
        let Some(last) = p.path.segments.last() else { return Vec::new() };
        if is_one_of(&last.ident, &["drop", "clone"]) || c.args.len() == 1 && is_wrapper_ctor(&p.path) {
            return Vec::new();
        }
        let mut marks = Vec::new();
        let carriers: Vec<&Expr> = c.args.iter().filter(|a| self.may_carry(a, false)).collect();
        for a in carriers {
            marks.push(self.note_use(a, UseKind::Passed(last.ident.to_string()), p.span()));
        }
        marks
    }

    /// `h.join()`, `h.abort()`, `v.push(h)`, `x.m(h)`.
    fn method_uses(&mut self, m: &syn::ExprMethodCall) -> Vec<Option<usize>> {
        let method = &m.method;
        if m.args.is_empty() {
            let kind = if method == "join" {
                UseKind::Joined
            } else if method == "abort" {
                UseKind::Aborted
            } else {
                return Vec::new();
            };
            if !self.may_carry(&m.receiver, true) {
                return Vec::new();
            }
            return vec![self.note_use(&m.receiver, kind, method.span())];
        }
        if is_one_of(method, &["push", "push_back", "push_front", "insert"]) {
            let last = m.args.last().expect("not empty");
            if !self.may_carry(last, false) {
                return Vec::new();
            }
            let into = receiver_name(&m.receiver).unwrap_or_else(|| "a collection".into());
            return vec![self.note_use(last, UseKind::Pushed(into), method.span())];
        }
        // `self.h.take().map(|h| h.abort())`: the closure's parameter is the field's handle.
        if is_one_of(method, &["map", "inspect", "and_then", "map_or", "map_or_else"]) {
            if let Some((on_self, field)) = field_of(&m.receiver) {
                let ty = if on_self { self.self_ty.clone() } else { None };
                self.closure_origin = Some(ValueOrigin::Field(ty, field));
            }
            return Vec::new();
        }
        let mut marks = Vec::new();
        let carriers: Vec<&Expr> = m.args.iter().filter(|a| self.may_carry(a, false)).collect();
        for a in carriers {
            let name = method.to_string();
            if name == "detach" || name == "clone" || name.contains("spawn") {
                break;
            }
            marks.push(self.note_use(a, UseKind::Passed(name), method.span()));
        }
        marks
    }

    fn unmark(&mut self, marks: impl IntoIterator<Item = Option<usize>>) {
        for k in marks.into_iter().flatten() {
            self.use_marks.remove(&k);
        }
    }

    /// The kind of value an initialiser produces.
    fn kind_of_expr(&self, e: &Expr) -> Option<ValueKind> {
        match handle_root(e) {
            Expr::Call(c) => match &*c.func {
                // `Self::new()` inside `impl JoinSet`.
                Expr::Path(p) if p.path.segments.len() == 2 && p.path.segments[0].ident == "Self" => {
                    let ty = self.self_ty.clone()?;
                    kind_of_constructor(&Resolved {
                        segments: vec![ty, p.path.segments[1].ident.to_string()],
                        origin: Origin::External,
                    })
                }
                Expr::Path(p) => kind_of_constructor(&self.resolver.resolve(&p.path)),
                _ => None,
            },
            Expr::MethodCall(m) if m.method == "child_token" => Some(ValueKind::Cancel),
            Expr::MethodCall(m) if m.method == "clone" => self.kind_of_expr(&m.receiver),
            Expr::Path(_) | Expr::Reference(_) => single_ident(e).and_then(|n| self.binding_kind(&n)),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => self.field_kinds.get(&n.to_string()).copied(),
                _ => None,
            },
            _ => None,
        }
    }

    // ---- loop frames ----

    fn all_frames(&mut self, f: impl Fn(&mut LoopFact)) {
        for fr in &self.ctx.frames {
            f(&mut self.facts.loops[fr.idx]);
        }
    }

    fn error_exit(&mut self, span: Span, panics: bool) {
        let exit = ErrorExit { span, panics };
        self.all_frames(|l| {
            if !l.error_exits.contains(&exit) {
                l.error_exits.push(exit)
            }
        });
    }

    /// A `return` or a diverging exit leaves every enclosing loop of the boundary.
    fn leave_all(&mut self) {
        self.all_frames(|l| l.normal_exit = true);
        self.reason_leaves(0);
    }

    /// An exit that leaves the loops from frame `from` inwards is taken for the current
    /// end reason (if any): those of them that enclose the reason's region end for it.
    fn reason_leaves(&mut self, from: usize) {
        let Some(r) = &self.ctx.end_reason else { return };
        let upto = r.depth.min(self.ctx.frames.len());
        for f in self.ctx.frames.iter().take(upto).skip(from) {
            self.facts.ends.push(EndObs {
                owner: self.ctx.body,
                loop_idx: Some(f.idx),
                kind: r.kind,
                span: r.span,
                text: r.text.clone(),
            });
        }
    }

    /// Runs `f` with exits attributed to `kind` observed at `at` (for the loops around now).
    fn with_end_reason(&mut self, kind: SourceKind, at: &impl Spanned, f: impl FnOnce(&mut Self)) {
        let reason =
            EndReason { depth: self.ctx.frames.len(), kind, span: self.span(at.span()), text: self.text_of(at) };
        let saved = self.ctx.end_reason.replace(reason);
        f(self);
        self.ctx.end_reason = saved;
    }

    /// Records that loop `idx` (or, with `None`, the wait around) ends when `at` fires.
    fn end_obs(&mut self, loop_idx: Option<usize>, kind: SourceKind, at: &impl Spanned) {
        let (span, text) = (self.span(at.span()), self.text_of(at));
        self.facts.ends.push(EndObs { owner: self.ctx.body, loop_idx, kind, span, text });
    }

    fn text_of(&self, e: &impl Spanned) -> String {
        short_text(self.src.snippet(&self.span(e.span())))
    }

    /// What a cancellation expression waits on.
    fn cancel_kind(&self, e: &Expr) -> SourceKind {
        struct Names<'x, 'a> {
            x: &'x Extractor<'a>,
            token: bool,
            signal: bool,
        }
        impl<'ast> Visit<'ast> for Names<'_, '_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(id) = p.path.get_ident() {
                    self.token |= self.x.binding_kind(&id.to_string()) == Some(ValueKind::Cancel);
                } else {
                    self.signal |= is_signal_path(&self.x.resolver.resolve(&p.path));
                }
            }
            fn visit_member(&mut self, m: &'ast syn::Member) {
                if let syn::Member::Named(n) = m {
                    self.token |= self.x.field_kinds.get(&n.to_string()) == Some(&ValueKind::Cancel);
                }
            }
        }
        let mut n = Names { x: self, token: false, signal: false };
        n.visit_expr(e);
        kind_of_source(e, n.token, n.signal)
    }

    fn awaits(&mut self) {
        self.all_frames(|l| l.awaits_or_blocks = true);
    }

    fn break_to(&mut self, label: Option<&syn::Lifetime>) {
        // `break 'outer` leaves every loop from `'outer` inwards.
        let from = match label {
            Some(l) => {
                let name = l.ident.to_string();
                self.ctx.frames.iter().rposition(|f| f.label.as_deref() == Some(name.as_str()))
            }
            None => self.ctx.frames.len().checked_sub(1),
        };
        if let Some(from) = from {
            for f in &self.ctx.frames[from..] {
                self.facts.loops[f.idx].normal_exit = true;
            }
            self.reason_leaves(from);
        }
    }

    /// Runs `f` inside a closure/async boundary: breaks and `?` inside do not leave
    /// the enclosing loops.
    fn boundary(&mut self, is_async: bool, f: impl FnOnce(&mut Self)) {
        let frames = std::mem::take(&mut self.ctx.frames);
        let was_async = std::mem::replace(&mut self.ctx.is_async, is_async);
        let reason = self.ctx.end_reason.take();
        let fn_level = std::mem::replace(&mut self.ctx.fn_level, false);
        self.bindings.push(HashMap::new());
        self.types.push(HashMap::new());
        self.futures.push(HashMap::new());
        self.origins.push(HashMap::new());
        f(self);
        self.origins.pop();
        self.futures.pop();
        self.types.pop();
        self.bindings.pop();
        self.ctx.fn_level = fn_level;
        self.ctx.end_reason = reason;
        self.ctx.is_async = was_async;
        self.ctx.frames = frames;
    }

    fn with_flag(&mut self, set: impl FnOnce(&mut Ctx), f: impl FnOnce(&mut Self)) {
        let saved = (self.ctx.singleton, self.ctx.raced);
        set(&mut self.ctx);
        f(self);
        self.ctx.singleton = saved.0;
        self.ctx.raced = saved.1;
    }

    fn on_loop(&mut self, e_label: Option<&syn::Label>, span: Span, infinite: bool, f: impl FnOnce(&mut Self)) {
        let idx = self.facts.loops.len();
        self.facts.loops.push(LoopFact {
            owner: self.ctx.body,
            span,
            infinite,
            normal_exit: false,
            error_exits: Vec::new(),
            awaits_or_blocks: false,
            cancel_no_leave: None,
            raced: self.ctx.raced,
            in_async: self.ctx.is_async,
            in_test: self.ctx.in_test,
            cancel_fix: None,
        });
        let cond = std::mem::take(&mut self.next_loop_cond);
        self.ctx.frames.push(LoopFrame { idx, label: e_label.map(|l| l.name.ident.to_string()), cond });
        f(self);
        self.ctx.frames.pop();
    }

    // ---- cancellation ----

    /// A `CancellationToken` binding in scope (the innermost; by name within a scope).
    fn token_in_scope(&self) -> Option<String> {
        self.bindings
            .iter()
            .rev()
            .find_map(|scope| scope.iter().filter(|(_, k)| **k == ValueKind::Cancel).map(|(n, _)| n.clone()).min())
    }

    /// `loop { tokio::select! { .. } }` with a token in scope: insert the cancellation
    /// branch first (after `biased;`), indented like the branch it precedes.
    fn select_cancel_fix(&self, body: &syn::Block) -> Option<Edit> {
        let mac = match body.stmts.as_slice() {
            [Stmt::Macro(m)] => &m.mac,
            [Stmt::Expr(Expr::Macro(m), _)] => &m.mac,
            _ => return None,
        };
        if !self.resolver.resolve(&mac.path).is("tokio::select") {
            return None;
        }
        let token = self.token_in_scope()?;
        let mut tokens = mac.tokens.clone().into_iter();
        let after = match (tokens.next(), tokens.next()) {
            (Some(proc_macro2::TokenTree::Ident(b)), Some(proc_macro2::TokenTree::Punct(p)))
                if b == "biased" && p.as_char() == ';' =>
            {
                self.span(p.span())
            }
            _ => self.span(mac.delimiter.span().open()),
        };
        let point = after.hi.byte;
        let text = &self.src.text;
        let ws: &str = &text[point..][..text[point..].len() - text[point..].trim_start().len()];
        let branch = format!("_ = {token}.cancelled() => break,");
        let replacement = match ws.rfind('\n') {
            Some(nl) => format!("\n{}{branch}", &ws[nl + 1..]),
            None => format!(" {branch}"),
        };
        Some(Edit { span: Span { lo: after.hi, ..after }, replacement })
    }

    /// `tokio::spawn(async move { .. })` with a token in scope: run the work under
    /// `token.run_until_cancelled(..)` (a clone moves into the task).
    fn run_until_cancelled_fix(&self, work: &Expr) -> Option<Vec<Edit>> {
        if !matches!(work, Expr::Async(a) if a.capture.is_some()) {
            return None;
        }
        let token = self.token_in_scope()?;
        let span = self.span(work.span());
        let at = |p: taskcheck_core::Pos| Span { lo: p, hi: p, ..span };
        Some(vec![
            Edit {
                span: at(span.lo),
                replacement: format!("{{ let {token} = {token}.clone(); async move {{ {token}.run_until_cancelled("),
            },
            Edit { span: at(span.hi), replacement: ").await; } }".to_string() },
        ])
    }

    /// Whether an expression observes a stop request (or mentions something that can).
    fn is_cancel_expr(&self, e: &Expr) -> bool {
        let mut finder = CancelFinder { x: self, found: false };
        finder.visit_expr(e);
        finder.found
    }

    // ---- fns ----

    #[allow(clippy::too_many_arguments)]
    fn on_fn(
        &mut self,
        kind: BodyKind,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: &syn::Block,
        is_main: bool,
    ) {
        let in_test = self.ctx.in_test || is_test_item(attrs);
        let saved = std::mem::take(&mut self.ctx);
        self.ctx.in_test = in_test;
        let body = self.new_body(
            kind.clone(),
            sig.ident.to_string(),
            self.src.span_of(sig.ident.span()),
            sig.asyncness.is_some(),
        );
        {
            let b = &mut self.facts.bodies[body];
            b.has_self = sig.receiver().is_some();
            b.arity = sig.inputs.len() - usize::from(b.has_self);
            b.is_main = is_main;
            b.never_forever = returns_never(sig) && doc_says_forever(attrs);
            b.handler = handler_shape(attrs, sig, kind == BodyKind::Method);
            b.is_drop = kind == BodyKind::Method && self.in_drop_impl && sig.ident == "drop";
            b.self_ref = sig.receiver().is_some_and(|r| r.reference.is_some() || r.colon_token.is_some());
            b.lock_impl = sig.unsafety.is_some() || self.in_raw_lock_impl;
        }
        // Per-fn flows (tokens, clients) see the fn's own `use` items.
        let items = block.stmts.iter().filter_map(|s| match s {
            Stmt::Item(i) => Some(i),
            _ => None,
        });
        self.resolver.push(UseScope::from_items(items));
        for l in lost_cancels(block, &self.resolver, self.src, self.extra_words) {
            self.facts.lost_cancels.push((body, l));
        }
        for c in clients_without_timeout(block, &self.resolver, self.src) {
            self.facts.http_clients.push((body, c));
        }
        for g in forgotten_guards(block, &self.resolver, self.src) {
            self.facts.forgotten_guards.push((body, g));
        }
        self.resolver.pop();
        self.ctx = Ctx {
            body,
            is_async: sig.asyncness.is_some(),
            in_test,
            params: param_names(sig),
            fn_level: true,
            ..Ctx::default()
        };
        self.bindings.push(HashMap::new());
        self.types.push(HashMap::new());
        self.futures.push(HashMap::new());
        self.origins.push(HashMap::new());
        for input in &sig.inputs {
            if let syn::FnArg::Typed(t) = input {
                self.bind_pat(&t.pat, kind_of_type(&t.ty));
                if let Pat::Ident(i) = &*t.pat {
                    let ty = receiver_type(&t.ty, self.self_ty.as_deref());
                    self.bind_type(i.ident.to_string(), ty);
                }
                // A parameter shadows an outer fn's binding of the same name.
                self.bind_pat_origin(&t.pat, None);
            }
        }
        self.body_block = true;
        self.returns_block = true;
        self.visit_block(block);
        self.origins.pop();
        self.futures.pop();
        self.types.pop();
        self.bindings.pop();
        if self.origins.len() == 1 {
            // Back at file level: no spawn of this fn can be bound by a later `let`.
            self.produced.clear();
        }
        self.ctx = saved;
    }

    // ---- calls and spawns ----

    /// Records the call `e` (and what the expression around it does with its value).
    fn record_call(&mut self, e: &Expr, target: CallTarget, span: Span) {
        let (raced, operand) = (self.ctx.raced, self.ctx.operand);
        let body = &mut self.facts.bodies[self.ctx.body];
        body.calls.push(Call { target, span, raced, operand });
        if let Some(uses) = self.use_marks.get(&addr(e)) {
            let ci = body.calls.len() - 1;
            body.call_uses.extend(uses.iter().map(|u| (ci, u.clone())));
        }
    }

    fn call_target_of_path(&self, r: &Resolved, arity: usize) -> Option<CallTarget> {
        let segs = &r.segments;
        let name = segs.last()?.clone();
        match r.origin {
            Origin::External => None,
            Origin::Unknown if segs.len() == 1 && !self.resolver.is_crate_local_name(&name) => None,
            _ => {
                if segs.len() >= 2 {
                    let owner = &segs[segs.len() - 2];
                    if owner == "Self" {
                        return Some(CallTarget::Assoc { ty: self.self_ty.clone()?, name });
                    }
                    if owner.starts_with(|c: char| c.is_uppercase()) {
                        return Some(CallTarget::Assoc { ty: owner.clone(), name });
                    }
                    let qualifier = (!matches!(owner.as_str(), "crate" | "self" | "super")).then(|| owner.clone());
                    return Some(CallTarget::Free { name, qualifier, arity });
                }
                Some(CallTarget::Free { name, qualifier: None, arity })
            }
        }
    }

    /// Records a spawn site and walks the spawned work as its own body.
    fn on_spawn(&mut self, call: &Expr, span: Span, work: &Expr, how: SpawnHow) {
        let SpawnHow { spawner, receiver_field, via, ambient, api } = how;
        let disposition = self.marks.get(&addr(call)).copied().unwrap_or(Disposition::Kept);
        let owner = self.ctx.body;
        let is_async = !matches!(spawner, Some(Spawner::Thread | Spawner::Scoped | Spawner::Blocking));
        let body = self.new_body(
            if via.is_some() { BodyKind::Pending } else { BodyKind::Task },
            String::new(),
            span,
            is_async,
        );
        self.facts.bodies[body].parent = Some(owner);
        let cancel_moved_in = self.is_cancel_expr(work);
        let mut delegated = false;
        if let (Some(sp), Some(param)) = (spawner, single_ident(work)) {
            if let Some(i) = self.ctx.params.iter().position(|p| *p == param) {
                let api = api.unwrap_or(SpawnApi::of_receiver(sp));
                self.facts.bodies[self.ctx.body].wrapper = Some(Wrapper { param: i, spawner: sp, api, disposition });
                delegated = true;
            }
        }
        let uses = self.use_marks.get(&addr(call)).cloned().unwrap_or_default();
        self.produced.insert(addr(call), ValueOrigin::Spawn(self.facts.spawns.len()));
        self.facts.spawns.push(SpawnSite {
            owner: self.ctx.body,
            body,
            span,
            spawner,
            disposition,
            receiver_field,
            via,
            cancel_moved_in,
            singleton: self.ctx.singleton,
            in_test: self.ctx.in_test,
            ambient,
            bounded: is_bounded_work(work),
            timer: timer_task(work, &self.resolver).map(|s| self.span(s)),
            in_service_fn: self.ctx.in_service_fn,
            cancel_fix: if cancel_moved_in || !is_async { None } else { self.run_until_cancelled_fix(work) },
            api: spawner.map(|sp| api.unwrap_or(SpawnApi::of_receiver(sp))),
            uses,
            delegated,
        });
        let saved = std::mem::take(&mut self.ctx);
        self.ctx = Ctx { body, is_async, in_test: saved.in_test, ..Ctx::default() };
        self.spawn_work = matches!(work, Expr::Async(_));
        self.visit_expr(work);
        self.spawn_work = false;
        self.ctx = saved;
    }

    /// What a `.spawn(..)` receiver is: a thread builder, a set, a tracker, a scope,
    /// an executor, or (by default) a runtime handle.
    fn classify_receiver(&self, recv: &Expr, method: &str) -> (Spawner, Option<String>) {
        let default = if method == "spawn_blocking" { Spawner::Blocking } else { Spawner::Task };
        let from_kind = |k: ValueKind| match k {
            ValueKind::TaskSet => Some(Spawner::Set),
            ValueKind::Tracker => Some(Spawner::Tracker),
            ValueKind::Executor => Some(Spawner::CancelOnDrop),
            ValueKind::Scope => Some(Spawner::Scoped),
            ValueKind::Cancel => None,
        };
        // Builder chains: `thread::Builder::new().name(..).spawn(..)`.
        let mut cur = recv;
        loop {
            match cur {
                Expr::MethodCall(m) => cur = &m.receiver,
                Expr::Try(t) => cur = &t.expr,
                Expr::Reference(r) => cur = &r.expr,
                Expr::Paren(p) => cur = &p.expr,
                Expr::Call(c) => {
                    if let Expr::Path(p) = &*c.func {
                        let r = self.resolver.resolve(&p.path);
                        if r.is("std::thread::Builder::new") {
                            return (Spawner::Thread, None);
                        }
                        if let Some(k) = kind_of_constructor(&r) {
                            return (from_kind(k).unwrap_or(default), None);
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
        let mut cur = recv;
        while let Expr::Reference(r) = cur {
            cur = &r.expr;
        }
        match cur {
            Expr::Path(p) => {
                if let Some(id) = p.path.get_ident() {
                    let n = id.to_string();
                    if let Some(s) = self.binding_kind(&n).and_then(from_kind) {
                        return (s, None);
                    }
                    // `let b = thread::Builder::new().name(..); b.spawn(..)`.
                    if self.type_of_local(&n).as_deref() == Some(THREAD_BUILDER) {
                        return (Spawner::Thread, None);
                    }
                    if let Some(s) = self.field_kinds.get(&n).copied().and_then(from_kind) {
                        return (s, None);
                    }
                } else if let Some(last) = p.path.segments.last() {
                    // `Self::EXECUTOR.spawn(..)`, `crate::RT.spawn(..)`
                    if let Some(s) = self.field_kinds.get(&last.ident.to_string()).copied().and_then(from_kind) {
                        return (s, None);
                    }
                }
                (default, None)
            }
            Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => {
                    let n = n.to_string();
                    match self.field_kinds.get(&n).copied().and_then(from_kind) {
                        Some(s) => (s, None),
                        None => (default, Some(n)),
                    }
                }
                _ => (default, None),
            },
            // `tokio::runtime::Handle::current().spawn(..)` and anything else: a runtime handle.
            _ => (default, None),
        }
    }

    fn on_call(&mut self, e: &Expr, c: &syn::ExprCall) {
        let Expr::Path(p) = &*c.func else {
            visit::visit_expr_call(self, c);
            return;
        };
        let r = self.resolver.resolve(&p.path);
        let callee_span = self.span(c.func.span());
        if let Some(sp) = spawner_of_path(&r) {
            if let Some(work) = c.args.first() {
                let ambient = r.is_any(&["tokio::spawn", "tokio::task::spawn_blocking", "tokio::task::spawn_local"]);
                let api = api_of_path(&r);
                self.on_spawn(
                    e,
                    callee_span,
                    work,
                    SpawnHow { spawner: Some(sp), ambient, api, ..SpawnHow::default() },
                );
                for a in c.args.iter().skip(1) {
                    self.visit_expr(a);
                }
                return;
            }
        }
        if r.is("std::thread::sleep") && self.ctx.is_async && !self.sleep_primitive {
            let end = self.span(c.span());
            let end = Span { lo: end.hi, ..end };
            self.facts.blocking_sleeps.push(BlockingSleep { owner: self.ctx.body, callee: callee_span, end });
        }
        if r.origin == Origin::External {
            match r.segments.first().map(String::as_str) {
                Some("tokio") => self.facts.runtimes.tokio = true,
                Some("async_std") => self.facts.runtimes.async_std = true,
                _ => {}
            }
        }
        if let Some(bound) = bound_of(&r) {
            let elem = p.path.segments.last().and_then(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                    syn::GenericArgument::Type(t) => type_name(t),
                    _ => None,
                }),
                _ => None,
            });
            let capacity = if bound == Bound::Bounded { c.args.first().and_then(int_expr) } else { None };
            self.facts.channels.push(ChannelSite {
                owner: self.ctx.body,
                span: callee_span,
                bound,
                capacity,
                elem,
                tx: None,
                rx: None,
                path: r.joined(),
                tx_fields: Vec::new(),
                rx_fields: Vec::new(),
            });
        }
        if r.segments.ends_with(&["Handle".to_string(), "try_current".to_string()]) {
            self.facts.bodies[self.ctx.body].try_current = true;
        }
        let last = r.last().to_string();
        if last == "drop" && (r.origin == Origin::Unknown || r.is("std::mem::drop")) && c.args.len() == 1 {
            let root = handle_root(&c.args[0]);
            self.marks.insert(addr(root), Disposition::Dropped);
            self.visit_expr(&c.args[0]);
            self.marks.remove(&addr(root));
            return;
        }
        if r.is("std::process::exit") || r.is("std::process::abort") {
            self.leave_all();
        }
        if is_blocking_name(&last) {
            self.awaits();
        }
        if is_signal_path(&r) {
            self.awaits();
        }
        if let Some(target) = self.call_target_of_path(&r, c.args.len()) {
            // A closure or async block handed to a crate-local fn may be spawned by it
            // (a spawn wrapper such as `crate::rt::spawn(fut)`); the join decides.
            let mut pending = false;
            for (i, a) in c.args.iter().enumerate() {
                if matches!(a, Expr::Async(_) | Expr::Closure(_)) {
                    self.on_spawn(e, callee_span, a, SpawnHow::via(target.clone(), i));
                    pending = true;
                }
            }
            self.record_call(e, target, callee_span);
            if pending {
                for a in c.args.iter().filter(|a| !matches!(a, Expr::Async(_) | Expr::Closure(_))) {
                    self.visit_expr(a);
                }
                return;
            }
        }
        let segs = &r.segments;
        let once = segs.len() >= 2 && is_lazy_type(&segs[segs.len() - 2]) && last == "new";
        let scope = matches!(last.as_str(), "scope" | "scope_fifo" | "in_place_scope" | "in_place_scope_fifo");
        let racing = r.is("tokio::time::timeout") || r.is("async_std::future::timeout");
        let service_fn = last == "service_fn";
        let operand = is_race_combinator(&last);
        let saved_service = self.ctx.in_service_fn;
        self.ctx.in_service_fn |= service_fn;
        self.no_pending += usize::from(operand);
        self.with_flag(
            |c| {
                c.singleton |= once;
                c.raced |= racing;
            },
            |s| {
                s.scope_closure = scope;
                let was_operand = s.ctx.operand;
                s.ctx.operand |= operand;
                for a in &c.args {
                    s.block_on_arg = last == "block_on" && matches!(a, Expr::Async(_));
                    s.visit_expr(a);
                    s.block_on_arg = false;
                }
                s.ctx.operand = was_operand;
                s.scope_closure = false;
            },
        );
        self.no_pending -= usize::from(operand);
        self.ctx.in_service_fn = saved_service;
    }

    fn on_method_call(&mut self, e: &Expr, m: &syn::ExprMethodCall) {
        let name = m.method.to_string();
        let span = self.span(m.method.span());
        if name == "block_on" {
            self.visit_expr(&m.receiver);
            for a in &m.args {
                self.block_on_arg = matches!(a, Expr::Async(_));
                self.visit_expr(a);
                self.block_on_arg = false;
            }
            return;
        }
        if is_spawn_method(&name) {
            if let Some(work) = m.args.iter().rev().find(|a| is_work(a)) {
                let (spawner, field) = self.classify_receiver(&m.receiver, &name);
                let ambient = matches!(&*m.receiver, Expr::Call(c) if matches!(&*c.func, Expr::Path(p)
                    if p.path.segments.len() >= 2 && p.path.segments.last().is_some_and(|s| s.ident == "current")
                        && p.path.segments[p.path.segments.len() - 2].ident == "Handle"));
                self.visit_expr(&m.receiver);
                let how = SpawnHow { spawner: Some(spawner), receiver_field: field, ambient, ..SpawnHow::default() };
                self.on_spawn(e, span, work, how);
                return;
            }
        }
        if name == "execute" && m.args.len() == 1 {
            let recv = single_ident(&m.receiver).or_else(|| match &*m.receiver {
                Expr::Field(f) => match &f.member {
                    syn::Member::Named(n) => Some(n.to_string()),
                    _ => None,
                },
                _ => None,
            });
            if recv.is_some_and(|r| r == "exec" || r == "executor") {
                self.visit_expr(&m.receiver);
                let how =
                    SpawnHow { spawner: Some(Spawner::Task), api: Some(SpawnApi::Executor), ..SpawnHow::default() };
                self.on_spawn(e, span, &m.args[0], how);
                return;
            }
        }
        if name == "detach" && m.args.is_empty() {
            let root = handle_root(&m.receiver);
            self.marks.insert(addr(root), Disposition::Detached);
            self.visit_expr(&m.receiver);
            self.marks.remove(&addr(root));
            return;
        }
        if name == "unwrap" || name == "expect" {
            self.error_exit(span, true);
        }
        self.facts.routes.extend(routed_fns(&name, &m.args));
        self.chan_op(&name, m);
        self.facts.force_unlock |= name.starts_with("force_unlock") || name == "unlock_unchecked";
        if is_start_guard(&name, &m.receiver) {
            self.facts.bodies[self.ctx.body].start_guard = true;
        }
        if is_blocking_name(&name) {
            self.awaits();
        }
        let arity = m.args.len();
        let target = if matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident("self")) {
            CallTarget::SelfMethod { name: name.clone(), arity }
        } else {
            let recv_ty = single_ident(&m.receiver).and_then(|r| self.type_of_local(&r));
            CallTarget::Method { name: name.clone(), arity, recv_ty }
        };
        if name.contains("spawn") && m.args.iter().any(|a| matches!(a, Expr::Async(_) | Expr::Closure(_))) {
            self.visit_expr(&m.receiver);
            for (i, a) in m.args.iter().enumerate() {
                if matches!(a, Expr::Async(_) | Expr::Closure(_)) {
                    self.on_spawn(e, span, a, SpawnHow::via(target.clone(), i));
                } else {
                    self.visit_expr(a);
                }
            }
            self.record_call(e, target, span);
            return;
        }
        self.record_call(e, target, span);
        let once = is_once_initialiser(&name);
        let racing = is_racing_method(&name);
        if racing && self.ctx.frames.is_empty() {
            // The wait ends when the source fires: `serve(..).with_graceful_shutdown(src)`,
            // `token.run_until_cancelled(fut)`.
            if name == "with_graceful_shutdown" {
                if let Some(src) = m.args.first() {
                    let kind = self.cancel_kind(src);
                    self.end_obs(None, kind, src);
                }
            } else {
                let span = self.span(m.receiver.span());
                let text = short_text(&format!("{}.{name}(..)", self.text_of(&m.receiver)));
                self.facts.ends.push(EndObs {
                    owner: self.ctx.body,
                    loop_idx: None,
                    kind: SourceKind::Token,
                    span,
                    text,
                });
            }
        }
        let operand = is_race_combinator(&name);
        self.with_flag(
            |c| {
                c.singleton |= once;
                c.raced |= racing;
            },
            |s| {
                let was_operand = s.ctx.operand;
                s.ctx.operand |= operand;
                s.visit_expr(&m.receiver);
                s.no_pending += usize::from(operand);
                for a in &m.args {
                    s.visit_expr(a);
                }
                s.no_pending -= usize::from(operand);
                s.ctx.operand = was_operand;
            },
        );
    }

    // ---- macros ----

    fn on_macro(&mut self, mac: &syn::Macro) {
        let Some(last) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        if last == "macro_rules" {
            return;
        }
        if is_select_macro(&last) {
            self.awaits();
            match parse_select(mac.tokens.clone()) {
                Ok(sel) => self.on_select(mac, sel),
                Err(_) => self.scan_tokens(mac.tokens.clone()),
            }
            return;
        }
        let operand = matches!(last.as_str(), "join" | "try_join");
        if operand {
            self.awaits();
        }
        if is_error_macro(&last) {
            let span = self.span(mac.path.span());
            let panics = !matches!(last.as_str(), "bail" | "ensure");
            self.error_exit(span, panics);
            // `panic!`/`bail!` leave unconditionally; `assert!`/`ensure!` only on failure.
            if !matches!(last.as_str(), "assert" | "assert_eq" | "assert_ne" | "ensure") {
                self.reason_leaves(0);
            }
        }
        self.no_pending += usize::from(operand);
        if let Ok(args) = mac.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated) {
            for a in &args {
                self.visit_expr(a);
            }
        } else if let Ok(stmts) = mac.parse_body_with(syn::Block::parse_within) {
            for s in &stmts {
                self.visit_stmt(s);
            }
        } else {
            self.scan_tokens(mac.tokens.clone());
        }
        self.no_pending -= usize::from(operand);
    }

    /// Fallback for macro bodies that are not expressions (crossbeam's `select!`, DSLs):
    /// `break`/`return` anywhere count as exits, `.await` and `recv` as blocking.
    fn scan_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Ident(i) => {
                    let s = i.to_string();
                    if s == "break" || s == "return" {
                        self.leave_all();
                    } else if s == "await" || is_blocking_name(&s) {
                        self.awaits();
                    }
                }
                proc_macro2::TokenTree::Group(g) => self.scan_tokens(g.stream()),
                _ => {}
            }
        }
    }

    fn on_select(&mut self, mac: &syn::Macro, sel: super::select::Select) {
        let cancel: Vec<bool> =
            sel.branches.iter().map(|b| b.fut.as_ref().is_some_and(|f| self.is_cancel_expr(f))).collect();
        let any_cancel = cancel.iter().any(|c| *c);
        self.select_sleep(mac, &sel, &cancel);
        self.no_pending += 1;
        for (b, is_cancel) in sel.branches.iter().zip(cancel) {
            if let Some(fut) = &b.fut {
                let raced = any_cancel && !is_cancel;
                if raced {
                    self.race_future_local(fut);
                }
                let was_operand = std::mem::replace(&mut self.ctx.operand, true);
                self.with_flag(|c| c.raced |= raced, |s| s.visit_expr(fut));
                self.ctx.operand = was_operand;
                if let Some(cond) = &b.cond {
                    self.visit_expr(cond);
                }
                // Only a future created afresh each iteration (`token.cancelled()`) fires again at
                // once after cancellation; a persistent one polled through `&mut` is usually
                // fused (the graceful-shutdown loops of axum and tonic).
                let fresh = !matches!(fut, Expr::Reference(_));
                let sets_flag = self.ctx.frames.last().is_some_and(|top| {
                    !top.cond.is_empty() && assigned_names(&b.handler).iter().any(|n| top.cond.contains(n))
                });
                if is_cancel
                    && fresh
                    && b.cond.is_none()
                    && b.kind == BranchKind::Future
                    && !handler_leaves(&b.handler)
                    && !sets_flag
                {
                    if let Some(top) = self.ctx.frames.last() {
                        let span = self.span(fut.span());
                        let l = &mut self.facts.loops[top.idx];
                        if l.cancel_no_leave.is_none() {
                            l.cancel_no_leave = Some(span);
                        }
                    }
                }
            }
            match (&b.fut, b.kind == BranchKind::Else) {
                // A cancellation branch: its exits end the loops around for it; outside any
                // loop, the select is a wait raced against the source, which ends it.
                (Some(fut), _) if is_cancel => {
                    let kind = self.cancel_kind(fut);
                    if self.ctx.frames.is_empty() {
                        self.end_obs(None, kind, fut);
                    }
                    self.with_end_reason(kind, fut, |s| s.visit_expr(&b.handler));
                }
                // `else` runs once every branch is disabled: a `Some(x) = rx.recv()` branch
                // disables itself when the channel closes.
                (None, true) if !self.ctx.frames.is_empty() => {
                    let recv = sel.branches.iter().find_map(|o| {
                        let fut = o.fut.as_ref()?;
                        o.pat.as_ref().filter(|p| is_value_pattern(p))?;
                        recv_call(fut)
                    });
                    match recv {
                        Some(m) => self.with_end_reason(SourceKind::Channel, m, |s| s.visit_expr(&b.handler)),
                        None => self.visit_expr(&b.handler),
                    }
                }
                _ => self.visit_expr(&b.handler),
            }
        }
        self.no_pending -= 1;
    }

    /// `select! { r = server.fuse() => .., _ = shutdown => .. }` where `server` is a
    /// local bound to an async block: what that block runs is raced against the source.
    fn race_future_local(&mut self, fut: &Expr) {
        let Some(name) = single_ident(future_root(fut)) else { return };
        let Some(local) = self.futures.iter().rev().find_map(|s| s.get(&name)).cloned() else { return };
        for l in &mut self.facts.loops[local.loops] {
            l.raced = true;
        }
        for c in &mut self.facts.bodies[local.body].calls[local.calls] {
            c.raced = true;
        }
    }

    /// A `sleep(..)` raced against one operation (`select_sleep_timeout`).
    fn select_sleep(&mut self, mac: &syn::Macro, sel: &super::select::Select, cancel: &[bool]) {
        let futures: Vec<usize> =
            (0..sel.branches.len()).filter(|&i| sel.branches[i].kind == BranchKind::Future).collect();
        let sleeps: Vec<usize> = futures
            .iter()
            .copied()
            .filter(|&i| sel.branches[i].fut.as_ref().is_some_and(|f| sleep_call(f, &self.resolver).is_some()))
            .collect();
        let [si] = sleeps[..] else { return };
        // A sleep behind a precondition is a conditional deadline, not a timeout.
        if sel.branches[si].cond.is_some() {
            return;
        }
        let others: Vec<usize> = futures.iter().copied().filter(|&i| i != si).collect();
        let sleep = &sel.branches[si];
        // A sleep racing a shutdown/drain future is a grace period, not a timeout.
        let grace = others.iter().any(|&i| cancel[i]);
        let in_loop = !self.ctx.frames.is_empty();
        let has_else = sel.branches.len() != futures.len();
        let restarts = if in_loop {
            if !handler_leaves(&sleep.handler) {
                return;
            }
            !others.iter().all(|&i| handler_leaves(&sel.branches[i].handler))
        } else {
            false
        };
        if !restarts && (others.len() != 1 || grace || has_else) {
            return;
        }
        let Some(fut) = &sleep.fut else { return };
        let fix = if restarts { None } else { self.timeout_rewrite(mac, sel, si, others[0]) };
        let span = self.span(fut.span());
        self.facts.select_sleeps.push(SelectSleep { owner: self.ctx.body, span, restarts, fix });
    }

    /// `tokio::select! { v = op => a, _ = sleep(d) => b }` ->
    /// `match tokio::time::timeout(d, op).await { Ok(v) => a, Err(_) => b }`, when the
    /// select is tokio's, unbiased, without preconditions, and the sleep takes a duration.
    fn timeout_rewrite(&self, mac: &syn::Macro, sel: &super::select::Select, si: usize, oi: usize) -> Option<Edit> {
        let tokio = self.resolver.resolve(&mac.path).is("tokio::select");
        let (sleep, op) = (&sel.branches[si], &sel.branches[oi]);
        if !tokio || sel.biased || sleep.cond.is_some() || op.cond.is_some() {
            return None;
        }
        if !matches!(sleep.pat, Some(Pat::Wild(_))) {
            return None;
        }
        let call = sleep_call(sleep.fut.as_ref()?, &self.resolver)?;
        if !is_plain_sleep(call) {
            return None;
        }
        let text = |s: proc_macro2::Span| self.src.snippet(&self.span(s)).to_string();
        let lo = self.span(mac.path.span());
        // Laid out like the select it replaces: arms one level in, where the branches were.
        let indent: String = self.src.line_text(lo.lo.line).chars().take_while(|c| c.is_whitespace()).collect();
        let replacement = format!(
            "match tokio::time::timeout({}, {}).await {{\n{indent}    Ok({}) => {},\n{indent}    Err(_) => {},\n{indent}}}",
            text(call.args[0].span()),
            text(op.fut.as_ref()?.span()),
            text(op.pat.as_ref()?.span()),
            text(op.handler.span()),
            text(sleep.handler.span()),
        );
        let hi = self.span(mac.delimiter.span().close());
        Some(Edit { span: Span { hi: hi.hi, ..lo }, replacement })
    }

    // ---- statements ----

    /// `pending().await` as a statement, `let` initialiser or tail of a fn or async block.
    fn pending_stmts(&mut self, b: &syn::Block) {
        for stmt in &b.stmts {
            let e = match stmt {
                Stmt::Expr(e, _) => e,
                Stmt::Local(l) => match &l.init {
                    Some(init) => &*init.expr,
                    None => continue,
                },
                _ => continue,
            };
            let Expr::Await(a) = e else { continue };
            let Expr::Call(c) = &*a.base else { continue };
            let Expr::Path(p) = &*c.func else { continue };
            if self.resolver.resolve(&p.path).is_any(&["std::future::pending", "futures::future::pending"]) {
                let span = self.span(e.span());
                self.facts.pendings.push(Site { owner: self.ctx.body, span });
            }
        }
    }

    /// `let (tx, rx): (Sender<T>, _) = channel(..)`: the endpoint names and element type
    /// of the channel site the initialiser just recorded.
    fn name_channel(&mut self, pat: &Pat, init: &Expr) {
        let init = match init {
            Expr::Try(t) => &*t.expr,
            e => e,
        };
        let Expr::Call(c) = init else { return };
        let callee = self.span(c.func.span());
        let Some(site) = self.facts.channels.last_mut().filter(|s| s.span == callee) else { return };
        let (pat, annotation) = match pat {
            Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        if let Pat::Tuple(t) = pat {
            let name = |p: &Pat| match p {
                Pat::Ident(i) => Some(i.ident.to_string()),
                _ => None,
            };
            site.tx = t.elems.first().and_then(name);
            site.rx = t.elems.iter().nth(1).and_then(name);
        }
        if site.elem.is_none() {
            if let Some(syn::Type::Tuple(t)) = annotation {
                site.elem = t.elems.first().and_then(|s| match s {
                    syn::Type::Path(p) => p.path.segments.last().and_then(|seg| match &seg.arguments {
                        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                            syn::GenericArgument::Type(t) => type_name(t),
                            _ => None,
                        }),
                        _ => None,
                    }),
                    _ => None,
                });
            }
        }
    }

    /// Records `x.send(v)` / `x.recv()` on an endpoint (`self.f`, a local, through
    /// `.lock().await`).
    fn chan_op(&mut self, name: &str, m: &syn::ExprMethodCall) {
        let send = matches!(name, "send" | "send_async" | "try_send" | "blocking_send" | "send_blocking");
        let recv = name.starts_with("recv") || matches!(name, "blocking_recv" | "try_recv");
        if !send && !recv {
            return;
        }
        let Some(endpoint) = endpoint_of(&m.receiver) else { return };
        let unit_value = m.args.first().is_some_and(|a| match a {
            Expr::Tuple(t) => t.elems.is_empty(),
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(_), .. }) => true,
            Expr::Path(p) => {
                p.path.get_ident().is_some_and(|i| i.to_string().starts_with(|c: char| c.is_ascii_uppercase()))
            }
            _ => false,
        });
        let span = self.span(m.method.span());
        self.facts.bodies[self.ctx.body].chan_ops.push(ChanOp { endpoint, send, span, unit_value });
    }

    /// `Self { slot_tx, slot_rx: Mutex::new(slot_rx) }`: which fields hold the endpoints
    /// of channels made earlier in this body.
    fn struct_fields(&mut self, st: &syn::ExprStruct) {
        let body = self.ctx.body;
        for f in &st.fields {
            let syn::Member::Named(field) = &f.member else { continue };
            let mut idents = Vec::new();
            super::idents::idents(quote::ToTokens::to_token_stream(&f.expr), &mut idents);
            for ch in self.facts.channels.iter_mut().rev().filter(|c| c.owner == body) {
                if ch.tx.as_ref().is_some_and(|t| idents.contains(t)) {
                    ch.tx_fields.push(field.to_string());
                }
                if ch.rx.as_ref().is_some_and(|r| idents.contains(r)) {
                    ch.rx_fields.push(field.to_string());
                }
            }
        }
    }

    /// `loop {}` or a loop that only parks the thread.
    fn is_park_only(&self, body: &syn::Block) -> bool {
        body.stmts.iter().all(|s| match s {
            Stmt::Expr(Expr::Call(c), _) => {
                matches!(&*c.func, Expr::Path(p) if self.resolver.resolve(&p.path).is("std::thread::park"))
            }
            _ => false,
        })
    }

    /// Decides the disposition of a handle produced by `stmt`; returns the marks set.
    fn mark_stmt(&mut self, stmt: &Stmt, rest: &[Stmt]) -> Vec<usize> {
        let mut set = Vec::new();
        let mut mark = |marks: &mut HashMap<usize, Disposition>, e: &Expr, d: Disposition| {
            let root = handle_root(e);
            if matches!(root, Expr::Call(_) | Expr::MethodCall(_)) {
                marks.insert(addr(root), d);
                set.push(addr(root));
            }
        };
        match stmt {
            Stmt::Expr(e, Some(_)) => mark(&mut self.marks, e, Disposition::Dropped),
            Stmt::Local(l) => {
                if let Some(init) = &l.init {
                    let mut pat = &l.pat;
                    while let Pat::Type(t) = pat {
                        pat = &t.pat;
                    }
                    match pat {
                        Pat::Wild(_) => mark(&mut self.marks, &init.expr, Disposition::Dropped),
                        // Scanning the rest of the block costs O(statements); do it only
                        // for values that can be a spawn's handle.
                        Pat::Ident(i) if i.subpat.is_none() && may_return_handle(&init.expr) => {
                            match later_use(rest, &i.ident.to_string()) {
                                LaterUse::Dropped => mark(&mut self.marks, &init.expr, Disposition::Dropped),
                                LaterUse::Detached => mark(&mut self.marks, &init.expr, Disposition::Detached),
                                LaterUse::Used => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        set
    }
}

/// The binding a value shares with: `b.clone()`, `Arc::clone(&b)`, `Arc::new(Mutex::new(b))`.
fn alias_source(e: &Expr) -> Option<String> {
    match e {
        Expr::MethodCall(m) if m.method == "clone" => single_ident(&m.receiver),
        Expr::Call(c) => {
            let wrapper = matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "clone" || s.ident == "new"));
            if wrapper && c.args.len() == 1 {
                single_ident(&c.args[0]).or_else(|| alias_source(&c.args[0]))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The endpoint a channel operation's receiver names: `self.field`, or a local, looked
/// through `.lock()`, `.unwrap()`, `.await`, `?`, `&`.
fn endpoint_of(e: &Expr) -> Option<Endpoint> {
    match e {
        Expr::MethodCall(m)
            if matches!(m.method.to_string().as_str(), "lock" | "unwrap" | "expect" | "borrow_mut" | "as_ref") =>
        {
            endpoint_of(&m.receiver)
        }
        Expr::Await(a) => endpoint_of(&a.base),
        Expr::Try(t) => endpoint_of(&t.expr),
        Expr::Paren(p) => endpoint_of(&p.expr),
        Expr::Reference(r) => endpoint_of(&r.expr),
        Expr::Field(f) => match (&*f.base, &f.member) {
            (Expr::Path(p), syn::Member::Named(n)) if p.path.is_ident("self") => Some(Endpoint::Field(n.to_string())),
            _ => None,
        },
        Expr::Path(p) => p.path.get_ident().map(|i| Endpoint::Local(i.to_string())),
        _ => None,
    }
}

/// A type's name for facts: its last path segment, or `()` for the unit type.
fn type_name(t: &syn::Type) -> Option<String> {
    match t {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Tuple(t) if t.elems.is_empty() => Some("()".to_string()),
        _ => None,
    }
}

/// The field an assignment stores into: `self.h = ..`, `*self.h.lock().unwrap() = ..`.
fn handle_place(lhs: &Expr) -> Option<(bool, String)> {
    match lhs {
        Expr::Field(_) => field_of(lhs),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => field_of(&u.expr),
        Expr::Paren(p) => handle_place(&p.expr),
        _ => None,
    }
}

/// Calls whose arguments race or combine futures: `pending()` there means "never fires".
fn is_race_combinator(name: &str) -> bool {
    matches!(name, "select" | "select_biased" | "race" | "or" | "join" | "try_join" | "zip" | "select_all")
}

/// A guard against starting twice: a one-time initialiser, an atomic swap, or a check
/// of an `Option` handle field on `self` (`self.task.is_some()`, `self.task.take()`).
fn is_start_guard(method: &str, receiver: &Expr) -> bool {
    if is_once_initialiser(method)
        || method.starts_with("compare_exchange")
        || matches!(method, "swap" | "fetch_or" | "get_or_try_init")
    {
        return true;
    }
    let on_self_field =
        matches!(receiver, Expr::Field(f) if matches!(&*f.base, Expr::Path(p) if p.path.is_ident("self")));
    on_self_field && matches!(method, "is_some" | "is_none" | "take" | "replace" | "is_finished")
}

/// Whether an initialiser can produce a spawn's handle: a call whose callee or method
/// names a spawn, or that takes a closure or async block (a possible spawn wrapper).
fn may_return_handle(init: &Expr) -> bool {
    let has_work = |args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>| {
        args.iter().any(|a| matches!(a, Expr::Async(_) | Expr::Closure(_)))
    };
    match handle_root(init) {
        Expr::Call(c) => {
            has_work(&c.args)
                || matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident.to_string().contains("spawn")))
        }
        Expr::MethodCall(m) => {
            has_work(&m.args)
                || is_spawn_method(&m.method.to_string())
                || m.method == "execute"
                || m.method.to_string().contains("spawn")
        }
        _ => false,
    }
}

/// How the statements after `let name = ..` use the binding.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
enum LaterUse {
    /// Not mentioned, or only passed to `drop(..)`.
    Dropped,
    /// Only `.detach()`ed.
    Detached,
    /// Used some other way (awaited, stored, passed on, ...).
    Used,
}

/// How `stmts` use the binding `name` (macro bodies included, token-wise).
fn later_use(stmts: &[Stmt], name: &str) -> LaterUse {
    struct Finder<'n> {
        name: &'n str,
        used: bool,
        detached: bool,
    }
    fn is_name(e: &Expr, name: &str) -> bool {
        matches!(e, Expr::Path(p) if p.path.is_ident(name))
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            let is_drop =
                matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "drop"));
            if is_drop && c.args.len() == 1 && is_name(&c.args[0], self.name) {
                return;
            }
            visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "detach" && is_name(&m.receiver, self.name) {
                self.detached = true;
                return;
            }
            visit::visit_expr_method_call(self, m);
        }
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            if i == self.name {
                self.used = true;
            }
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if super::idents::mentions(m.tokens.clone(), &[self.name]) {
                self.used = true;
            }
        }
    }
    let mut f = Finder { name, used: false, detached: false };
    for s in stmts {
        f.visit_stmt(s);
    }
    match (f.used, f.detached) {
        (true, _) => LaterUse::Used,
        (false, true) => LaterUse::Detached,
        (false, false) => LaterUse::Dropped,
    }
}

/// Finds a cancellation source inside an expression.
struct CancelFinder<'x, 'a> {
    x: &'x Extractor<'a>,
    found: bool,
}

impl CancelFinder<'_, '_> {
    fn name(&mut self, n: &str) {
        if is_cancel_name(n, self.x.extra_words) || self.x.binding_kind(n) == Some(ValueKind::Cancel) {
            self.found = true;
        }
    }
}

impl<'ast> Visit<'ast> for CancelFinder<'_, '_> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let n = m.method.to_string();
        if CANCEL_METHODS.contains(&n.as_str()) {
            self.found = true;
        }
        self.name(&n);
        visit::visit_expr_method_call(self, m);
    }
    fn visit_member(&mut self, m: &'ast syn::Member) {
        if let syn::Member::Named(n) = m {
            let n = n.to_string();
            self.name(&n);
            if self.x.field_kinds.get(&n) == Some(&ValueKind::Cancel) {
                self.found = true;
            }
        }
    }
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(id) = p.path.get_ident() {
            self.name(&id.to_string());
        } else {
            let r = self.x.resolver.resolve(&p.path);
            if is_signal_path(&r) {
                self.found = true;
            }
            for s in &p.path.segments {
                self.name(&s.ident.to_string());
            }
        }
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        fn scan(f: &mut CancelFinder<'_, '_>, ts: proc_macro2::TokenStream) {
            for tt in ts {
                match tt {
                    proc_macro2::TokenTree::Ident(i) => f.name(&i.to_string()),
                    proc_macro2::TokenTree::Group(g) => scan(f, g.stream()),
                    _ => {}
                }
            }
        }
        scan(self, m.tokens.clone());
    }
}

fn is_once_guard_cond(cond: &Expr) -> bool {
    struct G(bool);
    impl<'ast> Visit<'ast> for G {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            let n = m.method.to_string();
            if n.starts_with("compare_exchange") || n == "swap" || n == "fetch_or" {
                self.0 = true;
            }
            visit::visit_expr_method_call(self, m);
        }
    }
    let mut g = G(false);
    g.visit_expr(cond);
    g.0
}

/// `if STARTED.swap(true, ..) { return; }`: everything after it runs once.
fn is_early_return_guard(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::If(i), _) = stmt else { return false };
    if !is_once_guard_cond(&i.cond) {
        return false;
    }
    i.then_branch.stmts.iter().any(|s| matches!(s, Stmt::Expr(Expr::Return(_), _)))
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let is_main = f.sig.ident == "main" && self.self_ty.is_none() && self.module.len() <= 1 && self.ctx.body == 0;
        self.on_fn(BodyKind::Fn, &f.attrs, &f.sig, &f.block, is_main);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        // A trait impl's `sleep`/`delay` that returns a future is the timer of a runtime
        // adapter: how it waits (`thread::sleep` in an adapter that runs each future on
        // a thread of its own with `block_on`) is the adapter's design, not a blocking
        // call in async code.
        let name = f.sig.ident.to_string();
        let primitive = self.in_trait_impl && f.sig.asyncness.is_none() && (name == "sleep" || name == "delay");
        let saved = std::mem::replace(&mut self.sleep_primitive, primitive);
        self.on_fn(BodyKind::Method, &f.attrs, &f.sig, &f.block, false);
        self.sleep_primitive = saved;
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.on_fn(BodyKind::Method, &f.attrs, &f.sig, block, false);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let ty = match &*i.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let saved_ty = std::mem::replace(&mut self.self_ty, ty);
        let saved_test = self.ctx.in_test;
        self.ctx.in_test |= is_test_item(&i.attrs);
        let drop_impl = i.trait_.as_ref().is_some_and(|(_, p, _)| p.segments.last().is_some_and(|s| s.ident == "Drop"));
        let saved_drop = std::mem::replace(&mut self.in_drop_impl, drop_impl);
        let raw_lock = i
            .trait_
            .as_ref()
            .is_some_and(|(_, p, _)| p.segments.last().is_some_and(|s| s.ident.to_string().starts_with("Raw")));
        let saved_raw = std::mem::replace(&mut self.in_raw_lock_impl, raw_lock);
        let saved_trait = std::mem::replace(&mut self.in_trait_impl, i.trait_.is_some());
        for item in &i.items {
            self.visit_impl_item(item);
        }
        self.in_trait_impl = saved_trait;
        self.in_raw_lock_impl = saved_raw;
        self.in_drop_impl = saved_drop;
        self.ctx.in_test = saved_test;
        self.self_ty = saved_ty;
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let saved_ty = self.self_ty.replace(t.ident.to_string());
        for item in &t.items {
            self.visit_trait_item(item);
        }
        self.self_ty = saved_ty;
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let is_test = is_test_item(&m.attrs);
        match &m.content {
            None => {
                if is_test {
                    self.facts.cfg_test_mods.push(m.ident.to_string());
                }
            }
            Some((_, items)) => {
                let saved_test = self.ctx.in_test;
                self.ctx.in_test |= is_test;
                self.module.push(m.ident.to_string());
                self.resolver.push(UseScope::from_items(items));
                for item in items {
                    self.visit_item(item);
                }
                self.resolver.pop();
                self.module.pop();
                self.ctx.in_test = saved_test;
            }
        }
    }

    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        if let Some(v) = int_expr(&c.expr).filter(|_| !is_non_default_cfg(&c.attrs)) {
            self.facts.consts.push((c.ident.to_string(), v));
        }
        let saved = self.ctx.in_test;
        self.ctx.in_test |= is_test_item(&c.attrs);
        visit::visit_item_const(self, c);
        self.ctx.in_test = saved;
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        let saved = self.ctx.in_test;
        self.ctx.in_test |= is_test_item(&s.attrs);
        visit::visit_item_static(self, s);
        self.ctx.in_test = saved;
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let items: Vec<&syn::Item> = b
            .stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Item(i) => Some(i),
                _ => None,
            })
            .collect();
        let has_items = !items.is_empty();
        if has_items {
            self.resolver.push(UseScope::from_items(items));
        }
        self.bindings.push(HashMap::new());
        self.types.push(HashMap::new());
        self.futures.push(HashMap::new());
        self.origins.push(HashMap::new());
        let saved_singleton = self.ctx.singleton;
        if std::mem::take(&mut self.body_block) && self.no_pending == 0 {
            self.pending_stmts(b);
        }
        let returns = std::mem::take(&mut self.returns_block);
        for (i, stmt) in b.stmts.iter().enumerate() {
            let set = self.mark_stmt(stmt, &b.stmts[i + 1..]);
            // The tail of a fn body is its return value.
            let tail = match stmt {
                Stmt::Expr(e, None) if returns && i + 1 == b.stmts.len() && self.may_carry(e, false) => {
                    self.note_use(e, UseKind::Returned, e.span())
                }
                _ => None,
            };
            self.visit_stmt(stmt);
            self.unmark([tail]);
            for k in set {
                self.marks.remove(&k);
            }
            if is_early_return_guard(stmt) {
                self.ctx.singleton = true;
            }
        }
        self.ctx.singleton = saved_singleton;
        self.origins.pop();
        self.futures.pop();
        self.types.pop();
        self.bindings.pop();
        if has_items {
            self.resolver.pop();
        }
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            let since = self.facts.bodies[self.ctx.body].calls.len();
            let loops_since = self.facts.loops.len();
            self.visit_expr(&init.expr);
            if let Pat::Ident(i) = &l.pat {
                // `let fut = Box::pin(fut.fuse());` keeps what the old binding held.
                let rewrapped = || {
                    let name = single_ident(future_root(&init.expr))?;
                    self.futures.iter().rev().find_map(|s| s.get(&name)).cloned()
                };
                let future = if is_async_block(&init.expr) {
                    Some(FutureLocal {
                        body: self.ctx.body,
                        loops: loops_since..self.facts.loops.len(),
                        calls: since..self.facts.bodies[self.ctx.body].calls.len(),
                    })
                } else {
                    rewrapped()
                };
                if let Some(scope) = self.futures.last_mut() {
                    match future {
                        Some(f) => scope.insert(i.ident.to_string(), f),
                        None => scope.remove(&i.ident.to_string()),
                    };
                }
            }
            if let Some((_, diverge)) = &init.diverge {
                // `let Some(x) = rx.recv().await else { break }`: the else runs on close.
                match recv_call(&init.expr) {
                    Some(m) if !self.ctx.frames.is_empty() && is_value_pattern(&l.pat) => {
                        self.with_end_reason(SourceKind::Channel, m, |s| s.visit_expr(diverge));
                    }
                    _ => self.visit_expr(diverge),
                }
            }
            let kind = self.kind_of_expr(&init.expr);
            self.bind_pat(&l.pat, kind);
            self.bind_pat_type(&l.pat, Some(&init.expr));
            let origin = self.origin_of_value(&init.expr, since);
            self.bind_pat_origin(&l.pat, origin);
            self.name_channel(&l.pat, &init.expr);
            if let (Pat::Ident(i), Some(src)) = (&l.pat, alias_source(&init.expr)) {
                self.facts.bodies[self.ctx.body].local_aliases.push((i.ident.to_string(), src));
            }
        } else {
            self.bind_pat(&l.pat, None);
            self.bind_pat_type(&l.pat, None);
            self.bind_pat_origin(&l.pat, None);
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.on_macro(m);
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Call(c) => {
                let marks = self.call_arg_uses(c);
                self.on_call(e, c);
                self.unmark(marks);
            }
            Expr::MethodCall(m) => {
                let marks = self.method_uses(m);
                self.on_method_call(e, m);
                self.closure_origin = None;
                self.unmark(marks);
            }
            Expr::Async(a) => {
                let is_async = !std::mem::take(&mut self.block_on_arg);
                // Only the body of spawned work counts: an async block bound to a
                // variable or passed to a fn is usually raced later (`a.or(b)`).
                let spawned = std::mem::take(&mut self.spawn_work);
                self.boundary(is_async, |s| {
                    s.body_block = spawned;
                    s.visit_block(&a.block)
                });
            }
            Expr::Closure(c) if self.no_pending == 0 => {
                // Inside a closure, `pending()` is a value handed to someone else.
                self.no_pending += 1;
                self.visit_closure(c);
                self.no_pending -= 1;
            }
            Expr::Loop(l) => {
                let span = self.span(l.loop_token.span);
                let fix_at = self.facts.loops.len();
                let cancel_fix = self.select_cancel_fix(&l.body);
                if self.is_park_only(&l.body) {
                    self.facts.park_loops.push(Site { owner: self.ctx.body, span });
                }
                if self.ctx.is_async && is_deadline_poll(None, &l.body, &self.resolver) {
                    self.facts.sleep_polls.push(Site { owner: self.ctx.body, span });
                }
                self.on_loop(l.label.as_ref(), span, true, |s| s.visit_block(&l.body));
                self.facts.loops[fix_at].cancel_fix = cancel_fix;
            }
            Expr::While(w) => {
                let infinite = matches!(&*w.cond, Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) if b.value);
                let lo = self.span(w.while_token.span);
                let hi = self.span(w.cond.span());
                let span = Span { hi: hi.hi, ..lo };
                if self.ctx.is_async && is_deadline_poll(Some(&w.cond), &w.body, &self.resolver) {
                    self.facts.sleep_polls.push(Site { owner: self.ctx.body, span });
                }
                let idx = self.facts.loops.len();
                self.next_loop_cond = flag_names(&w.cond);
                self.on_loop(w.label.as_ref(), span, infinite, |s| {
                    s.visit_expr(&w.cond);
                    s.visit_block(&w.body);
                });
                // `while let Some(x) = rx.recv().await` ends on close; `while !stop.load(..)`
                // on the stop request.
                match &*w.cond {
                    Expr::Let(l) => {
                        if let Some(m) = recv_call(&l.expr).filter(|_| is_value_pattern(&l.pat)) {
                            self.end_obs(Some(idx), SourceKind::Channel, m);
                        }
                    }
                    cond if self.is_cancel_expr(cond) => {
                        let kind = self.cancel_kind(cond);
                        self.end_obs(Some(idx), kind, cond);
                    }
                    _ => {}
                }
            }
            Expr::ForLoop(f) => {
                if let Expr::Range(r) = &*f.expr {
                    if let Some(end) = r.end.as_deref().and_then(int_expr) {
                        self.facts.bodies[self.ctx.body].range_bounds.push(end);
                    }
                }
                self.visit_expr(&f.expr);
                let span = self.span(f.for_token.span);
                self.on_loop(f.label.as_ref(), span, false, |s| {
                    s.bind_pat(&f.pat, None);
                    s.visit_block(&f.body);
                });
            }
            Expr::Break(b) => {
                self.break_to(b.label.as_ref());
                if let Some(v) = &b.expr {
                    self.visit_expr(v);
                }
            }
            Expr::Return(r) => {
                if is_err_ctor(r.expr.as_deref()) {
                    let span = self.span(r.span());
                    self.error_exit(span, false);
                    // Unconditional: it leaves for the reason around it, error or not.
                    self.reason_leaves(0);
                } else {
                    self.leave_all();
                }
                if let Some(v) = &r.expr {
                    let returned = self.ctx.fn_level && self.may_carry(v, false);
                    let mark = if returned { self.note_use(v, UseKind::Returned, r.span()) } else { None };
                    self.visit_expr(v);
                    self.unmark([mark]);
                }
            }
            Expr::Try(t) => {
                let span = self.span(t.question_token.span);
                // `rx.recv()?` (std, crossbeam, flume; `rx.recv().await?` for tokio's
                // `Option`): the error is the channel closing, the way a worker is told to
                // stop, so it ends the loops like `while let Some(x) = rx.recv()` does.
                // (`try_next().await?` propagates a stream error; its end is `Ok(None)`; a
                // socket's `recv(&mut buf)?` fails on I/O errors only.)
                match recv_call(&t.expr).filter(|m| m.method != "try_next" && m.args.is_empty()) {
                    Some(m) => {
                        self.all_frames(|l| l.normal_exit = true);
                        for i in 0..self.ctx.frames.len() {
                            let idx = self.ctx.frames[i].idx;
                            self.end_obs(Some(idx), SourceKind::Channel, m);
                        }
                    }
                    None => self.error_exit(span, false),
                }
                self.visit_expr(&t.expr);
            }
            Expr::Await(a) => {
                self.awaits();
                let mark = if self.may_carry(&a.base, true) {
                    self.note_use(&a.base, UseKind::Awaited, a.await_token.span)
                } else {
                    None
                };
                self.visit_expr(&a.base);
                self.unmark([mark]);
            }
            Expr::Assign(a) => {
                let place = if self.may_carry(&a.right, false) { handle_place(&a.left) } else { None };
                let mark = match place {
                    Some((on_self, field)) => {
                        let ty = if on_self { self.self_ty.clone() } else { None };
                        self.note_use(&a.right, UseKind::Stored { ty, field }, a.eq_token.span)
                    }
                    None => None,
                };
                let since = self.facts.bodies[self.ctx.body].calls.len();
                visit::visit_expr_assign(self, a);
                self.unmark([mark]);
                if let Some(name) = single_ident(&a.left) {
                    if let Some(o) = self.origin_of_value(&a.right, since) {
                        self.bind_origin(name, Some(o));
                    }
                }
            }
            Expr::Match(m) if !self.ctx.frames.is_empty() && recv_call(&m.expr).is_some() => {
                // `match rx.recv().await { Some(x) => .., None => break }`: the `None`/`Err`
                // arms run on close.
                self.visit_expr(&m.expr);
                let recv = recv_call(&m.expr).expect("checked by the guard");
                for arm in &m.arms {
                    if is_closed_pattern(&arm.pat) {
                        self.with_end_reason(SourceKind::Channel, recv, |s| visit::visit_arm(s, arm));
                    } else {
                        visit::visit_arm(self, arm);
                    }
                }
            }
            Expr::If(i) if !self.ctx.frames.is_empty() && !is_once_guard_cond(&i.cond) => {
                self.visit_expr(&i.cond);
                match &*i.cond {
                    // `if let Some(x) = rx.recv().await { .. } else { break }`
                    Expr::Let(l) => {
                        self.visit_block(&i.then_branch);
                        if let Some((_, els)) = &i.else_branch {
                            match recv_call(&l.expr).filter(|_| is_value_pattern(&l.pat)) {
                                Some(m) => self.with_end_reason(SourceKind::Channel, m, |s| s.visit_expr(els)),
                                None => self.visit_expr(els),
                            }
                        }
                    }
                    // `if stop.load(Ordering::Acquire) { break }`
                    cond if self.is_cancel_expr(cond) => {
                        let kind = self.cancel_kind(cond);
                        self.with_end_reason(kind, cond, |s| s.visit_block(&i.then_branch));
                        if let Some((_, els)) = &i.else_branch {
                            self.visit_expr(els);
                        }
                    }
                    _ => {
                        self.visit_block(&i.then_branch);
                        if let Some((_, els)) = &i.else_branch {
                            self.visit_expr(els);
                        }
                    }
                }
            }
            Expr::If(i) if is_once_guard_cond(&i.cond) => {
                self.visit_expr(&i.cond);
                self.with_flag(|c| c.singleton = true, |s| s.visit_block(&i.then_branch));
                if let Some((_, els)) = &i.else_branch {
                    self.visit_expr(els);
                }
            }
            Expr::Closure(c) => self.visit_closure(c),
            Expr::Struct(st) => {
                self.struct_fields(st);
                let mut marks = Vec::new();
                for f in &st.fields {
                    if let (syn::Member::Named(n), true) = (&f.member, self.may_carry(&f.expr, false)) {
                        let ty = st.path.segments.last().map(|s| s.ident.to_string());
                        let ty = if ty.as_deref() == Some("Self") { self.self_ty.clone() } else { ty };
                        let kind = UseKind::Stored { ty, field: n.to_string() };
                        marks.push(self.note_use(&f.expr, kind, n.span()));
                    }
                }
                visit::visit_expr_struct(self, st);
                self.unmark(marks);
            }
            Expr::Let(l) => {
                // `if let Some(old) = &self.task`: a check of the previous handle.
                let mut scrutinee = &*l.expr;
                while let Expr::Reference(r) = scrutinee {
                    scrutinee = &r.expr;
                }
                let on_self =
                    matches!(scrutinee, Expr::Field(f) if matches!(&*f.base, Expr::Path(p) if p.path.is_ident("self")));
                if on_self && matches!(&*l.pat, Pat::TupleStruct(t) if t.path.is_ident("Some")) {
                    self.facts.bodies[self.ctx.body].start_guard = true;
                }
                let since = self.facts.bodies[self.ctx.body].calls.len();
                visit::visit_expr_let(self, l);
                // `if let Some(h) = self.handle.take()`: `h` is the field's handle.
                let origin = self.origin_of_value(&l.expr, since);
                self.bind_pat_origin(&l.pat, origin);
            }
            _ => visit::visit_expr(self, e),
        }
    }
}

impl Extractor<'_> {
    /// A closure is a boundary: its parameters are its own bindings (the first one is a
    /// scope when the closure is passed to `thread::scope` and friends).
    fn visit_closure(&mut self, c: &syn::ExprClosure) {
        let scope = std::mem::take(&mut self.scope_closure);
        let param_origin = self.closure_origin.take();
        let is_async = c.asyncness.is_some();
        self.boundary(is_async, |s| {
            for (i, p) in c.inputs.iter().enumerate() {
                let kind = if scope && i == 0 { Some(ValueKind::Scope) } else { None };
                s.bind_pat(p, kind);
                s.bind_pat_origin(p, if i == 0 { param_origin.clone() } else { None });
            }
            s.visit_expr(&c.body);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcheck_core::FileId;

    fn facts(src: &str) -> FileFacts {
        let file = SourceFile::new(FileId(0), "src/main.rs".into(), "src/main.rs".into(), src.into());
        let ast = syn::parse_file(src).unwrap();
        extract(&file, "src/main.rs", &ast, &[])
    }

    #[test]
    fn blocking_sleeps_in_async_code_only() {
        let f = facts(
            r#"
            use tokio::time::sleep;
            async fn a() {
                std::thread::sleep(D);
                sleep(D).await;
                tokio::task::spawn_blocking(|| std::thread::sleep(D));
                let c = async { std::thread::sleep(D) };
                futures::executor::block_on(async { std::thread::sleep(D) });
                rt.block_on(async { std::thread::sleep(D) });
                {
                    use std::thread::sleep;
                    sleep(D);
                }
            }
            fn b() { std::thread::sleep(D); }
            "#,
        );
        let lines: Vec<usize> = f.blocking_sleeps.iter().map(|s| s.callee.lo.line).collect();
        assert_eq!(lines, [4, 7, 12]);
    }

    #[test]
    fn module_paths_and_targets() {
        assert_eq!(module_of("src/main.rs"), "");
        assert_eq!(module_of("src/server/mod.rs"), "server");
        assert_eq!(module_of("src/server/conn.rs"), "server::conn");
        assert_eq!(target_of("src/a.rs"), Target::Src);
        assert_eq!(target_of("tests/common/mod.rs"), Target::Unit("tests/common".into()));
        assert_eq!(target_of("examples/demo.rs"), Target::Unit("examples/demo".into()));
    }

    #[test]
    fn handle_dispositions() {
        let f = facts(
            r#"
            async fn a(tx: Sender) {
                tokio::spawn(async {});
                let _ = tokio::spawn(async {});
                let h = tokio::spawn(async {});
                let kept = tokio::spawn(async {});
                kept.abort();
                let _task_handle = tokio::spawn(async {});
                keep(_task_handle);
                let bound = tokio::spawn(async {});
                drop(bound);
                let t = smol::spawn(async {});
                t.detach();
                drop(tokio::spawn(async {}));
                smol::spawn(async {}).detach();
                std::thread::Builder::new().name("w".into()).spawn(|| {}).expect("spawn");
                handles.push(tokio::spawn(async {}));
                tokio::spawn(async {}).await.unwrap();
            }
            "#,
        );
        let d: Vec<Disposition> = f.spawns.iter().map(|s| s.disposition).collect();
        use Disposition::*;
        assert_eq!(
            d,
            [Dropped, Dropped, Dropped, Kept, Kept, Dropped, Detached, Dropped, Detached, Dropped, Kept, Kept]
        );
        assert_eq!(f.spawns[8].spawner, Some(Spawner::CancelOnDrop));
        assert_eq!(f.spawns[9].spawner, Some(Spawner::Thread));
    }

    #[test]
    fn spawner_receivers() {
        let f = facts(
            r#"
            use tokio::task::JoinSet;
            fn a(tracker: TaskTracker) {
                let mut set = JoinSet::new();
                set.spawn(async {});
                tracker.spawn(async {});
                std::thread::scope(|s| { s.spawn(|| {}); });
                rt.spawn_blocking(|| {});
            }
            "#,
        );
        let s: Vec<Option<Spawner>> = f.spawns.iter().map(|s| s.spawner).collect();
        assert_eq!(s, [Some(Spawner::Set), Some(Spawner::Tracker), Some(Spawner::Scoped), Some(Spawner::Blocking)]);
    }

    #[test]
    fn loop_exits() {
        let f = facts(
            r#"
            async fn a() -> Result<()> {
                loop { let x = rx.recv().await?; }
                'outer: loop { loop { break 'outer; } }
                loop { tokio::select! { _ = token.cancelled() => break, m = rx.recv() => {} } }
                loop { tokio::select! { _ = token.cancelled() => { info!("bye"); } m = rx.recv() => {} } }
                while let Some(x) = rx.recv().await {}
                loop { let c = || { break_me(); }; thread::sleep(d); }
                loop { let x = s.try_next().await?; }
                loop { let n = socket.recv(&mut buf)?; }
            }
            "#,
        );
        let l = &f.loops;
        // `rx.recv()?` fails only when the channel closes: the way its owner stops it.
        assert!(!l[0].long_running(false) && l[0].normal_exit && l[0].error_exits.is_empty());
        // A stream error and a socket error are errors.
        assert!(l[7].long_running(false) && l[7].error_exits.len() == 1);
        assert!(l[8].long_running(false) && l[8].error_exits.len() == 1);
        assert!(l[1].normal_exit && l[2].normal_exit);
        assert!(l[3].normal_exit && l[3].cancel_no_leave.is_none());
        assert!(!l[4].normal_exit && l[4].cancel_no_leave.is_some());
        assert!(!l[5].infinite);
        assert!(l[6].long_running(false));
    }

    #[test]
    fn singletons_and_racing() {
        let f = facts(
            r#"
            fn reactor() -> &'static Reactor {
                REACTOR.get_or_init(|| { std::thread::spawn(|| loop { poll() }); Reactor })
            }
            fn start() {
                if STARTED.swap(true, SeqCst) { return; }
                std::thread::spawn(|| loop { poll() });
            }
            async fn serve() {}
            #[tokio::main]
            async fn main() {
                tokio::select! { _ = serve() => {}, _ = tokio::signal::ctrl_c() => {} }
                serve().await;
            }
            "#,
        );
        assert!(f.spawns.iter().all(|s| s.singleton));
        let main = f.bodies.iter().find(|b| b.is_main).unwrap();
        let raced: Vec<bool> = main
            .calls
            .iter()
            .filter(|c| matches!(&c.target, CallTarget::Free { name, .. } if name == "serve"))
            .map(|c| c.raced)
            .collect();
        assert_eq!(raced, [true, false]);
    }

    #[test]
    fn where_kept_handles_go() {
        use crate::analysis::handles::UseKind::*;
        let f = facts(
            r#"
            struct S { handle: JoinHandle<()>, task: Option<std::thread::JoinHandle<()>> }
            impl S {
                fn start() -> S { let handle = tokio::spawn(async {}); S { handle, task: None } }
                fn restart(&mut self) { self.handle = tokio::spawn(async {}); }
                fn stop(&mut self) { self.handle.abort(); }
                fn close(&mut self) { if let Some(h) = self.task.take() { let _ = h.join(); } }
            }
            fn a() -> JoinHandle<()> {
                let h = tokio::spawn(async {});
                h.await;
                handles.push(tokio::spawn(async {}));
                keep(Some(tokio::spawn(async {})));
                tokio::spawn(async {})
            }
            fn b() { let d = a(); d.abort(); }
            "#,
        );
        let uses: Vec<Vec<UseKind>> =
            f.spawns.iter().map(|s| s.uses.iter().map(|u| u.kind.clone()).collect()).collect();
        let stored = || Stored { ty: Some("S".into()), field: "handle".into() };
        assert_eq!(
            uses,
            [
                vec![stored()],
                vec![stored()],
                vec![Awaited],
                vec![Pushed("handles".into())],
                vec![Passed("keep".into())],
                vec![Returned]
            ]
        );
        let ops: Vec<(Option<&str>, &str, UseKind)> =
            f.field_ops.iter().map(|o| (o.ty.as_deref(), o.field.as_str(), o.kind.clone())).collect();
        assert_eq!(ops, [(Some("S"), "handle", Aborted), (Some("S"), "task", Joined)]);
        let b = f.bodies.iter().find(|b| b.name == "b").unwrap();
        let call_uses: Vec<(usize, UseKind)> = b.call_uses.iter().map(|(i, u)| (*i, u.kind.clone())).collect();
        assert_eq!(call_uses, [(0, Aborted)]);
    }

    #[test]
    fn what_ends_loops_and_waits() {
        use crate::analysis::stops::SourceKind::*;
        let f = facts(
            r#"
            async fn a() -> Result<()> {
                loop { tokio::select! { _ = token.cancelled() => break, m = rx.recv() => {} } }
                while let Some(x) = rx.recv().await {}
                loop { if stop.load(SeqCst) { break; } work().await; }
                loop { let Some(x) = rx.recv().await else { break }; }
                loop { match rx.recv().await { Some(x) => {}, None => return Ok(()) } }
                loop { let j = jobs.recv()?; }
                loop { tokio::select! { _ = token.cancelled() => { info!("x"); } } }
                loop { tokio::select! { Some(m) = rx.recv() => {}, else => break } }
                tokio::select! { _ = shutdown.notified() => {}, _ = serve() => {} }
                loop { if stop.load(SeqCst) { for x in y { break; } } tick().await; }
                axum::serve(l, app).with_graceful_shutdown(token.cancelled_owned()).await;
            }
            "#,
        );
        let ends: Vec<(Option<usize>, SourceKind, &str)> =
            f.ends.iter().map(|e| (e.loop_idx, e.kind, e.text.as_str())).collect();
        assert_eq!(
            ends,
            [
                (Some(0), Token, "token.cancelled()"),
                (Some(1), Channel, "rx.recv()"),
                (Some(2), Flag, "stop.load(SeqCst)"),
                (Some(3), Channel, "rx.recv()"),
                (Some(4), Channel, "rx.recv()"),
                (Some(5), Channel, "jobs.recv()"),
                (Some(7), Channel, "rx.recv()"),
                (None, Notify, "shutdown.notified()"),
                (None, Token, "token.cancelled_owned()"),
            ]
        );
    }

    #[test]
    fn cancellation_moved_in_and_wrappers() {
        let f = facts(
            r#"
            fn spawn<F: Future>(fut: F) { tokio::spawn(fut); }
            fn a(shutdown_rx: Receiver<()>) {
                tokio::spawn(async move { run(shutdown_rx).await });
                tokio::spawn(async move { run(rx).await });
                spawn(async move { loop { tick().await } });
            }
            "#,
        );
        assert!(f.bodies.iter().any(|b| b.name == "spawn" && b.wrapper.is_some()));
        let moved: Vec<bool> = f.spawns.iter().map(|s| s.cancel_moved_in).collect();
        assert_eq!(moved, [false, true, false, false]);
        assert!(f.spawns[3].via.is_some());
    }
}
