//! Loop exits shared by the lints: whether a handler or branch leaves the loop around it.

use syn::visit::{self, Visit};
use syn::Expr;

/// Macros that end the current path with an error or a panic.
pub fn is_error_macro(n: &str) -> bool {
    matches!(
        n,
        "panic" | "unreachable" | "todo" | "unimplemented" | "bail" | "ensure" | "assert" | "assert_eq" | "assert_ne"
    )
}

/// Whether a `select!` handler leaves the enclosing loop.
pub fn handler_leaves(handler: &Expr) -> bool {
    leaves(|v| v.visit_expr(handler))
}

/// Whether a block (an `if` branch) leaves the enclosing loop.
pub fn block_leaves(block: &syn::Block) -> bool {
    leaves(|v| v.visit_block(block))
}

fn leaves(walk: impl FnOnce(&mut Leaves)) -> bool {
    let mut v = Leaves { depth: 0, found: false };
    walk(&mut v);
    v.found
}

/// Finds a `break` (of the loop around, or labelled), a `return`, a panic-like macro or
/// `process::exit`; nested loops, closures and async blocks are boundaries.
struct Leaves {
    depth: usize,
    found: bool,
}

impl<'ast> Visit<'ast> for Leaves {
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if b.label.is_some() || self.depth == 0 {
            self.found = true;
        }
    }
    fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
        self.found = true;
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
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let last = m.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if is_error_macro(&last) && last != "assert" && last != "ensure" {
            self.found = true;
        }
        if let Ok(args) = m.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated) {
            for a in &args {
                self.visit_expr(a);
            }
        }
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if segs.last().is_some_and(|l| l == "exit") && segs.iter().any(|s| s == "process") {
                self.found = true;
            }
        }
        visit::visit_expr_call(self, c);
    }
}
