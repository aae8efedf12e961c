//! Where a spawn's handle goes once it is kept: awaited, joined, aborted, stored in a
//! field, pushed into a collection, passed to a fn, returned. The lints only need
//! kept-or-dropped ([`super::spawn::Disposition`]); the task inventory shows the rest,
//! and follows a stored handle to the `abort()`/`join()` on that field elsewhere in
//! the crate, and a returned one to what the caller does with it.

use syn::Expr;
use taskcheck_core::Span;

/// One thing done with a handle (or with a value that may be one); where it goes
/// before what is done with it (the order the inventory lists them in).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UseKind {
    /// `self.f = h`, `Type { f: h }`, `Self { f }` (through `Some(..)`, `Arc::new(..)`, ..).
    Stored { ty: Option<String>, field: String },
    /// `v.push(h)`, `map.insert(k, h)`
    Pushed(String),
    /// `f(h)`, `x.m(h)`
    Passed(String),
    /// `return h`, or the fn's tail expression.
    Returned,
    /// `h.await`
    Awaited,
    /// `h.join()`
    Joined,
    /// `h.abort()`
    Aborted,
}

impl UseKind {
    /// An operation that waits for or stops the work (what a stored handle is looked up for).
    pub fn is_op(&self) -> bool {
        matches!(self, UseKind::Awaited | UseKind::Joined | UseKind::Aborted)
    }
}

/// A use with where it happens.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HandleUse {
    pub kind: UseKind,
    pub span: Span,
}

/// `.abort()`, `.join()` or `.await` on a struct field (`self.handle.abort()`,
/// `if let Some(h) = self.handle.take() { h.join() }`), for the crate-wide join.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FieldOp {
    /// The `impl` type when the field is read through `self`.
    pub ty: Option<String>,
    pub field: String,
    pub kind: UseKind,
    pub span: Span,
}

/// Whether an identifier is one of `names` (without allocating its text: these run on
/// every call and method call of every file).
pub fn is_one_of(id: &proc_macro2::Ident, names: &[&str]) -> bool {
    names.iter().any(|n| id == n)
}

/// Constructors that wrap a value without changing whose it is (`Some`, `Arc::new`).
pub fn is_wrapper_ctor(path: &syn::Path) -> bool {
    let segs = &path.segments;
    match segs.len() {
        0 => false,
        1 => is_one_of(&segs[0].ident, &["Some", "Ok"]),
        n => {
            is_one_of(&segs[n - 1].ident, &["new", "from"])
                && is_one_of(&segs[n - 2].ident, &["Box", "Arc", "Rc", "Mutex", "RwLock", "RefCell", "Cell", "Pin"])
        }
    }
}

/// The expression that produces a value, looking through `?`, `.unwrap()`,
/// `.expect(..)`, parentheses, `&`, and wrappers (`Some(..)`, `Ok(..)`, `Arc::new(..)`).
pub fn value_root(mut e: &Expr) -> &Expr {
    loop {
        match e {
            Expr::Try(t) => e = &t.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Reference(r) => e = &r.expr,
            Expr::MethodCall(m) if (m.method == "unwrap" || m.method == "expect") => e = &m.receiver,
            Expr::Call(c) if c.args.len() == 1 && matches!(&*c.func, Expr::Path(p) if is_wrapper_ctor(&p.path)) => {
                e = &c.args[0]
            }
            _ => return e,
        }
    }
}

/// The struct field an expression reads a handle from: `self.h`, `self.h.take()`,
/// `self.h.as_ref().unwrap()`, `self.h.lock().await.take()`. `(through self, field)`.
pub fn field_of(mut e: &Expr) -> Option<(bool, String)> {
    loop {
        match e {
            Expr::MethodCall(m)
                if is_one_of(
                    &m.method,
                    &["take", "as_ref", "as_mut", "unwrap", "expect", "lock", "borrow", "borrow_mut", "get_mut"],
                ) =>
            {
                e = &m.receiver
            }
            Expr::Await(a) => e = &a.base,
            Expr::Try(t) => e = &t.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Reference(r) => e = &r.expr,
            Expr::Field(f) => {
                let syn::Member::Named(n) = &f.member else { return None };
                let on_self = matches!(&*f.base, Expr::Path(p) if p.path.is_ident("self"));
                return Some((on_self, n.to_string()));
            }
            _ => return None,
        }
    }
}

/// The name a collection or callee goes by: `self.tasks` -> `tasks`, `handles` -> `handles`.
pub fn receiver_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            syn::Member::Unnamed(_) => None,
        },
        Expr::Paren(p) => receiver_name(&p.expr),
        Expr::Reference(r) => receiver_name(&r.expr),
        Expr::MethodCall(m) if is_one_of(&m.method, &["lock", "borrow_mut", "get_mut", "unwrap", "expect"]) => {
            receiver_name(&m.receiver)
        }
        Expr::Await(a) => receiver_name(&a.base),
        Expr::Try(t) => receiver_name(&t.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Expr {
        syn::parse_str(s).unwrap()
    }

    #[test]
    fn roots_look_through_wrappers() {
        let x = e("Some(Arc::new(tokio::spawn(f)))");
        assert!(
            matches!(value_root(&x), Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if p.path.segments.len() == 2))
        );
        let x = e("Ok(h?)");
        assert!(matches!(value_root(&x), Expr::Path(p) if p.path.is_ident("h")));
        // A crate call keeps its value: it is the root, not looked through.
        let x = e("make(h)");
        assert!(matches!(value_root(&x), Expr::Call(_)));
    }

    #[test]
    fn fields_through_take_and_locks() {
        assert_eq!(field_of(&e("self.handle.take()")), Some((true, "handle".into())));
        assert_eq!(field_of(&e("self.task.lock().await.take().unwrap()")), Some((true, "task".into())));
        assert_eq!(field_of(&e("worker.handle")), Some((false, "handle".into())));
        assert_eq!(field_of(&e("handle")), None);
        assert_eq!(receiver_name(&e("self.tasks.lock().unwrap()")), Some("tasks".into()));
        assert_eq!(receiver_name(&e("self.tasks")), Some("tasks".into()));
    }
}
