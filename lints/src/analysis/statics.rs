//! Process-wide collections: statics (also inside `lazy_static!`, `thread_local!` and
//! `cfg_if!`, and in fn bodies), the inserts and removals the crate makes on them
//! (directly, through derived bindings, or through accessor fns), and `#[cached]` fns.
//! Per-file facts only; `unbounded_static_map` joins them per crate.

use std::collections::HashMap;

use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Token};
use taskcheck_core::{SourceFile, Span};

use super::idents::pat_idents;
use super::testcode::is_test_item;

/// A static (or thread-local) item.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct StaticDecl {
    pub name: String,
    /// The static's name.
    pub span: Span,
    /// Every identifier of its type, in order (`Lazy`, `Mutex`, `HashMap`, `String`, ..).
    pub ty: Vec<String>,
    /// `static mut`.
    pub is_mut: bool,
    /// `thread_local!`: a `RefCell`/`Cell` per thread, mutable through `with`.
    pub thread_local: bool,
    /// Built as an unbounded cache (`LruCache::unbounded()`, a moka builder with no
    /// capacity, `UnboundCache`).
    pub unbounded_cache: bool,
    pub in_test: bool,
}

/// What a use does to the collection.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseKind {
    /// `insert`/`entry`/`push*`/`extend`/`get_or_insert*`.
    Insert {
        /// Every key or element is from a finite domain (literal, const, enum variant,
        /// `TypeId`).
        finite: bool,
        /// Under a `len()`/limit check.
        guarded: bool,
    },
    /// A removal; `bounds` is false for lazy expiry (a removal in a branch that looked
    /// up the same map first) outside `Drop`/`unregister`/`evict`/`close`/`forget`.
    Remove { bounds: bool },
}

/// What a use is made on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum UseTarget {
    /// A static by name.
    Static(String),
    /// The value returned by a crate-local fn (an accessor, resolved in the join).
    Accessor(String),
}

/// One use of a (possible) static collection.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct StaticUse {
    pub target: UseTarget,
    pub kind: UseKind,
    pub span: Span,
    pub in_test: bool,
}

/// Everything about statics in one file.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct StaticFacts {
    pub decls: Vec<StaticDecl>,
    pub uses: Vec<StaticUse>,
    /// `fn name() -> .. { STATIC.get_or_init(..) }`: fns returning a static (or another
    /// accessor's value).
    pub accessors: Vec<(String, UseTarget)>,
    /// `type Name = ..;` with the identifiers of the aliased type.
    pub aliases: Vec<(String, Vec<String>)>,
    /// `#[cached]`/`#[memoize]` fns with no size or time bound: the attribute's span.
    pub cached_fns: Vec<(Span, bool)>,
}

/// Collects the static facts of a file.
pub fn static_facts(src: &SourceFile, ast: &syn::File) -> StaticFacts {
    let mut v = Collector { src, out: StaticFacts::default(), in_test: false, fns: Vec::new() };
    for item in &ast.items {
        v.visit_item(item);
    }
    v.out
}

/// Methods that reach the collection inside a wrapper (`X.lock().unwrap()`).
fn is_deref_method(name: &str) -> bool {
    matches!(
        name,
        "lock"
            | "read"
            | "write"
            | "borrow"
            | "borrow_mut"
            | "get_or_init"
            | "get_or_try_init"
            | "force"
            | "unwrap"
            | "expect"
            | "unwrap_or_else"
            | "as_mut"
            | "as_ref"
            | "get_mut"
            | "deref"
            | "deref_mut"
            | "lock_arc"
            | "blocking_lock"
            | "try_lock"
    )
}

fn is_insert_method(name: &str) -> bool {
    matches!(name, "insert" | "entry" | "push" | "push_back" | "push_front" | "extend" | "append")
        || name.starts_with("get_or_insert")
        || name.starts_with("insert_")
}

fn is_remove_method(name: &str) -> bool {
    ["remove", "retain", "clear", "drain", "pop", "truncate", "split_off", "take", "evict", "extract_if"]
        .iter()
        .any(|w| name.contains(w))
}

fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_ascii_lowercase())
}

/// A key or element from a finite domain: a literal, a const, an enum variant path,
/// `TypeId::of::<T>()`, `type_name::<T>()`.
fn is_finite_key(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Reference(r) => is_finite_key(&r.expr),
        Expr::Paren(p) => is_finite_key(&p.expr),
        Expr::Path(p) => {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let last = segs.last().map(String::as_str).unwrap_or("");
            is_screaming(last) || segs.len() >= 2 && last.starts_with(|c: char| c.is_ascii_uppercase())
        }
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => {
                let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                // A tuple variant call (`Kind::Custom(name)`) may carry anything: unbounded.
                segs.ends_with(&["TypeId".to_string(), "of".to_string()])
                    || segs.last().is_some_and(|l| l == "type_name")
            }
            _ => false,
        },
        Expr::MethodCall(m) if m.method == "into" || m.method == "to_string" || m.method == "to_owned" => {
            matches!(&*m.receiver, Expr::Lit(_))
        }
        _ => false,
    }
}

/// Whether a condition checks the size against a limit (`len()`, `limit`, `max`, `cap`).
fn is_limit_check(cond: &Expr) -> bool {
    let mut found = false;
    fn scan(ts: proc_macro2::TokenStream, found: &mut bool) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    let s = i.to_string().to_lowercase();
                    if s == "len" || s.contains("limit") || s.contains("max") || s.contains("cap") {
                        *found = true;
                    }
                }
                proc_macro2::TokenTree::Group(g) => scan(g.stream(), found),
                _ => {}
            }
        }
    }
    scan(cond.to_token_stream(), &mut found);
    found
}

/// Per-fn state.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct FnState {
    name: String,
    is_drop: bool,
    /// Bindings derived from a static or accessor.
    derived: HashMap<String, UseTarget>,
    /// Roots looked up by enclosing `if`/`match` conditions (lazy expiry).
    looked_up: Vec<UseTarget>,
    /// A limit check was seen: later inserts in this fn are guarded.
    guarded: bool,
}

struct Collector<'a> {
    src: &'a SourceFile,
    out: StaticFacts,
    in_test: bool,
    fns: Vec<FnState>,
}

impl Collector<'_> {
    fn span(&self, s: proc_macro2::Span) -> Span {
        self.src.span_of(s)
    }

    /// The static or accessor an expression reaches through derive steps.
    fn root_of(&self, e: &Expr) -> Option<UseTarget> {
        match e {
            Expr::MethodCall(m) if is_deref_method(&m.method.to_string()) => self.root_of(&m.receiver),
            // `OnceLock::get()` (a map's `get(&k)` is a lookup, not the map).
            Expr::MethodCall(m) if m.method == "get" && m.args.is_empty() => self.root_of(&m.receiver),
            Expr::Try(t) => self.root_of(&t.expr),
            Expr::Await(a) => self.root_of(&a.base),
            Expr::Paren(p) => self.root_of(&p.expr),
            Expr::Reference(r) => self.root_of(&r.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.root_of(&u.expr),
            // A collection inside a struct in the static (`STATE.lock().sessions`).
            Expr::Field(f) => self.root_of(&f.base),
            Expr::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?.ident.to_string();
                if p.path.segments.len() == 1 {
                    if let Some(t) = self.fns.last().and_then(|f| f.derived.get(&last)) {
                        return Some(t.clone());
                    }
                }
                is_screaming(&last).then_some(UseTarget::Static(last))
            }
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) => {
                    let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                    let last = segs.last()?.clone();
                    // `Lazy::force(&X)`
                    if last == "force" {
                        return c.args.first().and_then(|a| self.root_of(a));
                    }
                    // A possible accessor (`sessions()`, `state::sessions()`): the join
                    // keeps it only if the crate defines an accessor of that name.
                    let accessor = c.args.is_empty() && last.starts_with(|ch: char| ch.is_ascii_lowercase());
                    accessor.then_some(UseTarget::Accessor(last))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn bind(&mut self, pat: &Pat, target: UseTarget) {
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        if let Some(f) = self.fns.last_mut() {
            for n in names {
                f.derived.insert(n, target.clone());
            }
        }
    }

    fn record(&mut self, target: UseTarget, kind: UseKind, span: proc_macro2::Span) {
        let span = self.span(span);
        let in_test = self.in_test;
        self.out.uses.push(StaticUse { target, kind, span, in_test });
    }

    fn removal_bounds(&self, target: &UseTarget) -> bool {
        let Some(f) = self.fns.last() else { return true };
        let always = f.is_drop || matches!(f.name.as_str(), "unregister" | "evict" | "close" | "forget");
        always || !f.looked_up.contains(target)
    }

    fn lookups_in(&self, cond: &Expr) -> Vec<UseTarget> {
        struct L<'c, 'a> {
            c: &'c Collector<'a>,
            out: Vec<UseTarget>,
        }
        impl<'ast> Visit<'ast> for L<'_, '_> {
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                let n = m.method.to_string();
                if matches!(n.as_str(), "get" | "get_mut" | "contains_key" | "contains" | "entry") {
                    if let Some(t) = self.c.root_of(&m.receiver) {
                        self.out.push(t);
                    }
                }
                visit::visit_expr_method_call(self, m);
            }
        }
        let mut l = L { c: self, out: Vec::new() };
        l.visit_expr(cond);
        l.out
    }

    fn with_lookups(&mut self, lookups: Vec<UseTarget>, f: impl FnOnce(&mut Self)) {
        let n = lookups.len();
        if let Some(s) = self.fns.last_mut() {
            s.looked_up.extend(lookups);
        }
        f(self);
        if let Some(s) = self.fns.last_mut() {
            let keep = s.looked_up.len() - n;
            s.looked_up.truncate(keep);
        }
    }

    fn on_fn(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block, is_drop: bool) {
        let saved = self.in_test;
        self.in_test |= is_test_item(attrs);
        self.cached_attr(attrs);
        self.fns.push(FnState { name: sig.ident.to_string(), is_drop, ..FnState::default() });
        self.visit_block(block);
        // An accessor: the tail expression reaches a static.
        if let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() {
            if let Some(t) = self.root_of(tail) {
                self.out.accessors.push((sig.ident.to_string(), t));
            }
        }
        self.fns.pop();
        self.in_test = saved;
    }

    /// `#[cached]`/`#[memoize]` with no `size`/`time`/`capacity`: an unbounded cache.
    fn cached_attr(&mut self, attrs: &[syn::Attribute]) {
        for a in attrs {
            let Some(last) = a.path().segments.last().map(|s| s.ident.to_string()) else { continue };
            if last != "cached" && last != "memoize" {
                continue;
            }
            let args = match &a.meta {
                syn::Meta::List(l) => l.tokens.to_string().to_lowercase(),
                _ => String::new(),
            };
            let bounded = ["size", "time", "capacity", "ttl", "max"].iter().any(|w| args.contains(w));
            if !bounded {
                let span = self.span(a.span());
                self.out.cached_fns.push((span, self.in_test));
            }
        }
    }

    fn decl(&mut self, name: &syn::Ident, ty: &syn::Type, init: Option<&Expr>, is_mut: bool, thread_local: bool) {
        let mut idents = Vec::new();
        super::idents::idents(ty.to_token_stream(), &mut idents);
        let init_idents = init.map(|e| {
            let mut v = Vec::new();
            super::idents::idents(e.to_token_stream(), &mut v);
            v
        });
        let unbounded_cache = init_idents.as_deref().is_some_and(is_unbounded_cache)
            || idents.iter().any(|i| i == "UnboundCache" || i == "Unlimited");
        let span = self.span(name.span());
        self.out.decls.push(StaticDecl {
            name: name.to_string(),
            span,
            ty: idents,
            is_mut,
            thread_local,
            unbounded_cache,
            in_test: self.in_test,
        });
        if let Some(e) = init {
            // Inserts in the initialiser never count: they run once.
            let saved = std::mem::take(&mut self.fns);
            self.fns.push(FnState::default());
            let before = self.out.uses.len();
            self.visit_expr(e);
            self.out.uses.truncate(before);
            self.fns = saved;
        }
    }

    fn on_macro_items(&mut self, m: &syn::Macro) -> bool {
        let Some(last) = m.path.segments.last().map(|s| s.ident.to_string()) else { return false };
        match last.as_str() {
            "lazy_static" => {
                if let Ok(decls) = m.parse_body::<MacroStatics>() {
                    for d in decls.0 {
                        self.decl(&d.name, &d.ty, Some(&d.init), false, false);
                    }
                }
                true
            }
            "thread_local" => {
                if let Ok(decls) = m.parse_body::<MacroStatics>() {
                    for d in decls.0 {
                        self.decl(&d.name, &d.ty, Some(&d.init), false, true);
                    }
                }
                true
            }
            "cfg_if" => {
                // Every branch's items: the statics of all cfgs are declarations.
                let mut groups = Vec::new();
                brace_groups(m.tokens.clone(), &mut groups);
                for g in groups {
                    if let Ok(file) = syn::parse2::<syn::File>(g) {
                        for item in &file.items {
                            self.visit_item(item);
                        }
                    }
                }
                true
            }
            _ => false,
        }
    }
}

fn brace_groups(ts: proc_macro2::TokenStream, out: &mut Vec<proc_macro2::TokenStream>) {
    for t in ts {
        if let proc_macro2::TokenTree::Group(g) = t {
            if g.delimiter() == proc_macro2::Delimiter::Brace {
                out.push(g.stream());
            }
        }
    }
}

/// `LruCache::unbounded()`, `new_unbounded`, `UnboundCache`, or a moka builder with no
/// capacity, weigher or expiry.
fn is_unbounded_cache(init: &[String]) -> bool {
    let has = |w: &str| init.iter().any(|i| i == w);
    if has("unbounded") && has("LruCache") || has("new_unbounded") || has("UnboundCache") || has("Unlimited") {
        return true;
    }
    let moka_builder = has("builder") && has("build") && (has("moka") || has("Cache"));
    moka_builder && !["max_capacity", "weigher", "time_to_live", "time_to_idle", "expire_after"].iter().any(|w| has(w))
}

/// `[pub] static [ref] NAME: Type = init;` as in `lazy_static!` and `thread_local!`
/// (which may wrap the initialiser in `const { .. }`).
struct MacroStatic {
    name: syn::Ident,
    ty: syn::Type,
    init: Expr,
}

struct MacroStatics(Vec<MacroStatic>);

impl Parse for MacroStatics {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut out = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<Token![static]>()?;
            if input.peek(Token![ref]) {
                input.parse::<Token![ref]>()?;
            }
            let name: syn::Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: syn::Type = input.parse()?;
            input.parse::<Token![=]>()?;
            if input.peek(Token![const]) && input.peek2(syn::token::Brace) {
                input.parse::<Token![const]>()?;
            }
            let init: Expr = input.parse()?;
            if !input.is_empty() {
                input.parse::<Token![;]>()?;
            }
            out.push(MacroStatic { name, ty, init });
        }
        Ok(MacroStatics(out))
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&s.attrs);
        let is_mut = matches!(s.mutability, syn::StaticMutability::Mut(_));
        self.decl(&s.ident, &s.ty, Some(&s.expr), is_mut, false);
        self.in_test = saved;
    }
    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        let mut idents = Vec::new();
        super::idents::idents(t.ty.to_token_stream(), &mut idents);
        self.out.aliases.push((t.ident.to_string(), idents));
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&m.attrs);
        visit::visit_item_mod(self, m);
        self.in_test = saved;
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.on_fn(&f.attrs, &f.sig, &f.block, false);
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&i.attrs);
        let drop_impl = i.trait_.as_ref().is_some_and(|(_, p, _)| p.segments.last().is_some_and(|s| s.ident == "Drop"));
        for item in &i.items {
            match item {
                syn::ImplItem::Fn(f) => self.on_fn(&f.attrs, &f.sig, &f.block, drop_impl && f.sig.ident == "drop"),
                other => self.visit_impl_item(other),
            }
        }
        self.in_test = saved;
    }
    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        if !self.on_macro_items(&m.mac) {
            visit::visit_item_macro(self, m);
        }
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if self.on_macro_items(m) {
            return;
        }
        // Expression macros (`assert!`, `format!`, `tokio::select!` bodies are skipped).
        if let Ok(args) = m.parse_body_with(syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated) {
            for a in &args {
                self.visit_expr(a);
            }
        } else if let Ok(stmts) = m.parse_body_with(syn::Block::parse_within) {
            for s in &stmts {
                self.visit_stmt(s);
            }
        }
    }
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some(t) = self.root_of(&init.expr) {
                self.bind(&l.pat, t);
            }
            if let Some((_, e)) = &init.diverge {
                self.visit_expr(e);
            }
        }
    }
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        if is_limit_check(&i.cond) {
            if let Some(f) = self.fns.last_mut() {
                f.guarded = true;
            }
        }
        if let Expr::Let(l) = &*i.cond {
            if let Some(t) = self.root_of(&l.expr) {
                self.bind(&l.pat, t);
            }
        }
        self.visit_expr(&i.cond);
        let lookups = self.lookups_in(&i.cond);
        self.with_lookups(lookups, |s| s.visit_block(&i.then_branch));
        if let Some((_, e)) = &i.else_branch {
            self.visit_expr(e);
        }
    }
    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        self.visit_expr(&m.expr);
        let root = self.root_of(&m.expr);
        let lookups = self.lookups_in(&m.expr);
        for arm in &m.arms {
            if let Some(t) = &root {
                self.bind(&arm.pat, t.clone());
            }
            self.with_lookups(lookups.clone(), |s| {
                if let Some((_, g)) = &arm.guard {
                    s.visit_expr(g);
                }
                s.visit_expr(&arm.body);
            });
        }
    }
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        // `*guard = HashMap::new()` replaces the collection.
        if let Expr::Unary(u) = &*a.left {
            if let Some(t) = self.root_of(&u.expr) {
                let bounds = self.removal_bounds(&t);
                self.record(t, UseKind::Remove { bounds }, a.span());
            }
        }
        visit::visit_expr_assign(self, a);
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        // `mem::take(&mut *g)`, `mem::replace(..)`, `mem::swap(..)`.
        if let Expr::Path(p) = &*c.func {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let last = segs.last().map(String::as_str).unwrap_or("");
            if matches!(last, "take" | "replace" | "swap") && (segs.len() == 1 || segs.iter().any(|s| s == "mem")) {
                for a in &c.args {
                    if let Some(t) = self.root_of(a) {
                        let bounds = self.removal_bounds(&t);
                        self.record(t, UseKind::Remove { bounds }, c.span());
                    }
                }
            }
        }
        visit::visit_expr_call(self, c);
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        // `CACHE.with(|c| ..)`, `CACHE.with_borrow_mut(|m| ..)`: the parameter is the static.
        if name.starts_with("with") {
            if let (Some(t), Some(Expr::Closure(c))) = (self.root_of(&m.receiver), m.args.first()) {
                if let Some(p) = c.inputs.first() {
                    self.bind(p, t);
                }
            }
        }
        if let Some(t) = self.root_of(&m.receiver) {
            if is_insert_method(&name) {
                let finite = m.args.first().is_some_and(is_finite_key) && name != "extend" && name != "append";
                let guarded = self.fns.last().is_some_and(|f| f.guarded);
                self.record(t, UseKind::Insert { finite, guarded }, m.method.span());
            } else if is_remove_method(&name) {
                let bounds = self.removal_bounds(&t);
                self.record(t, UseKind::Remove { bounds }, m.method.span());
            }
        }
        visit::visit_expr_method_call(self, m);
    }
    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        if let syn::Stmt::Macro(m) = s {
            if self.on_macro_items(&m.mac) {
                return;
            }
        }
        visit::visit_stmt(self, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcheck_core::FileId;

    fn facts(text: &str) -> StaticFacts {
        let file = syn::parse_file(text).unwrap();
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into());
        static_facts(&src, &file)
    }

    #[test]
    fn declarations_in_macros_and_fns() {
        let f = facts(
            r#"
            lazy_static! { static ref A: Mutex<HashMap<u64, String>> = Mutex::new(HashMap::new()); }
            thread_local! { static B: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) }; }
            cfg_if::cfg_if! { if #[cfg(unix)] { static C: Mutex<Vec<u8>> = Mutex::new(Vec::new()); } }
            fn f() { static D: Mutex<Vec<u8>> = Mutex::new(Vec::new()); }
            static E: Lazy<Mutex<LruCache<u64, u64>>> = Lazy::new(|| Mutex::new(LruCache::unbounded()));
            "#,
        );
        let names: Vec<&str> = f.decls.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "D", "E"]);
        assert!(f.decls[1].thread_local && f.decls[4].unbounded_cache);
    }

    #[test]
    fn uses_through_derived_bindings_and_accessors() {
        let f = facts(
            r#"
            fn reg() -> &'static Mutex<HashMap<u64, u64>> { REG.get_or_init(Default::default) }
            fn a(k: u64) { let map = CACHE.get_or_init(init); map.lock().unwrap().entry(k).or_default(); }
            fn b(k: u64) { reg().lock().unwrap().insert(k, 1); }
            fn c(k: u64) { LOCAL.with_borrow_mut(|m| m.push(k)); }
            fn d() { KINDS.lock().unwrap().insert(Kind::Http, 1); }
            fn e(k: u64) { if let Some(v) = CACHE.lock().unwrap().get(&k) { CACHE.lock().unwrap().remove(&k); } }
            fn f(k: u64) { let mut g = LIST.lock().unwrap(); if g.len() < MAX { g.push(k); } }
            "#,
        );
        let kinds: Vec<(UseTarget, UseKind)> = f.uses.iter().map(|u| (u.target.clone(), u.kind)).collect();
        use UseKind::*;
        use UseTarget::*;
        assert_eq!(
            kinds,
            [
                (Static("CACHE".into()), Insert { finite: false, guarded: false }),
                (Accessor("reg".into()), Insert { finite: false, guarded: false }),
                (Static("LOCAL".into()), Insert { finite: false, guarded: false }),
                (Static("KINDS".into()), Insert { finite: true, guarded: false }),
                (Static("CACHE".into()), Remove { bounds: false }),
                (Static("LIST".into()), Insert { finite: false, guarded: true }),
            ]
        );
        assert_eq!(f.accessors, [("reg".to_string(), Static("REG".into()))]);
    }
}
