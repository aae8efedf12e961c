//! Object pools: library pools and hand-written free lists, the element types'
//! pointer fields and reset methods, and the takes and puts the crate makes.
//! Per-file facts; the pool lints join them per crate (an element struct may be
//! defined in another file than its pool).

use std::collections::HashSet;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::Expr;
use taskcheck_core::{SourceFile, Span};

use super::idents::idents;
use super::paths::{Resolver, UseScope};
use super::testcode::is_test_item;

/// A pool: a static or struct field.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct PoolDecl {
    /// The static's or field's name (what takes and puts are matched by).
    pub name: String,
    pub span: Span,
    /// The library (`object_pool`, `sharded_slab`, ..) or `None` for a hand-written one.
    pub library: Option<String>,
    /// Identifiers of the element type, outer `Rc`/`Box`/`Arc` (the pooled allocation)
    /// removed.
    pub elem: Vec<String>,
    pub in_test: bool,
}

/// A struct's fields that keep other objects alive.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct StructDef {
    pub name: String,
    /// (field name, its span) for `Rc`/`Arc`/`Weak`/`&'a`/raw pointer/`Box<dyn Fn>` fields.
    pub pointer_fields: Vec<(String, Span)>,
    /// `#[derive(Copy)]`: its pointers are addresses, not owners.
    pub copy: bool,
}

/// A take from or put into a pool.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct PoolOp {
    pub pool: String,
    pub put: bool,
    /// The put (or pop) method.
    pub span: Span,
    /// The value put back (an ident or a field name), or the binding a take goes to.
    pub value: Option<String>,
    /// The value is reset in the same fn (before a put, or after a take).
    pub reset: bool,
    /// The value put back is a local binding (the fix can name it).
    pub local: bool,
    /// The put or take method (`push`, `append`, `pop`).
    pub method: String,
    /// Everything the fn resets (bindings and field names).
    pub reset_keys: Vec<String>,
    /// The value is a parameter of the enclosing fn, named here: the pool's own put
    /// method, whose callers may reset.
    pub param_of: Option<String>,
    /// Leading whitespace of the put's line (for the fix).
    pub indent: String,
    /// Start of the put's line (where the fix inserts the reset).
    pub line_start: Span,
    pub in_test: bool,
}

/// Everything about pools in one file.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct PoolFacts {
    pub decls: Vec<PoolDecl>,
    pub structs: Vec<StructDef>,
    /// Types with a reset: a `clear`/`reset` method or a `sharded_slab::Clear` impl,
    /// with the method to call and the fields of `self` it empties or overwrites.
    pub resettable: Vec<(String, String, Vec<String>)>,
    pub ops: Vec<PoolOp>,
    /// Methods called by `Drop` impls that reset something first (the wrapper's `Drop`
    /// resets, then hands the object to the pool's put method).
    pub drop_resets_then_calls: Vec<String>,
}

const LIBRARY_POOLS: &[&str] = &[
    "object_pool",
    "lockfree_object_pool",
    "opool",
    "sharded_slab",
    "LinearObjectPool",
    "SpinLockObjectPool",
    "MutexObjectPool",
];
const WRAPPERS: &[&str] = &["Rc", "Arc", "Box", "Lazy", "LazyLock", "OnceLock", "OnceCell"];
const QUEUES: &[&str] = &["Vec", "VecDeque", "SegQueue", "ArrayQueue"];
const PUTS: &[&str] = &["push", "push_back", "push_front", "append", "put", "attach", "give_back", "release"];

/// Collects the pool facts of a file.
pub fn pool_facts(src: &SourceFile, ast: &syn::File) -> PoolFacts {
    let mut resolver = Resolver::default();
    resolver.push(UseScope::from_items(&ast.items));
    let mut c = Collector { src, resolver, out: PoolFacts::default(), in_test: false, struct_name: None };
    for item in &ast.items {
        c.visit_item(item);
    }
    c.out
}

/// Whether a field type keeps other objects alive.
fn is_pointer_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.lifetime.as_ref().is_none_or(|l| l.ident != "static"),
        syn::Type::Ptr(_) => true,
        _ => {
            let mut ids = Vec::new();
            idents(ty.to_token_stream(), &mut ids);
            let boxed_fn = ids.iter().any(|i| i == "dyn") && ids.iter().any(|i| i.starts_with("Fn"));
            ids.iter().any(|i| i == "Rc" || i == "Arc" || i == "Weak") || boxed_fn || {
                // `Vec<&'a T>`, `Option<*const T>` inside generics.
                let s = ty.to_token_stream().to_string();
                s.contains("* const") || s.contains("* mut") || s.contains("& '") && !s.contains("& 'static")
            }
        }
    }
}

/// The element type of a pool type, when it is one: (library, element identifiers).
fn pool_type(ty: &syn::Type, name_says_pool: bool, resolver: &Resolver) -> Option<(Option<String>, Vec<String>)> {
    let syn::Type::Path(p) = ty else { return None };
    let resolved = resolver.resolve(&p.path);
    let last = p.path.segments.last()?;
    let generic = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().rev().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    let lib = resolved.segments.iter().find(|s| LIBRARY_POOLS.contains(&s.as_str())).cloned();
    if let (Some(lib), Some(t)) = (lib, generic) {
        if last.ident.to_string().contains("Pool") {
            return Some((Some(lib), elem_idents(t)));
        }
    }
    let name = last.ident.to_string();
    if WRAPPERS.contains(&name.as_str()) || matches!(name.as_str(), "Mutex" | "RefCell" | "RwLock") {
        return pool_type(generic?, name_says_pool, resolver);
    }
    if QUEUES.contains(&name.as_str()) && name_says_pool {
        return Some((None, elem_idents(generic?)));
    }
    None
}

/// The element's identifiers with the outer pooled allocation (`Rc`/`Box`/`Arc`) removed.
fn elem_idents(t: &syn::Type) -> Vec<String> {
    let mut ids = Vec::new();
    idents(t.to_token_stream(), &mut ids);
    while ids.first().is_some_and(|i| i == "Rc" || i == "Box" || i == "Arc") && ids.len() > 1 {
        ids.remove(0);
    }
    ids
}

fn says_pool(name: &str) -> bool {
    let n = name.to_lowercase();
    n.contains("pool") || n.contains("free") || n.contains("recycle")
}

/// The pool a receiver reaches: `self.pool`, `POOL`, through `.lock()`, `.borrow_mut()`,
/// `.unwrap()`, `.await`.
fn pool_of(e: &Expr) -> Option<String> {
    match e {
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "lock" | "borrow_mut" | "unwrap" | "expect" | "write" | "unwrap_or_else"
            ) =>
        {
            pool_of(&m.receiver)
        }
        Expr::Await(a) => pool_of(&a.base),
        Expr::Try(t) => pool_of(&t.expr),
        Expr::Paren(p) => pool_of(&p.expr),
        Expr::Reference(r) => pool_of(&r.expr),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            _ => None,
        },
        // A bare name is a pool only when it is a static (`BUF_POOL`), not a local.
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .filter(|n| n.chars().any(|c| c.is_ascii_uppercase()) && !n.chars().any(|c| c.is_ascii_lowercase())),
        _ => None,
    }
}

/// The key of a value: a local name or a field name (`buf`, `self.buf`).
fn value_key(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            _ => None,
        },
        Expr::Reference(r) => value_key(&r.expr),
        Expr::Paren(p) => value_key(&p.expr),
        Expr::Unary(u) => value_key(&u.expr),
        // `self.buf.take().unwrap()`, `mem::take(&mut self.buf)`
        Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "take" | "unwrap" | "expect") => {
            value_key(&m.receiver)
        }
        Expr::Call(c) if c.args.len() == 1 => value_key(&c.args[0]),
        _ => None,
    }
}

struct Collector<'a> {
    src: &'a SourceFile,
    resolver: Resolver,
    out: PoolFacts,
    in_test: bool,
    struct_name: Option<String>,
}

impl Collector<'_> {
    fn span(&self, s: proc_macro2::Span) -> Span {
        self.src.span_of(s)
    }

    fn decl(&mut self, name: &syn::Ident, ty: &syn::Type) {
        let says = says_pool(&name.to_string()) || self.struct_name.as_deref().is_some_and(says_pool);
        if let Some((library, elem)) = pool_type(ty, says, &self.resolver) {
            let span = self.span(name.span());
            self.out.decls.push(PoolDecl { name: name.to_string(), span, library, elem, in_test: self.in_test });
        }
    }

    /// Takes and puts in one fn, and which values it resets.
    fn on_fn(&mut self, sig: &syn::Signature, block: &syn::Block, is_drop: bool) {
        let mut f = FnScan { ops: Vec::new(), resets: HashSet::new(), calls: Vec::new(), aliases: Default::default() };
        f.visit_block(block);
        if is_drop && !f.resets.is_empty() {
            self.out.drop_resets_then_calls.extend(f.calls.iter().cloned());
        }
        let params: Vec<String> = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => pat_binding(&t.pat),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        for (pool, put, method, value, local) in f.ops {
            let span = method.span();
            let reset = value.as_ref().is_some_and(|v| f.resets.contains(v));
            let at = self.span(span);
            let line = self.src.line_text(at.lo.line);
            let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
            let start = self.src.pos_of_line_col(at.lo.line, 0);
            let line_start = Span { lo: start, hi: start, file: at.file };
            let param_of = value.as_ref().filter(|v| params.contains(v)).map(|_| sig.ident.to_string());
            self.out.ops.push(PoolOp {
                pool,
                put,
                span: at,
                method: method.to_string(),
                value,
                reset,
                local,
                reset_keys: f.resets.iter().cloned().collect(),
                param_of,
                indent,
                line_start,
                in_test: self.in_test,
            });
        }
    }
}

/// One fn's pool operations and resets.
struct FnScan {
    /// (pool, is put, method, value key, value is a local)
    ops: Vec<(String, bool, syn::Ident, Option<String>, bool)>,
    resets: HashSet<String>,
    /// Every method name called.
    calls: Vec<String>,
    /// `let spare = self.spare.lock().unwrap();`: locals that are the pool.
    aliases: std::collections::HashMap<String, String>,
}

/// The binding of `x`, `mut x`, `Some(x)`, `Some(mut x)`.
fn pat_binding(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => pat_binding(&t.pat),
        syn::Pat::TupleStruct(t) if t.elems.len() == 1 => pat_binding(&t.elems[0]),
        _ => None,
    }
}

impl FnScan {
    /// The pool a receiver reaches, locals bound to the pool included.
    fn pool_of(&self, e: &Expr) -> Option<String> {
        if let Expr::Path(p) = e {
            if let Some(pool) = p.path.get_ident().and_then(|i| self.aliases.get(&i.to_string())) {
                return Some(pool.clone());
            }
        }
        pool_of(e)
    }

    /// `x = pool.pop()..`: a take into `x`.
    fn pop_into(&mut self, init: &Expr, binding: String) {
        let mut cur = init;
        loop {
            match cur {
                Expr::MethodCall(m) if m.method.to_string().starts_with("pop") => {
                    if let Some(pool) = self.pool_of(&m.receiver) {
                        self.ops.push((pool, false, m.method.clone(), Some(binding), true));
                    }
                    return;
                }
                Expr::MethodCall(m) => cur = &m.receiver,
                Expr::Try(t) => cur = &t.expr,
                Expr::Await(a) => cur = &a.base,
                _ => return,
            }
        }
    }
}

impl<'ast> Visit<'ast> for FnScan {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        // `let buf = self.free.lock().pop()..`: the take goes to `buf`.
        if let (Some(init), Some(name)) = (&l.init, pat_binding(&l.pat)) {
            let through_lock = matches!(&*init.expr, Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "lock" | "borrow_mut" | "unwrap" | "expect" | "write"));
            match self.pool_of(&init.expr) {
                Some(pool) if through_lock => {
                    self.aliases.insert(name, pool);
                }
                _ => self.pop_into(&init.expr, name),
            }
        }
        visit::visit_local(self, l);
    }
    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        // `match pool.pop() { Some(mut line) => { line.clear(); line } .. }`
        if let Some(name) = m.arms.iter().find_map(|a| pat_binding(&a.pat)) {
            self.pop_into(&m.expr, name);
        }
        visit::visit_expr_match(self, m);
    }
    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        // `if let Some(mut state) = self.free.pop() { state.clear(); .. }`
        if let Some(name) = pat_binding(&l.pat) {
            self.pop_into(&l.expr, name);
        }
        visit::visit_expr_let(self, l);
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        self.calls.push(name.clone());
        // A computed value (`recv.free(window)`) may be the reset itself: only a binding or
        // a field put back as is is judged.
        let plain =
            m.args.first().is_some_and(|a| value_key(a).is_some() && !matches!(a, Expr::Call(_) | Expr::MethodCall(_)));
        if PUTS.contains(&name.as_str()) && m.args.len() == 1 && plain {
            if let Some(pool) = self.pool_of(&m.receiver) {
                let local = matches!(&m.args[0], Expr::Path(p) if p.path.get_ident().is_some());
                self.ops.push((pool, true, m.method.clone(), value_key(&m.args[0]), local));
            }
        }
        // A take from the pool that is not bound (`POOL.lock().pop().unwrap_or_default()`).
        let at = m.method.span().start();
        let seen = self.ops.iter().any(|o| o.2.span().start() == at);
        if name.starts_with("pop") && m.args.is_empty() && !seen {
            if let Some(pool) = self.pool_of(&m.receiver) {
                self.ops.push((pool, false, m.method.clone(), None, false));
            }
        }
        let resets = matches!(name.as_str(), "clear" | "reset" | "fill" | "recycle" | "truncate" | "drain")
            || name == "take" && matches!(&*m.receiver, Expr::Field(_));
        if resets {
            if let Some(k) = value_key(&m.receiver) {
                self.resets.insert(k);
            }
        }
        // `buf.items.clear()` resets `buf` field by field.
        if resets {
            if let Expr::Field(f) = &*m.receiver {
                if let Some(k) = value_key(&f.base) {
                    self.resets.insert(k);
                }
            }
        }
        visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        // `reset(&mut buf)`, `recycle(buf)`, `clear(&mut buf)`
        if let Expr::Path(p) = &*c.func {
            let last = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            if matches!(last.as_str(), "clear" | "reset" | "recycle") {
                if let Some(k) = c.args.first().and_then(value_key) {
                    self.resets.insert(k);
                }
            }
        }
        visit::visit_expr_call(self, c);
    }
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        // `buf.len = 0` (resets `buf` and its field `len`), `*buf = Default::default()`
        if let Expr::Field(f) = &*a.left {
            if let Some(k) = value_key(&f.base) {
                self.resets.insert(k);
            }
        }
        if let Some(k) = value_key(&a.left) {
            self.resets.insert(k);
        }
        visit::visit_expr_assign(self, a);
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        let saved = self.struct_name.replace(s.ident.to_string());
        let mut pointer_fields = Vec::new();
        for f in &s.fields {
            if let Some(name) = &f.ident {
                self.decl(name, &f.ty);
            }
            if is_pointer_type(&f.ty) {
                let name = f.ident.as_ref().map_or_else(|| "0".to_string(), |i| i.to_string());
                pointer_fields.push((name, self.span(f.span())));
            }
        }
        let copy = s.attrs.iter().any(|a| {
            a.path().is_ident("derive") && a.to_token_stream().into_iter().any(|t| t.to_string().contains("Copy"))
        });
        self.out.structs.push(StructDef { name: s.ident.to_string(), pointer_fields, copy });
        self.struct_name = saved;
    }
    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&s.attrs);
        self.decl(&s.ident, &s.ty);
        self.in_test = saved;
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&m.attrs);
        visit::visit_item_mod(self, m);
        self.in_test = saved;
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&i.attrs);
        let ty = match &*i.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let trait_name = i.trait_.as_ref().and_then(|(_, p, _)| p.segments.last().map(|s| s.ident.to_string()));
        if let Some(ty) = &ty {
            for item in &i.items {
                if let syn::ImplItem::Fn(f) = item {
                    let n = f.sig.ident.to_string();
                    if (n == "clear" || n == "reset") && f.sig.receiver().is_some() {
                        let mut scan = FnScan {
                            ops: Vec::new(),
                            resets: HashSet::new(),
                            calls: Vec::new(),
                            aliases: Default::default(),
                        };
                        scan.visit_block(&f.block);
                        let fields: Vec<String> = scan.resets.into_iter().collect();
                        self.out.resettable.push((ty.clone(), n, fields));
                    }
                }
            }
        }
        let drop_impl = trait_name.as_deref() == Some("Drop");
        for item in &i.items {
            if let syn::ImplItem::Fn(f) = item {
                let saved_fn = self.in_test;
                self.in_test |= is_test_item(&f.attrs);
                self.on_fn(&f.sig, &f.block, drop_impl && f.sig.ident == "drop");
                self.in_test = saved_fn;
            }
        }
        self.in_test = saved;
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let saved = self.in_test;
        self.in_test |= is_test_item(&f.attrs);
        self.on_fn(&f.sig, &f.block, false);
        self.in_test = saved;
    }
}

/// The crate's pools joined across files.
pub struct CratePools<'a> {
    pub decls: Vec<(usize, &'a PoolDecl)>,
    pub structs: std::collections::HashMap<&'a str, &'a StructDef>,
    /// Type name -> (reset method, the fields it empties).
    pub resettable: std::collections::HashMap<&'a str, (&'a str, &'a [String])>,
    pub ops: Vec<(usize, &'a PoolOp)>,
    /// Put methods a resetting `Drop` calls.
    pub drop_puts: HashSet<&'a str>,
    aliases: std::collections::HashMap<&'a str, &'a [String]>,
}

/// Primitive element types: integer free lists are never pointer holders or in need
/// of a reset.
const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "bool", "char", "f32",
    "f64",
];

impl<'a> CratePools<'a> {
    /// The crate's pools, or `None` when it declares none.
    pub fn of_crate(files: &[&'a super::facts::FileFacts]) -> Option<Self> {
        files.iter().any(|f| !f.pools.decls.is_empty()).then(|| CratePools::new(files))
    }

    pub fn new(files: &[&'a super::facts::FileFacts]) -> Self {
        let mut p = CratePools {
            decls: Vec::new(),
            structs: Default::default(),
            resettable: Default::default(),
            ops: Vec::new(),
            drop_puts: HashSet::new(),
            aliases: Default::default(),
        };
        for (fi, f) in files.iter().enumerate() {
            p.decls.extend(f.pools.decls.iter().map(|d| (fi, d)));
            p.ops.extend(f.pools.ops.iter().map(|o| (fi, o)));
            p.drop_puts.extend(f.pools.drop_resets_then_calls.iter().map(String::as_str));
            for s in &f.pools.structs {
                p.structs.entry(s.name.as_str()).or_insert(s);
            }
            for (t, m, fields) in &f.pools.resettable {
                p.resettable.entry(t.as_str()).or_insert((m.as_str(), fields.as_slice()));
            }
            for (n, t) in &f.statics.aliases {
                p.aliases.entry(n.as_str()).or_insert(t.as_slice());
            }
        }
        p
    }

    /// The element's type name, aliases followed, outer `Rc`/`Box`/`Arc` removed.
    pub fn elem_name(&self, d: &'a PoolDecl) -> Option<&'a str> {
        let mut ids: &'a [String] = &d.elem;
        for _ in 0..3 {
            let first = ids.iter().map(String::as_str).find(|i| !matches!(*i, "Rc" | "Arc" | "Box"))?;
            match self.aliases.get(first) {
                Some(t) => ids = t,
                None => return Some(first),
            }
        }
        None
    }

    /// Whether the pool is out of scope: integer or `Copy` elements, connection and
    /// worker pools, a generic element.
    pub fn skipped(&self, d: &'a PoolDecl) -> bool {
        let Some(elem) = self.elem_name(d) else { return true };
        let generic = d.elem.iter().any(|i| i.len() == 1 && i.chars().all(|c| c.is_ascii_uppercase()));
        let conn = [elem, d.name.as_str()].iter().any(|n| {
            let n = n.to_lowercase();
            n.contains("conn") || n.contains("worker")
        });
        let copy = self.structs.get(elem).is_some_and(|s| s.copy);
        PRIMITIVES.contains(&elem) || generic || conn || copy
    }

    /// Whether the type's reset method empties every one of `fields`.
    pub fn reset_empties(&self, ty: &str, fields: &[(String, Span)]) -> bool {
        self.resettable.get(ty).is_some_and(|(_, reset)| fields.iter().all(|(f, _)| reset.contains(f)))
    }

    /// Takes and puts on a pool by name.
    pub fn ops_of(&self, name: &str) -> impl Iterator<Item = &(usize, &'a PoolOp)> + '_ {
        let name = name.to_string();
        self.ops.iter().filter(move |(_, o)| o.pool == name)
    }

    /// Whether the pool's own code resets what it hands out (after the take) or every
    /// value put back.
    pub fn resets_on_take(&self, name: &str) -> bool {
        self.ops_of(name).any(|(_, o)| !o.put && o.reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcheck_core::FileId;

    fn facts(text: &str) -> PoolFacts {
        let file = syn::parse_file(text).unwrap();
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into());
        pool_facts(&src, &file)
    }

    #[test]
    fn pools_elements_and_ops() {
        let f = facts(
            r#"
            use object_pool::Pool;
            static BUF_POOL: Lazy<Mutex<Vec<Vec<u8>>>> = Lazy::new(Default::default);
            struct Node<'a> { parent: Option<&'a Node<'a>>, name: &'static str, cb: Box<dyn Fn()> }
            struct Arena { free: RefCell<Vec<Rc<Message>>>, nodes: Pool<Node<'static>>, count: Vec<u64> }
            impl Message { fn reset(&mut self) {} }
            fn give(mut b: Vec<u8>) { b.clear(); BUF_POOL.lock().unwrap().push(b); }
            fn give2(b: Vec<u8>) { BUF_POOL.lock().unwrap().push(b); }
            "#,
        );
        let decls: Vec<(&str, Option<&str>, &str)> =
            f.decls.iter().map(|d| (d.name.as_str(), d.library.as_deref(), d.elem[0].as_str())).collect();
        assert_eq!(
            decls,
            [("BUF_POOL", None, "Vec"), ("free", None, "Message"), ("nodes", Some("object_pool"), "Node")]
        );
        let node = f.structs.iter().find(|s| s.name == "Node").unwrap();
        let names: Vec<&str> = node.pointer_fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["parent", "cb"]);
        assert_eq!(f.resettable, [("Message".to_string(), "reset".to_string(), Vec::<String>::new())]);
        let puts: Vec<bool> = f.ops.iter().filter(|o| o.put).map(|o| o.reset).collect();
        assert_eq!(puts, [true, false]);
    }
}
