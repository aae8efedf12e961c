//! Hand-written object pools (a `static`, or a struct field named after a pool, a free
//! list or a recycler) whose elements keep other objects alive while they sit idle.
//! Every pool below resets the element's own data before reuse, so the put itself is
//! fine; what it forgets is the pointer field: an `Arc`, `Rc`/`Weak` tree links, a
//! borrowed slice, raw pointers or a boxed callback. Whatever that field points at
//! cannot be freed until the element is handed out again, which for a pool sized for
//! peak load may be never. One pool does no reset at all and gets both findings.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};

use crossbeam_queue::SegQueue;
use once_cell::sync::Lazy;

// ---- a static pool of route matches in a reverse proxy (`Option<Arc<..>>`) -----------

/// One routing-table entry. A config reload builds a new table; the old routes are
/// freed when the last request that matched them lets go.
pub struct Route {
    pub prefix: String,
    pub upstreams: Vec<String>,
}

/// The result of matching one request, recycled to save the `params` allocation.
#[derive(Default)]
pub struct RouteMatch {
    route: Option<Arc<Route>>,
    params: Vec<(String, String)>,
}

impl RouteMatch {
    fn bind(&mut self, route: &Arc<Route>) {
        self.route = Some(Arc::clone(route));
    }
}

/// Spare matches still point at the route they last matched: after a reload every idle
/// match pins the old routing table, upstream lists included.
static SPARE_MATCH_POOL: Lazy<Mutex<Vec<RouteMatch>>> = Lazy::new(|| Mutex::new(Vec::with_capacity(256))); //~ pool_holds_pointers

fn spare_match() -> RouteMatch {
    SPARE_MATCH_POOL.lock().unwrap().pop().unwrap_or_default()
}

pub fn match_route(table: &[Arc<Route>], path: &str) -> Option<RouteMatch> {
    let route = table.iter().find(|r| path.starts_with(&r.prefix))?;
    let mut m = spare_match();
    m.bind(route);
    Some(m)
}

pub fn finish_request(mut m: RouteMatch) {
    m.params.clear();
    SPARE_MATCH_POOL.lock().unwrap().push(m);
}

// ---- a struct-field free list in a DOM builder (`Weak` parent, `Vec<Rc<..>>` children)

/// An element of the document tree.
pub struct Element {
    pub tag: String,
    pub attrs: Vec<(String, String)>,
    parent: Option<Weak<RefCell<Element>>>,
    children: Vec<Rc<RefCell<Element>>>,
}

impl Element {
    /// Clears the element's own text so its allocations can be reused. The tree links
    /// are left alone: `children` keeps the whole previous subtree alive.
    pub fn reset(&mut self) {
        self.tag.clear();
        self.attrs.clear();
    }
}

/// Builders of one document share a free list of elements.
pub struct TreeBuilder {
    open: Vec<Rc<RefCell<Element>>>,
    free: Rc<RefCell<Vec<Element>>>, //~ pool_holds_pointers
}

impl TreeBuilder {
    fn alloc(&self, tag: &str) -> Element {
        let mut el = self.free.borrow_mut().pop().unwrap_or_else(|| Element {
            tag: String::new(),
            attrs: Vec::new(),
            parent: None,
            children: Vec::new(),
        });
        el.tag.push_str(tag);
        el
    }

    pub fn open(&mut self, tag: &str) {
        let el = Rc::new(RefCell::new(self.alloc(tag)));
        if let Some(top) = self.open.last() {
            el.borrow_mut().parent = Some(Rc::downgrade(top));
            top.borrow_mut().children.push(Rc::clone(&el));
        }
        self.open.push(el);
    }

    /// Recycles a detached subtree root once nothing else refers to it.
    pub fn discard(&self, node: Rc<RefCell<Element>>) {
        if let Ok(cell) = Rc::try_unwrap(node) {
            let mut el = cell.into_inner();
            el.reset();
            self.free.borrow_mut().push(el);
        }
    }
}

// ---- a pool struct of broker subscriptions (`Box<dyn Fn>`), with no reset at all ----

pub type Handler = Box<dyn Fn(&[u8]) + Send + Sync>;

pub struct Subscription {
    pub topic: String,
    pending: VecDeque<Vec<u8>>,
    on_message: Box<dyn Fn(&[u8]) + Send + Sync>,
}

impl Subscription {
    fn rebind(&mut self, topic: &str, handler: Handler) {
        self.topic = topic.to_owned();
        self.on_message = handler;
    }
}

/// A cancelled subscription goes back with its undelivered `pending` messages (the next
/// subscriber, to any topic, receives them) and with its callback, which captures the
/// old subscriber's connection: parked here, it keeps that socket and queue open.
pub struct SubscriptionPool {
    idle: Mutex<VecDeque<Subscription>>, //~ pool_holds_pointers
}

impl SubscriptionPool {
    fn take(&self) -> Option<Subscription> {
        self.idle.lock().unwrap().pop_front()
    }

    pub fn subscribe(&self, topic: &str, handler: Handler) -> Subscription {
        match self.take() {
            Some(mut sub) => {
                sub.rebind(topic, handler);
                sub
            }
            None => Subscription { topic: topic.to_owned(), pending: VecDeque::new(), on_message: handler },
        }
    }

    pub fn cancelled(&self, sub: Subscription) {
        self.idle.lock().unwrap().push_back(sub); //~ pool_put_without_reset
    }
}

// ---- a parser's node free list borrowing the source text (`&'src str`) ---------------

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Ident,
    Literal,
    Call,
}

/// A syntax node; `text` borrows the file it was parsed from.
pub struct Node<'src> {
    pub kind: NodeKind,
    pub text: &'src str,
    pub children: Vec<u32>,
}

/// The language server's incremental parser, alive for the whole session. Recycled
/// nodes keep borrowing the file they came from, so every file ever parsed must
/// outlive the parser: a closed file's buffer can never be dropped.
pub struct Parser<'src> {
    free_nodes: RefCell<Vec<Node<'src>>>, //~ pool_holds_pointers
}

impl<'src> Parser<'src> {
    fn node(&self, kind: NodeKind, text: &'src str) -> Node<'src> {
        match self.free_nodes.borrow_mut().pop() {
            Some(node) => Node { kind, text, children: node.children },
            None => Node { kind, text, children: Vec::new() },
        }
    }

    pub fn ident_at(&self, file: &'src str, pos: &mut usize) -> Option<Node<'src>> {
        let rest = &file[*pos..];
        let len = rest.find(|c: char| !c.is_alphanumeric() && c != '_').unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        *pos += len;
        Some(self.node(NodeKind::Ident, &rest[..len]))
    }

    pub fn release(&self, mut node: Node<'src>) {
        node.children.clear();
        self.free_nodes.borrow_mut().push(node);
    }
}

// ---- a lock-free static free list of timer entries (raw pointers, behind an alias) ---

pub struct TaskHeader {
    pub id: u64,
    pub state: std::sync::atomic::AtomicUsize,
}

/// An entry of the timer wheel's intrusive wait list.
pub struct TimerEntry {
    deadline: u64,
    fired: bool,
    task: *const TaskHeader,
    next: *mut TimerEntry,
}

// SAFETY: entries are only dereferenced by the wheel thread that owns the list.
unsafe impl Send for TimerEntry {}

pub type EntryBox = Box<TimerEntry>;

/// Idle entries keep the `task` and `next` pointers of their last use: the task header
/// is refcounted by the wheel per entry that names it, so every parked entry pins one.
static FREE_TIMER_ENTRIES: SegQueue<EntryBox> = SegQueue::new(); //~ pool_holds_pointers

impl TimerEntry {
    fn rearm(&mut self, task: *const TaskHeader, deadline: u64) {
        self.task = task;
        self.deadline = deadline;
    }
}

pub fn arm(task: *const TaskHeader, deadline: u64) -> EntryBox {
    let mut entry = FREE_TIMER_ENTRIES
        .pop()
        .unwrap_or_else(|| Box::new(TimerEntry { deadline: 0, fired: false, task, next: std::ptr::null_mut() }));
    entry.rearm(task, deadline);
    entry
}

pub fn retire(mut entry: EntryBox) {
    entry.deadline = 0;
    entry.fired = false;
    FREE_TIMER_ENTRIES.push(entry);
}
