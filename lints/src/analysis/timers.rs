//! Timers: async sleeps and the shapes built from them (a detached timer task, a
//! sleep-poll deadline loop, a sleep raced in `select!`).

use syn::visit::{self, Visit};
use syn::{Expr, Stmt};

use super::exits::{block_leaves, handler_leaves};
use super::paths::Resolver;

/// Async timers: a future that completes after a delay.
const ASYNC_SLEEPS: &[&str] = &[
    "tokio::time::sleep",
    "tokio::time::sleep_until",
    "async_std::task::sleep",
    "actix_rt::time::sleep",
    "actix_rt::time::sleep_until",
    "futures_timer::Delay::new",
    "smol::Timer::after",
    "smol::Timer::at",
    "async_io::Timer::after",
    "async_io::Timer::at",
];

/// The async sleep call an expression creates (`sleep(d)`, `time::sleep_until(t)`).
pub fn sleep_call<'e>(e: &'e Expr, resolver: &Resolver) -> Option<&'e syn::ExprCall> {
    match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if resolver.resolve(&p.path).is_any(ASYNC_SLEEPS) => Some(c),
            _ => None,
        },
        Expr::Paren(p) => sleep_call(&p.expr, resolver),
        _ => None,
    }
}

/// The sleep call of `sleep(d).await`.
pub fn awaited_sleep<'e>(e: &'e Expr, resolver: &Resolver) -> Option<&'e syn::ExprCall> {
    match e {
        Expr::Await(a) => sleep_call(&a.base, resolver),
        _ => None,
    }
}

/// Whether a sleep call is `sleep(d)` with a duration (not `sleep_until(deadline)`).
pub fn is_plain_sleep(call: &syn::ExprCall) -> bool {
    matches!(&*call.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "sleep"))
        && call.args.len() == 1
}

/// The block of spawned work: `async { .. }`, `async move { .. }`, `|| async { .. }`.
fn work_block(work: &Expr) -> Option<&syn::Block> {
    match work {
        Expr::Async(a) => Some(&a.block),
        Expr::Closure(c) => work_block(&c.body),
        Expr::Block(b) => match b.block.stmts.as_slice() {
            [Stmt::Expr(e, None)] => work_block(e),
            _ => None,
        },
        _ => None,
    }
}

/// Shape (a) of `sleep_as_timeout`: spawned work that first sleeps and then acts
/// (cancels, closes, removes, sends). Returns the sleep call's span. Work that enters
/// a loop after the sleep is a delayed periodic job, not a timer.
pub fn timer_task(work: &Expr, resolver: &Resolver) -> Option<proc_macro2::Span> {
    let block = work_block(work)?;
    let (first, rest) = block.stmts.split_first()?;
    let Stmt::Expr(e, _) = first else { return None };
    let call = awaited_sleep(e, resolver)?;
    let periodic = rest.iter().any(|s| matches!(s, Stmt::Expr(Expr::Loop(_) | Expr::While(_), _)));
    (!rest.is_empty() && !periodic).then(|| syn::spanned::Spanned::span(&call.func))
}

/// Whether a condition compares the clock against a deadline: a `<`/`>`/`<=`/`>=`
/// whose sides read `.elapsed()`, `Instant::now()` or `duration_since`.
pub fn is_deadline_check(cond: &Expr) -> bool {
    struct Cmp {
        in_cmp: usize,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Cmp {
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            use syn::BinOp::*;
            let cmp = matches!(b.op, Lt(_) | Gt(_) | Le(_) | Ge(_));
            self.in_cmp += usize::from(cmp);
            visit::visit_expr_binary(self, b);
            self.in_cmp -= usize::from(cmp);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            let n = m.method.to_string();
            if self.in_cmp > 0 && matches!(n.as_str(), "elapsed" | "duration_since" | "saturating_duration_since") {
                self.found = true;
            }
            visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let Expr::Path(p) = &*c.func {
                let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                if self.in_cmp > 0 && segs.ends_with(&["Instant".to_string(), "now".to_string()]) {
                    self.found = true;
                }
            }
            visit::visit_expr_call(self, c);
        }
    }
    let mut v = Cmp { in_cmp: 0, found: false };
    v.visit_expr(cond);
    v.found
}

/// Shape (b) of `sleep_as_timeout`: a loop that awaits a sleep, leaves on a deadline
/// comparison, and leaves on another (polled) condition.
pub fn is_deadline_poll(cond: Option<&Expr>, body: &syn::Block, resolver: &Resolver) -> bool {
    struct Poll<'r> {
        resolver: &'r Resolver,
        depth: usize,
        sleeps: bool,
        deadline_exit: bool,
        other_exit: bool,
        /// Names the slept durations are made of (`sleep(delay)`, `sleep(base * n)`).
        slept: Vec<String>,
        /// Names the loop assigns (`delay = min(cap, delay * 2)`, `backoff *= 2`).
        assigned: Vec<String>,
    }
    impl<'ast> Visit<'ast> for Poll<'_> {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            if let Some(call) = sleep_call(&a.base, self.resolver) {
                self.sleeps = true;
                for arg in &call.args {
                    self.slept.extend(idents_of(arg));
                }
            }
            visit::visit_expr_await(self, a);
        }
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.assigned.extend(idents_of(&a.left));
            visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            // `backoff *= 2`, `delay += step`.
            if matches!(
                b.op,
                syn::BinOp::AddAssign(_)
                    | syn::BinOp::MulAssign(_)
                    | syn::BinOp::ShlAssign(_)
                    | syn::BinOp::SubAssign(_)
            ) {
                self.assigned.extend(idents_of(&b.left));
            }
            visit::visit_expr_binary(self, b);
        }
        fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
            if self.depth == 0 && block_leaves(&i.then_branch) {
                if is_deadline_check(&i.cond) {
                    self.deadline_exit = true;
                } else {
                    self.other_exit = true;
                }
            }
            visit::visit_expr_if(self, i);
        }
        fn visit_arm(&mut self, a: &'ast syn::Arm) {
            if self.depth == 0 && handler_leaves(&a.body) {
                self.other_exit = true;
            }
            visit::visit_arm(self, a);
        }
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.depth += 1;
            visit::visit_expr_loop(self, l);
            self.depth -= 1;
        }
        fn visit_expr_while(&mut self, l: &'ast syn::ExprWhile) {
            self.depth += 1;
            visit::visit_expr_while(self, l);
            self.depth -= 1;
        }
        fn visit_expr_for_loop(&mut self, l: &'ast syn::ExprForLoop) {
            self.depth += 1;
            visit::visit_expr_for_loop(self, l);
            self.depth -= 1;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = Poll {
        resolver,
        depth: 0,
        sleeps: false,
        deadline_exit: false,
        other_exit: false,
        slept: Vec::new(),
        assigned: Vec::new(),
    };
    if let Some(c) = cond {
        if is_deadline_check(c) {
            v.deadline_exit = true;
        } else {
            v.other_exit = true;
        }
    }
    v.visit_block(body);
    // A sleep whose duration the loop changes is a backoff between retries of an
    // operation (connecting, sending), bounded by a total deadline: there is no condition
    // to await instead, so it is not a poll.
    let backoff = v.slept.iter().any(|n| v.assigned.contains(n));
    v.sleeps && v.deadline_exit && v.other_exit && !backoff
}

/// The single-segment names an expression mentions (`delay`, `self.base` gives none).
fn idents_of(e: &Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(i) = p.path.get_ident() {
                self.0.push(i.to_string());
            }
        }
    }
    let mut n = Names(Vec::new());
    n.visit_expr(e);
    n.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::paths::UseScope;

    fn resolver(uses: &str) -> Resolver {
        let file = syn::parse_file(uses).unwrap();
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        r
    }

    #[test]
    fn timer_tasks_sleep_first_then_act() {
        let r = resolver("use tokio::time::{self, sleep};");
        let yes =
            ["async move { sleep(d).await; token.cancel(); }", "async move { time::sleep(d).await; map.remove(&k); }"];
        for w in yes {
            assert!(timer_task(&syn::parse_str(w).unwrap(), &r).is_some(), "{w}");
        }
        let no = [
            "async move { sleep(d).await; }",
            "async move { sleep(d).await; loop { tick().await } }",
            "async move { work().await; sleep(d).await; }",
            "async move { std::thread::sleep(d); token.cancel(); }",
        ];
        for w in no {
            assert!(timer_task(&syn::parse_str(w).unwrap(), &r).is_none(), "{w}");
        }
    }

    #[test]
    fn deadline_polls_need_a_sleep_a_deadline_and_a_condition() {
        let r = resolver("use tokio::time::sleep;");
        let body = |s: &str| -> syn::Block { syn::parse_str(s).unwrap() };
        let poll = "{ if ready().await { return Ok(()); } if start.elapsed() > limit { bail!(\"timeout\"); } sleep(d).await; }";
        assert!(is_deadline_poll(None, &body(poll), &r));
        let cond: Expr = syn::parse_str("Instant::now() < deadline").unwrap();
        assert!(is_deadline_poll(Some(&cond), &body("{ if let Some(v) = get() { return v; } sleep(d).await; }"), &r));
        // Fixed-rate scheduling: no deadline exit.
        assert!(!is_deadline_poll(None, &body("{ sleep_until(next).await; work().await; next += period; }"), &r));
        // No other condition: just a long sleep.
        assert!(!is_deadline_poll(None, &body("{ if start.elapsed() > d { break; } sleep(x).await; }"), &r));
        // Sync sleep.
        assert!(!is_deadline_poll(
            None,
            &body("{ if ok() { break; } if t.elapsed() > d { break; } std::thread::sleep(x); }"),
            &r
        ));
    }
}
