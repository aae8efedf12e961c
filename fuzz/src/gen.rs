//! A small grammar of Rust items and expressions, derived with `arbitrary` so that
//! libFuzzer mutates programs instead of bytes, and rendered to source text that
//! `syn::parse_file` accepts. It is rich in what the lints look at: spawns, loops and
//! their exits, `select!`, sleeps and timeouts, cancellation tokens, channels, statics
//! holding maps, pools, `impl Drop`, lock guards and `mem::forget`, handlers, nested
//! closures and async blocks, macros, test code and suppression comments.
//!
//! Names come from short fixed lists, so that calls resolve to the fns the same input
//! defines and the crate-wide analysis (call graph, statics, handles) has something to
//! join. Rendering stops descending at [`MAX_DEPTH`] and caps list lengths, so every
//! program stays far below the engine's nesting limit and is analysed, not refused.

use arbitrary::Arbitrary;

/// Deepest nesting of blocks, expressions and types rendered; deeper nodes become
/// leaves. The engine refuses files nested beyond 256 levels; generated programs are
/// meant to be analysed.
const MAX_DEPTH: usize = 12;
/// Longest list rendered (items, statements, arguments, arms, fields).
const MAX_LIST: usize = 8;

const VALUE_NAMES: &[&str] = &[
    "x", "tx", "rx", "token", "handle", "state", "map", "guard", "interval", "client", "cache", "jobs", "conn", "free",
    "pool", "buf", "item", "shutdown", "notify", "set", "timer", "child", "stop", "done", "req", "inner",
];
const FN_NAMES: &[&str] = &[
    "main",
    "run",
    "serve",
    "start",
    "spawn_worker",
    "handler",
    "handle_request",
    "process",
    "poll_once",
    "worker",
    "new",
    "get",
    "put",
    "take",
    "reset",
    "listen",
    "tick",
    "helper",
    "cleanup",
    "insert_entry",
];
const TYPE_NAMES: &[&str] =
    &["Server", "Worker", "State", "Service", "Guard", "BufPool", "FreeList", "Recycler", "Conn", "App", "Task"];
const CONST_NAMES: &[&str] = &["CACHE", "REGISTRY", "POOL", "SESSIONS", "CAPACITY", "TIMEOUT", "FREE_LIST", "CLIENTS"];
const LINT_NAMES: &[&str] = &[
    "loop_without_cancel",
    "spawn_without_cancel",
    "spawn_in_handler",
    "pending_forever",
    "spawn_in_drop",
    "detached_task_panic",
    "duplicate_task_start",
    "sleep_as_timeout",
    "select_sleep_timeout",
    "lost_cancel",
    "blocking_sleep_in_async",
    "http_client_without_timeout",
    "channel_as_mutex",
    "pool_holds_pointers",
    "pool_put_without_reset",
    "unbounded_static_map",
    "unbounded_channel",
    "oversized_channel_buffer",
    "forget_lock_guard",
    "unused_suppression",
    "all",
    "no_such_lint",
];
const FUNCTIONS: &[&str] = &[
    "tokio::spawn",
    "tokio::task::spawn",
    "task::spawn",
    "spawn",
    "std::thread::spawn",
    "thread::spawn",
    "tokio::task::spawn_blocking",
    "tokio::task::spawn_local",
    "async_std::task::spawn",
    "tokio::time::sleep",
    "sleep",
    "std::thread::sleep",
    "tokio::time::sleep_until",
    "tokio::time::timeout",
    "timeout",
    "tokio::time::interval",
    "tokio::sync::mpsc::unbounded_channel",
    "mpsc::unbounded_channel",
    "mpsc::channel",
    "std::sync::mpsc::channel",
    "std::sync::mpsc::sync_channel",
    "crossbeam_channel::unbounded",
    "crossbeam_channel::bounded",
    "flume::unbounded",
    "tokio::sync::broadcast::channel",
    "tokio::sync::oneshot::channel",
    "tokio::sync::watch::channel",
    "CancellationToken::new",
    "Duration::from_secs",
    "Duration::from_millis",
    "Instant::now",
    "Arc::new",
    "Mutex::new",
    "RwLock::new",
    "HashMap::new",
    "BTreeMap::new",
    "Vec::new",
    "Vec::with_capacity",
    "Box::new",
    "Box::pin",
    "Box::leak",
    "std::mem::forget",
    "mem::forget",
    "ManuallyDrop::new",
    "drop",
    "std::future::pending",
    "futures::future::pending",
    "pending",
    "reqwest::Client::new",
    "reqwest::Client::builder",
    "Client::new",
    "ureq::agent",
    "tokio::signal::ctrl_c",
    "JoinSet::new",
    "tokio::runtime::Handle::current",
    "LazyLock::new",
    "Some",
    "Ok",
    "Err",
    "object_pool::Pool::new",
    "Self::new",
    "Default::default",
];
const METHODS: &[&str] = &[
    "lock",
    "unwrap",
    "send",
    "recv",
    "try_recv",
    "insert",
    "push",
    "push_back",
    "extend",
    "clone",
    "cancelled",
    "is_cancelled",
    "child_token",
    "cancel",
    "drop_guard",
    "tick",
    "abort",
    "join",
    "spawn",
    "spawn_blocking",
    "entry",
    "or_insert",
    "or_default",
    "borrow_mut",
    "get",
    "remove",
    "clear",
    "retain",
    "len",
    "read",
    "write",
    "timeout",
    "connect_timeout",
    "build",
    "subscribe",
    "changed",
    "block_on",
    "iter",
    "map",
    "for_each",
    "pop",
    "take",
    "reset",
    "attach",
    "put",
    "notified",
    "closed",
    "shrink_to_fit",
    "into_inner",
    "try_lock",
    "blocking_send",
    "get_mut",
    "with_capacity",
];
const MACROS: &[&str] = &[
    "println",
    "eprintln",
    "format",
    "vec",
    "info",
    "tracing::warn",
    "debug",
    "assert",
    "dbg",
    "tokio::join",
    "tokio::try_join",
    "futures::join",
    "tokio::pin",
    "todo",
    "m",
    "my_macro",
    "spawn",
    "select_all",
];
const STRINGS: &[&str] = &[
    "\"\"",
    "\"/health\"",
    "\"{}\"",
    "\"x\\\"y\"",
    "r#\"raw \" string\"#",
    "\"two\nlines\"",
    "\"\u{1F980}\"",
    "b\"bytes\"",
    "'c'",
    "'\\u{1F980}'",
    "\"// taskcheck: allow(all)\"",
    "\"loop { tokio::spawn(x) }\"",
];
const TYPES: &[&str] = &[
    "u8",
    "u64",
    "usize",
    "String",
    "&'static str",
    "()",
    "bool",
    "Duration",
    "Instant",
    "CancellationToken",
    "JoinHandle<()>",
    "Bytes",
    "Box<[u8]>",
    "*mut u8",
    "Client",
];
const SELECT_MACROS: &[&str] = &["tokio::select!", "select!", "futures::select!", "futures::select_biased!"];
const ATTRS: &[&str] = &[
    "#[tokio::main]",
    "#[tokio::test]",
    "#[test]",
    "#[get(\"/\")]",
    "#[post(\"/jobs\")]",
    "#[instrument]",
    "#[cfg(test)]",
    "#[allow(dead_code)]",
    "#[async_trait]",
    "#[inline]",
];

/// The `use` lines every program starts with, so that paths resolve as in real code.
const PRELUDE: &str = "\
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

";

/// Statements as the lints' own ui-tests write them, with holes: `{A}` takes a block,
/// `{B}` an expression. A random tree seldom assembles a whole pattern (a detached
/// spawn of an endless loop, a sleep raced as a timeout, a guard forgotten); these
/// put one in reach, with generated code inside and around it.
const IDIOMS: &[&str] = &[
    "tokio::spawn(async move {A});",
    "let handle = tokio::spawn(async move { loop {A} });",
    "tokio::spawn(async move { loop { tokio::select! { _ = token.cancelled() => break, _ = interval.tick() => {A} } } });",
    "std::thread::spawn(move || loop {A});",
    "let worker = std::thread::spawn(move || {A});",
    "tokio::task::spawn_blocking(move || {A});",
    "let mut set = tokio::task::JoinSet::new(); set.spawn(async move {A});",
    "std::thread::scope(|s| { s.spawn(|| {A}); });",
    "while let Some(item) = rx.recv().await {A}",
    "loop { if token.is_cancelled() { break; } {A} }",
    "loop { match rx.recv() { Ok(item) => {A} Err(_) => break, } }",
    "loop { interval.tick().await; {A} }",
    "while !shutdown.load(std::sync::atomic::Ordering::Relaxed) {A}",
    "tokio::spawn(async move { tokio::time::sleep(Duration::from_secs(5)).await; {A} });",
    "tokio::select! { _ = tokio::time::sleep(Duration::from_secs(1)) => {A} x = {B} => {} }",
    "tokio::time::timeout(Duration::from_secs(1), async move {A}).await;",
    "std::thread::sleep(Duration::from_millis(10));",
    "std::future::pending::<()>().await;",
    "let (tx, rx) = tokio::sync::mpsc::unbounded_channel();",
    "let (tx, mut rx) = mpsc::channel(100_000);",
    "let (tx, rx) = std::sync::mpsc::channel();",
    "let (reply, wait) = tokio::sync::oneshot::channel(); tx.send(reply).await; let x = wait.await;",
    "CACHE.lock().unwrap().insert({B}, {B});",
    "REGISTRY.with(|m| m.borrow_mut().insert({B}, {B}));",
    "let guard = state.lock().unwrap(); std::mem::forget(guard);",
    "let _ = token.drop_guard();",
    "let child = token.child_token();",
    "let client = reqwest::Client::new();",
    "let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build();",
    "self.free.push({B});",
    "let buf = POOL.pull(|| Vec::new());",
    "let handle = tokio::spawn({B}); handle.abort();",
    "let (refresh_tx, refresh_rx) = mpsc::channel::<()>(1); refresh_tx.send(()).await; {A} refresh_rx.recv().await;",
    "let mut buf = BODY_BUF_POOL.lock().unwrap().pop().unwrap_or_default(); body.read_to_end(&mut buf); {A} BODY_BUF_POOL.lock().unwrap().push(buf);",
    "SPARE_MATCH_POOL.lock().unwrap().push({B});",
];

/// Items as the ui-tests write them, with a hole `{A}` for a block.
const ITEM_IDIOMS: &[&str] = &[
    "static CACHE: LazyLock<Mutex<HashMap<String, Vec<u8>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));",
    "thread_local! { static REGISTRY: RefCell<HashMap<u64, String>> = RefCell::new(HashMap::new()); }",
    "struct BufPool { free: Vec<Box<[u8]>> }",
    "impl BufPool { fn put(&mut self, b: Box<[u8]>) {A} fn get(&mut self) -> Option<Box<[u8]>> { self.free.pop() } }",
    "impl Drop for Server { fn drop(&mut self) {A} }",
    "#[tokio::main] async fn main() {A}",
    "async fn handler(State(state): State<App>) -> impl IntoResponse {A}",
    "#[get(\"/jobs\")] async fn start_job() -> HttpResponse {A}",
    "async fn run(token: CancellationToken, mut rx: mpsc::Receiver<u64>, mut interval: tokio::time::Interval) {A}",
    "fn spawn_worker(state: Arc<Mutex<Vec<u8>>>) {A}",
    "#[cfg(test)] mod tests { use super::*; #[tokio::test] async fn t() {A} }",
    "static POOL: Lazy<object_pool::Pool<Vec<u8>>> = Lazy::new(|| object_pool::Pool::new(32, Vec::new));",
    "pub struct Service { token: CancellationToken, tasks: Vec<tokio::task::JoinHandle<()>> }",
    "impl Service { pub fn start(&mut self) {A} pub async fn stop(self) { self.token.cancel(); } }",
    "static BODY_BUF_POOL: Lazy<Mutex<Vec<Vec<u8>>>> = Lazy::new(|| Mutex::new(Vec::new()));",
    "struct RouteMatch { route: Option<Arc<Route>>, params: Vec<String> }",
    "static SPARE_MATCH_POOL: Lazy<Mutex<Vec<RouteMatch>>> = Lazy::new(|| Mutex::new(Vec::with_capacity(256)));",
    "pub struct TokenCache { refresh_tx: mpsc::Sender<()>, refresh_rx: tokio::sync::Mutex<mpsc::Receiver<()>> }",
];

/// A pick from one of the fixed lists.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Pick(u8);

impl Pick {
    fn of(self, list: &[&'static str]) -> &'static str {
        list[usize::from(self.0) % list.len()]
    }
}

#[derive(Arbitrary, Debug)]
pub struct File {
    pub items: Vec<TopItem>,
    /// `// taskcheck: allow-file(..)` at the top. Last: a field read first is decided
    /// by the first bytes, which made nearly every program start with one.
    pub file_suppression: Option<Pick>,
}

#[derive(Arbitrary, Debug)]
pub enum Item {
    Fn(FnDef),
    Static(StaticDef),
    Struct {
        name: Pick,
        fields: Vec<(Pick, Ty)>,
    },
    Impl {
        ty: Pick,
        of: ImplOf,
        fns: Vec<FnDef>,
    },
    Mod {
        name: Pick,
        cfg_test: bool,
        items: Vec<Item>,
    },
    Use {
        path: Pick,
        rename: Option<Pick>,
    },
    Const {
        name: Pick,
        value: u32,
    },
    MacroRules {
        name: Pick,
        body: Block,
    },
    /// A macro invocation as an item (`m! { .. }`).
    Macro(MacroCall),
    /// A suppression comment (`// taskcheck: allow(..) -- reason`) on the line above.
    Suppressed {
        lint: Pick,
        with_reason: bool,
        item: Box<Item>,
    },
}

/// A top-level item: half the time one of [`ITEM_IDIOMS`], its hole filled with `body`.
#[derive(Arbitrary, Debug)]
pub enum TopItem {
    Idiom { which: Pick, body: Block },
    Item(Item),
}

#[derive(Arbitrary, Debug)]
pub enum ImplOf {
    Inherent,
    Drop,
    Default,
    Trait(Pick),
}

#[derive(Arbitrary, Debug)]
pub struct FnDef {
    pub attr: Option<Pick>,
    pub is_pub: bool,
    pub is_async: bool,
    pub name: Pick,
    pub receiver: Receiver,
    pub params: Vec<(Pick, Ty)>,
    pub ret: Option<Ty>,
    pub body: Block,
}

#[derive(Arbitrary, Debug)]
pub enum Receiver {
    None,
    Ref,
    RefMut,
    Value,
}

#[derive(Arbitrary, Debug)]
pub enum StaticKind {
    Static,
    StaticMut,
    ThreadLocal,
    LazyStatic,
    LazyLock,
    OnceLock,
    OnceCellLazy,
}

#[derive(Arbitrary, Debug)]
pub struct StaticDef {
    pub kind: StaticKind,
    pub is_pub: bool,
    pub name: Pick,
    pub ty: Ty,
    pub init: Expr,
}

#[derive(Arbitrary, Debug)]
pub enum Ty {
    Named(Pick),
    Plain(Pick),
    Vec(Box<Ty>),
    VecDeque(Box<Ty>),
    HashMap(Box<Ty>, Box<Ty>),
    BTreeMap(Box<Ty>, Box<Ty>),
    HashSet(Box<Ty>),
    Arc(Box<Ty>),
    Mutex(Box<Ty>),
    TokioMutex(Box<Ty>),
    RwLock(Box<Ty>),
    RefCell(Box<Ty>),
    Option(Box<Ty>),
    Sender(Box<Ty>),
    UnboundedSender(Box<Ty>),
    Receiver(Box<Ty>),
    Ref(bool, Box<Ty>),
    Tuple(Vec<Ty>),
    ImplFuture,
    BoxDynFn,
    Pool(Box<Ty>),
}

#[derive(Arbitrary, Debug)]
pub struct Block {
    pub stmts: Vec<Line>,
    pub tail: Option<Box<Expr>>,
}

#[derive(Arbitrary, Debug)]
pub enum Pat {
    Name(Pick),
    Mut(Pick),
    Pair(Pick, Pick),
    Some(Pick),
    Ok(Pick),
    Err,
    Wild,
}

#[derive(Arbitrary, Debug)]
pub enum Stmt {
    Let {
        pat: Pat,
        ty: Option<Ty>,
        init: Option<Expr>,
    },
    Expr(Expr),
    Loop {
        label: bool,
        body: Block,
    },
    While {
        cond: Expr,
        body: Block,
    },
    WhileTrue(Block),
    WhileLet {
        pat: Pat,
        expr: Expr,
        body: Block,
    },
    For {
        pat: Pat,
        iter: Expr,
        body: Block,
    },
    If {
        cond: Expr,
        then: Block,
        els: Option<Block>,
    },
    IfLet {
        pat: Pat,
        expr: Expr,
        then: Block,
    },
    Select(Select),
    Break {
        label: bool,
        value: Option<Expr>,
    },
    Continue,
    Return(Option<Expr>),
    Item(Box<Item>),
    /// A suppression comment on the line above the next statement.
    Suppression {
        lint: Pick,
        file_wide: bool,
    },
    Macro(MacroCall),
    Assign {
        to: Pick,
        value: Expr,
    },
}

/// A statement of a block: half the time one of [`IDIOMS`] (its holes filled with
/// `body` and `value`), so that whole patterns are common, not one choice in twenty.
#[derive(Arbitrary, Debug)]
pub enum Line {
    Idiom { which: Pick, body: Block, value: Expr },
    Stmt(Stmt),
}

#[derive(Arbitrary, Debug)]
pub struct Select {
    pub path: Pick,
    pub biased: bool,
    pub arms: Vec<SelectArm>,
    pub else_arm: Option<Block>,
}

#[derive(Arbitrary, Debug)]
pub struct SelectArm {
    pub pat: Pat,
    pub fut: Expr,
    pub guard: Option<Expr>,
    pub body: ArmBody,
}

#[derive(Arbitrary, Debug)]
pub enum ArmBody {
    Block(Block),
    Expr(Expr),
    Break,
    Return,
    Continue,
}

#[derive(Arbitrary, Debug)]
pub struct MacroCall {
    pub path: Pick,
    pub delim: Delim,
    pub format_string: bool,
    pub args: Vec<Expr>,
}

#[derive(Arbitrary, Debug)]
pub enum Delim {
    Paren,
    Bracket,
    Brace,
}

#[derive(Arbitrary, Debug)]
pub enum BinOp {
    Add,
    Lt,
    Eq,
    And,
    Or,
    AddAssign,
}

#[derive(Arbitrary, Debug)]
pub enum Callee {
    Known(Pick),
    Local(Pick),
    Assoc(Pick, Pick),
}

#[derive(Arbitrary, Debug)]
pub enum Expr {
    Name(Pick),
    Const(Pick),
    Lit(u16),
    Str(Pick),
    Bool(bool),
    Call {
        callee: Callee,
        args: Vec<Expr>,
    },
    Method {
        recv: Box<Expr>,
        method: Pick,
        turbofish: Option<Ty>,
        args: Vec<Expr>,
    },
    Await(Box<Expr>),
    Try(Box<Expr>),
    Field(Box<Expr>, Pick),
    Async {
        is_move: bool,
        body: Block,
    },
    Closure {
        is_move: bool,
        is_async: bool,
        params: Vec<Pick>,
        body: Box<Expr>,
    },
    Block(Block),
    Unsafe(Block),
    Loop(Block),
    If {
        cond: Box<Expr>,
        then: Block,
        els: Option<Block>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<(Pat, Expr)>,
    },
    Ref {
        is_mut: bool,
        expr: Box<Expr>,
    },
    Deref(Box<Expr>),
    Not(Box<Expr>),
    Binary(Box<Expr>, BinOp, Box<Expr>),
    Tuple(Vec<Expr>),
    Array(Vec<Expr>),
    Macro(MacroCall),
    Select(Box<Select>),
    Cast(Box<Expr>, Pick),
    StructLit {
        ty: Pick,
        fields: Vec<(Pick, Expr)>,
    },
    /// One construct repeated up to the engine's nesting limit and past it (see
    /// [`deep`]): the parser and the lints recurse once per level.
    Deep {
        shape: Pick,
        depth: u8,
    },
}

/// Renders programs; `out` grows as it goes.
struct Printer {
    out: String,
    indent: usize,
}

/// Renders `file` as Rust source text.
pub fn render(file: &File) -> String {
    let mut p = Printer { out: String::new(), indent: 0 };
    if let Some(lint) = file.file_suppression {
        p.out.push_str(&format!("// taskcheck: allow-file({})\n", lint.of(LINT_NAMES)));
    }
    p.out.push_str(PRELUDE);
    for item in file.items.iter().take(MAX_LIST * 2) {
        match item {
            TopItem::Idiom { which, body } => {
                let text = which.of(ITEM_IDIOMS).replace("{A}", &block(body, 1));
                p.line(&text);
            }
            TopItem::Item(item) => p.item(item, 0),
        }
    }
    p.out
}

fn list<T>(items: &[T]) -> &[T] {
    &items[..items.len().min(MAX_LIST)]
}

impl Printer {
    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match item {
            Item::Fn(f) => self.fn_def(f, false, depth),
            Item::Static(s) => {
                let line = static_def(s, depth);
                self.line(&line);
            }
            Item::Struct { name, fields } => {
                let fields: Vec<String> =
                    list(fields).iter().map(|(n, t)| format!("{}: {}", n.of(VALUE_NAMES), ty(t, depth + 1))).collect();
                self.line(&format!("struct {} {{ {} }}", name.of(TYPE_NAMES), fields.join(", ")));
            }
            Item::Impl { ty: t, of, fns } => {
                let t = t.of(TYPE_NAMES);
                match of {
                    ImplOf::Drop => {
                        self.line(&format!("impl Drop for {t} {{"));
                        self.indent += 1;
                        let body = fns.first().map(|f| block(&f.body, depth + 1)).unwrap_or_else(|| "{}".into());
                        self.line(&format!("fn drop(&mut self) {body}"));
                    }
                    ImplOf::Default => {
                        self.line(&format!("impl Default for {t} {{"));
                        self.indent += 1;
                        let body = fns.first().map(|f| block(&f.body, depth + 1)).unwrap_or_else(|| "{}".into());
                        self.line(&format!("fn default() -> Self {body}"));
                    }
                    ImplOf::Inherent | ImplOf::Trait(_) => {
                        match of {
                            ImplOf::Trait(tr) => self.line(&format!("impl {} for {t} {{", tr.of(TYPE_NAMES))),
                            _ => self.line(&format!("impl {t} {{")),
                        }
                        self.indent += 1;
                        for f in list(fns) {
                            self.fn_def(f, true, depth + 1);
                        }
                    }
                }
                self.indent -= 1;
                self.line("}");
            }
            Item::Mod { name, cfg_test, items } => {
                if *cfg_test {
                    self.line("#[cfg(test)]");
                }
                self.line(&format!("mod {} {{", name.of(VALUE_NAMES)));
                self.indent += 1;
                self.line("use super::*;");
                for i in list(items) {
                    self.item(i, depth + 1);
                }
                self.indent -= 1;
                self.line("}");
            }
            Item::Use { path, rename } => {
                // `use Self::..` does not parse; `use self::..` does.
                let path = path.of(FUNCTIONS).replace("Self::", "self::");
                match rename {
                    // `use Self::new` and the like do not resolve but parse.
                    Some(r) => self.line(&format!("use {path} as {};", r.of(FN_NAMES))),
                    None if path.contains("::") => self.line(&format!("use {path};")),
                    None => self.line(&format!("use std::{path};")),
                }
            }
            Item::Const { name, value } => {
                self.line(&format!("const {}: u64 = {value};", name.of(CONST_NAMES)));
            }
            Item::MacroRules { name, body } => {
                let name = name.of(&["m", "my_macro", "spawn", "forever"]);
                let body = block(body, depth + 1);
                self.line(&format!(
                    "macro_rules! {name} {{ () => {{ {body} }}; ($e:expr) => {{ {{ let _ = $e; }} }}; }}"
                ));
            }
            Item::Macro(m) => {
                let text = macro_call(m, depth + 1);
                let needs_semi = !matches!(m.delim, Delim::Brace);
                self.line(&format!("{text}{}", if needs_semi { ";" } else { "" }));
            }
            Item::Suppressed { lint, with_reason, item } => {
                let reason = if *with_reason { " -- reviewed" } else { "" };
                self.line(&format!("// taskcheck: allow({}){reason}", lint.of(LINT_NAMES)));
                self.item(item, depth + 1);
            }
        }
    }

    fn fn_def(&mut self, f: &FnDef, in_impl: bool, depth: usize) {
        if let Some(a) = f.attr {
            self.line(a.of(ATTRS));
        }
        let mut params: Vec<String> = Vec::new();
        if in_impl {
            match f.receiver {
                Receiver::None => {}
                Receiver::Ref => params.push("&self".into()),
                Receiver::RefMut => params.push("&mut self".into()),
                Receiver::Value => params.push("self".into()),
            }
        }
        params.extend(list(&f.params).iter().map(|(n, t)| format!("{}: {}", n.of(VALUE_NAMES), ty(t, depth + 1))));
        let ret = f.ret.as_ref().map(|t| format!(" -> {}", ty(t, depth + 1))).unwrap_or_default();
        let line = format!(
            "{}{}fn {}({}){ret} {}",
            if f.is_pub { "pub " } else { "" },
            if f.is_async { "async " } else { "" },
            f.name.of(FN_NAMES),
            params.join(", "),
            block(&f.body, depth + 1)
        );
        self.line(&line);
    }
}

fn static_def(s: &StaticDef, depth: usize) -> String {
    let vis = if s.is_pub { "pub " } else { "" };
    let name = s.name.of(CONST_NAMES);
    let t = ty(&s.ty, depth + 1);
    let init = expr(&s.init, depth + 1);
    match s.kind {
        StaticKind::Static => format!("{vis}static {name}: {t} = {init};"),
        StaticKind::StaticMut => format!("{vis}static mut {name}: {t} = {init};"),
        StaticKind::ThreadLocal => format!("thread_local! {{ {vis}static {name}: {t} = {init}; }}"),
        StaticKind::LazyStatic => format!("lazy_static! {{ {vis}static ref {name}: {t} = {init}; }}"),
        StaticKind::LazyLock => format!("{vis}static {name}: LazyLock<{t}> = LazyLock::new(|| {init});"),
        StaticKind::OnceLock => format!("{vis}static {name}: OnceLock<{t}> = OnceLock::new();"),
        StaticKind::OnceCellLazy => format!("{vis}static {name}: once_cell::sync::Lazy<{t}> = Lazy::new(|| {init});"),
    }
}

fn ty(t: &Ty, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "u8".into();
    }
    let d = depth + 1;
    match t {
        Ty::Named(n) => n.of(TYPE_NAMES).into(),
        Ty::Plain(n) => n.of(TYPES).into(),
        Ty::Vec(t) => format!("Vec<{}>", ty(t, d)),
        Ty::VecDeque(t) => format!("VecDeque<{}>", ty(t, d)),
        Ty::HashMap(k, v) => format!("HashMap<{}, {}>", ty(k, d), ty(v, d)),
        Ty::BTreeMap(k, v) => format!("std::collections::BTreeMap<{}, {}>", ty(k, d), ty(v, d)),
        Ty::HashSet(t) => format!("HashSet<{}>", ty(t, d)),
        Ty::Arc(t) => format!("Arc<{}>", ty(t, d)),
        Ty::Mutex(t) => format!("std::sync::Mutex<{}>", ty(t, d)),
        Ty::TokioMutex(t) => format!("tokio::sync::Mutex<{}>", ty(t, d)),
        Ty::RwLock(t) => format!("RwLock<{}>", ty(t, d)),
        Ty::RefCell(t) => format!("RefCell<{}>", ty(t, d)),
        Ty::Option(t) => format!("Option<{}>", ty(t, d)),
        Ty::Sender(t) => format!("mpsc::Sender<{}>", ty(t, d)),
        Ty::UnboundedSender(t) => format!("UnboundedSender<{}>", ty(t, d)),
        Ty::Receiver(t) => format!("mpsc::Receiver<{}>", ty(t, d)),
        Ty::Ref(is_mut, t) => format!("&{}{}", if *is_mut { "mut " } else { "" }, ty(t, d)),
        Ty::Tuple(ts) => match list(ts) {
            [] => "()".into(),
            [one] => format!("({},)", ty(one, d)),
            many => format!("({})", many.iter().map(|t| ty(t, d)).collect::<Vec<_>>().join(", ")),
        },
        // No `+ Send`: after `&` it would be an ambiguous `+`.
        Ty::ImplFuture => "impl std::future::Future<Output = ()>".into(),
        Ty::BoxDynFn => "Box<dyn Fn() + Send + Sync>".into(),
        Ty::Pool(t) => format!("object_pool::Pool<{}>", ty(t, d)),
    }
}

fn block(b: &Block, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "{}".into();
    }
    let mut parts: Vec<String> = list(&b.stmts).iter().map(|l| line(l, depth + 1)).collect();
    if let Some(t) = &b.tail {
        parts.push(expr(t, depth + 1));
    }
    if parts.is_empty() {
        "{}".into()
    } else {
        // A statement per line: suppression comments apply to the line below them.
        format!("{{\n{}\n}}", parts.join("\n"))
    }
}

fn pat(p: &Pat) -> String {
    match p {
        Pat::Name(n) => n.of(VALUE_NAMES).into(),
        Pat::Mut(n) => format!("mut {}", n.of(VALUE_NAMES)),
        Pat::Pair(a, b) => format!("({}, {})", a.of(VALUE_NAMES), b.of(VALUE_NAMES)),
        Pat::Some(n) => format!("Some({})", n.of(VALUE_NAMES)),
        Pat::Ok(n) => format!("Ok({})", n.of(VALUE_NAMES)),
        Pat::Err => "Err(_)".into(),
        Pat::Wild => "_".into(),
    }
}

fn line(l: &Line, depth: usize) -> String {
    match l {
        Line::Idiom { which, body, value } => {
            which.of(IDIOMS).replace("{A}", &block(body, depth + 1)).replace("{B}", &operand(value, depth + 1))
        }
        Line::Stmt(s) => stmt(s, depth),
    }
}

fn stmt(s: &Stmt, depth: usize) -> String {
    let d = depth + 1;
    match s {
        Stmt::Let { pat: p, ty: t, init } => {
            let t = t.as_ref().map(|t| format!(": {}", ty(t, d))).unwrap_or_default();
            let init = init.as_ref().map(|e| format!(" = {}", expr(e, d))).unwrap_or_default();
            format!("let {}{t}{init};", pat(p))
        }
        Stmt::Expr(e) => format!("{};", expr(e, d)),
        Stmt::Loop { label, body } => {
            format!("{}loop {}", if *label { "'outer: " } else { "" }, block(body, d))
        }
        Stmt::While { cond, body } => format!("while {} {}", operand(cond, d), block(body, d)),
        Stmt::WhileTrue(body) => format!("while true {}", block(body, d)),
        Stmt::WhileLet { pat: p, expr: e, body } => {
            format!("while let {} = {} {}", pat(p), operand(e, d), block(body, d))
        }
        Stmt::For { pat: p, iter, body } => format!("for {} in {} {}", pat(p), operand(iter, d), block(body, d)),
        Stmt::If { cond, then, els } => {
            let els = els.as_ref().map(|b| format!(" else {}", block(b, d))).unwrap_or_default();
            format!("if {} {}{els}", operand(cond, d), block(then, d))
        }
        Stmt::IfLet { pat: p, expr: e, then } => {
            format!("if let {} = {} {}", pat(p), operand(e, d), block(then, d))
        }
        Stmt::Select(s) => select(s, d),
        Stmt::Break { label, value } => {
            let label = if *label { " 'outer" } else { "" };
            let value = value.as_ref().map(|e| format!(" {}", operand(e, d))).unwrap_or_default();
            format!("break{label}{value};")
        }
        Stmt::Continue => "continue;".into(),
        Stmt::Return(value) => {
            let value = value.as_ref().map(|e| format!(" {}", expr(e, d))).unwrap_or_default();
            format!("return{value};")
        }
        Stmt::Item(item) => {
            let mut p = Printer { out: String::new(), indent: 0 };
            p.item(item, d);
            p.out
        }
        Stmt::Suppression { lint, file_wide } => {
            let kind = if *file_wide { "allow-file" } else { "allow" };
            format!("// taskcheck: {kind}({}) -- fuzz", lint.of(LINT_NAMES))
        }
        Stmt::Macro(m) => format!("{};", macro_call(m, d)),
        Stmt::Assign { to, value } => format!("{} = {};", to.of(VALUE_NAMES), expr(value, d)),
    }
}

fn select(s: &Select, depth: usize) -> String {
    let d = depth + 1;
    let mut out = format!("{} {{\n", s.path.of(SELECT_MACROS));
    if s.biased {
        out.push_str("biased;\n");
    }
    for arm in list(&s.arms) {
        let guard = arm.guard.as_ref().map(|g| format!(", if {}", operand(g, d))).unwrap_or_default();
        let body = match &arm.body {
            ArmBody::Block(b) => block(b, d),
            ArmBody::Expr(e) => expr(e, d),
            ArmBody::Break => "break".into(),
            ArmBody::Return => "return".into(),
            ArmBody::Continue => "continue".into(),
        };
        out.push_str(&format!("{} = {}{guard} => {body},\n", pat(&arm.pat), expr(&arm.fut, d)));
    }
    if let Some(b) = &s.else_arm {
        out.push_str(&format!("else => {},\n", block(b, d)));
    }
    out.push('}');
    out
}

fn macro_call(m: &MacroCall, depth: usize) -> String {
    let d = depth + 1;
    let mut args: Vec<String> = Vec::new();
    if m.format_string {
        args.push("\"{:?}\"".into());
    }
    args.extend(list(&m.args).iter().map(|e| expr(e, d)));
    let (open, close) = match m.delim {
        Delim::Paren => ("(", ")"),
        Delim::Bracket => ("[", "]"),
        Delim::Brace => ("{ ", " }"),
    };
    format!("{}!{open}{}{close}", m.path.of(MACROS), args.join(", "))
}

/// Whether `e` can be the operand of a postfix or binary operator as it is (`x.f()`,
/// `f()?`) rather than in parentheses: blocks, closures, literals (`1.f` lexes as a
/// float) and operators need them.
fn is_atomic(e: &Expr) -> bool {
    match e {
        Expr::Name(_)
        | Expr::Const(_)
        | Expr::Str(_)
        | Expr::Bool(_)
        | Expr::Call { .. }
        | Expr::Method { .. }
        | Expr::Await(_)
        | Expr::Try(_)
        | Expr::Field(..)
        | Expr::Tuple(_)
        | Expr::Array(_) => true,
        Expr::Macro(m) => !matches!(m.delim, Delim::Brace),
        _ => false,
    }
}

/// `e`, in parentheses unless it is atomic.
fn operand(e: &Expr, depth: usize) -> String {
    let text = expr(e, depth);
    if is_atomic(e) && depth <= MAX_DEPTH {
        text
    } else {
        format!("({text})")
    }
}

fn exprs(es: &[Expr], depth: usize) -> String {
    list(es).iter().map(|e| expr(e, depth)).collect::<Vec<_>>().join(", ")
}

fn expr(e: &Expr, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "x".into();
    }
    let d = depth + 1;
    match e {
        Expr::Name(n) => n.of(VALUE_NAMES).into(),
        Expr::Const(n) => n.of(CONST_NAMES).into(),
        Expr::Lit(n) => n.to_string(),
        Expr::Str(s) => s.of(STRINGS).into(),
        Expr::Bool(b) => b.to_string(),
        Expr::Call { callee, args } => {
            let callee = match callee {
                Callee::Known(p) => p.of(FUNCTIONS).to_string(),
                Callee::Local(p) => p.of(FN_NAMES).to_string(),
                Callee::Assoc(t, f) => format!("{}::{}", t.of(TYPE_NAMES), f.of(FN_NAMES)),
            };
            format!("{callee}({})", exprs(args, d))
        }
        Expr::Method { recv, method, turbofish, args } => {
            let turbofish = turbofish.as_ref().map(|t| format!("::<{}>", ty(t, d))).unwrap_or_default();
            format!("{}.{}{turbofish}({})", operand(recv, d), method.of(METHODS), exprs(args, d))
        }
        Expr::Await(e) => format!("{}.await", operand(e, d)),
        Expr::Try(e) => format!("{}?", operand(e, d)),
        Expr::Field(e, f) => format!("{}.{}", operand(e, d), f.of(VALUE_NAMES)),
        Expr::Async { is_move, body } => format!("async {}{}", if *is_move { "move " } else { "" }, block(body, d)),
        Expr::Closure { is_move, is_async, params, body } => {
            let params: Vec<&str> = list(params).iter().map(|p| p.of(VALUE_NAMES)).collect();
            format!(
                "{}{}|{}| {}",
                if *is_async { "async " } else { "" },
                if *is_move { "move " } else { "" },
                params.join(", "),
                expr(body, d)
            )
        }
        Expr::Block(b) => block(b, d),
        Expr::Unsafe(b) => format!("unsafe {}", block(b, d)),
        Expr::Loop(b) => format!("loop {}", block(b, d)),
        Expr::If { cond, then, els } => {
            let els = els.as_ref().map(|b| format!(" else {}", block(b, d))).unwrap_or_default();
            format!("if {} {}{els}", operand(cond, d), block(then, d))
        }
        Expr::Match { scrutinee, arms } => {
            let arms: Vec<String> = list(arms).iter().map(|(p, e)| format!("{} => {},", pat(p), expr(e, d))).collect();
            format!("match {} {{\n{}\n}}", operand(scrutinee, d), arms.join("\n"))
        }
        Expr::Ref { is_mut, expr: e } => format!("&{}{}", if *is_mut { "mut " } else { "" }, operand(e, d)),
        Expr::Deref(e) => format!("*{}", operand(e, d)),
        Expr::Not(e) => format!("!{}", operand(e, d)),
        Expr::Binary(a, op, b) => {
            let op = match op {
                BinOp::Add => "+",
                BinOp::Lt => "<",
                BinOp::Eq => "==",
                BinOp::And => "&&",
                BinOp::Or => "||",
                BinOp::AddAssign => "+=",
            };
            format!("{} {op} {}", operand(a, d), operand(b, d))
        }
        Expr::Tuple(es) => match list(es) {
            [] => "()".into(),
            [one] => format!("({},)", expr(one, d)),
            _ => format!("({})", exprs(es, d)),
        },
        Expr::Array(es) => format!("[{}]", exprs(es, d)),
        Expr::Macro(m) => macro_call(m, d),
        Expr::Select(s) => select(s, d),
        Expr::Cast(e, t) => format!("{} as {}", operand(e, d), t.of(&["u8", "u64", "usize", "i32", "f64"])),
        Expr::StructLit { ty: t, fields } => {
            let fields: Vec<String> =
                list(fields).iter().map(|(n, e)| format!("{}: {}", n.of(VALUE_NAMES), expr(e, d))).collect();
            format!("{} {{ {} }}", t.of(TYPE_NAMES), fields.join(", "))
        }
        Expr::Deep { shape, depth } => deep(*shape, usize::from(*depth)),
    }
}

/// `levels` levels of one construct, scaled by what one level costs in the engine's
/// estimate of recursion depth (a closure a quarter, a chain link a sixteenth; see
/// `taskcheck-core/src/parse.rs`), so that a `u8` reaches the limit of 256 and passes
/// it. Past the limit the engine refuses the file (an input error, by design).
fn deep(shape: Pick, levels: usize) -> String {
    let wrap = |open: &str, inner: &str, close: &str, n: usize| format!("{}{inner}{}", open.repeat(n), close.repeat(n));
    match shape.0 % 16 {
        0 => wrap("(", "x", ")", levels),
        1 => format!("x{}", ".b()".repeat(levels * 16)),
        2 => format!("1{}", " + 1".repeat(levels * 16)),
        3 => format!("{}1", "|| ".repeat(levels * 4)),
        4 => format!("{}x", "&".repeat(levels)),
        5 => format!("{}x", "- ".repeat(levels)),
        6 => format!("g::<{}>()", wrap("Option<", "u8", ">", levels)),
        7 => wrap("{ ", "x", " }", levels),
        8 => wrap("async move { ", "x", " }", levels),
        9 => wrap("match x { _ => ", "1", " }", levels),
        10 => format!("if a {{ 1 }}{} else {{ 2 }}", " else if a { 1 }".repeat(levels * 16)),
        11 => format!("x{}", "?".repeat(levels * 16)),
        12 => format!("x{}", ".await".repeat(levels * 16)),
        13 => wrap("tokio::spawn(async move { loop { ", "x.tick().await", " } })", levels),
        14 => wrap("vec![", "1", "]", levels),
        _ => wrap("Box::new(move || { ", "1", " })", levels),
    }
}
