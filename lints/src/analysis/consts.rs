//! Integer constant expressions: literals, `+ - * / <<`, `as`, parentheses and names of
//! crate-local `const` items, kept as small trees in the per-file facts and evaluated
//! in the crate join (a `const` may live in another file).

use std::collections::HashMap;

use syn::{BinOp, Expr, Lit};

/// An integer expression that may name constants.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum IntExpr {
    Lit(i128),
    /// A `const` by its last path segment.
    Name(String),
    Bin(Op, Box<IntExpr>, Box<IntExpr>),
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Shl,
}

/// The expression as an [`IntExpr`], when it is one.
pub fn int_expr(e: &Expr) -> Option<IntExpr> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse::<i128>().ok().map(IntExpr::Lit),
            _ => None,
        },
        Expr::Paren(p) => int_expr(&p.expr),
        Expr::Group(g) => int_expr(&g.expr),
        Expr::Cast(c) => int_expr(&c.expr),
        Expr::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?.ident.to_string();
            // Constants are SCREAMING_CASE; anything else is a runtime value.
            last.chars().any(|c| c.is_ascii_uppercase()).then_some(())?;
            (!last.chars().any(|c| c.is_ascii_lowercase())).then_some(IntExpr::Name(last))
        }
        Expr::Binary(b) => {
            let op = match b.op {
                BinOp::Add(_) => Op::Add,
                BinOp::Sub(_) => Op::Sub,
                BinOp::Mul(_) => Op::Mul,
                BinOp::Div(_) => Op::Div,
                BinOp::Shl(_) => Op::Shl,
                _ => return None,
            };
            Some(IntExpr::Bin(op, Box::new(int_expr(&b.left)?), Box::new(int_expr(&b.right)?)))
        }
        _ => None,
    }
}

/// Evaluates with the crate's constants (`consts` by name); `None` when a name is
/// unknown, the arithmetic overflows, or constants refer to each other in a cycle.
pub fn eval(e: &IntExpr, consts: &HashMap<&str, &IntExpr>) -> Option<i128> {
    fn go(e: &IntExpr, consts: &HashMap<&str, &IntExpr>, depth: usize) -> Option<i128> {
        if depth > 32 {
            return None;
        }
        match e {
            IntExpr::Lit(v) => Some(*v),
            IntExpr::Name(n) => go(consts.get(n.as_str())?, consts, depth + 1),
            IntExpr::Bin(op, a, b) => {
                let (a, b) = (go(a, consts, depth + 1)?, go(b, consts, depth + 1)?);
                match op {
                    Op::Add => a.checked_add(b),
                    Op::Sub => a.checked_sub(b),
                    Op::Mul => a.checked_mul(b),
                    Op::Div => a.checked_div(b),
                    Op::Shl => u32::try_from(b).ok().filter(|s| *s < 120).and_then(|s| a.checked_shl(s)),
                }
            }
        }
    }
    go(e, consts, 0)
}

/// Whether a `const` item's attributes pick a non-default cfg (`#[cfg(test)]`,
/// `#[cfg(miri)]`): the default-cfg variant of a cfg-duplicated const wins.
pub fn is_non_default_cfg(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let t = quote::quote!(#a).to_string().replace(' ', "");
            (t.contains("(test)") || t.contains("(miri)") || t.contains("(loom)")) && !t.contains("not(")
        }
    })
}

/// The crate's integer constants by name (the first definition of a name wins).
pub fn crate_consts<'a>(files: impl IntoIterator<Item = &'a super::facts::FileFacts>) -> HashMap<&'a str, &'a IntExpr> {
    let mut out = HashMap::new();
    for f in files {
        for (name, e) in &f.consts {
            out.entry(name.as_str()).or_insert(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_arithmetic_and_names() {
        let ex = |s: &str| int_expr(&syn::parse_str(s).unwrap()).unwrap();
        let base = ex("64 * 1024");
        let consts: HashMap<&str, &IntExpr> = HashMap::from([("BASE", &base)]);
        assert_eq!(eval(&ex("BASE"), &consts), Some(65_536));
        assert_eq!(eval(&ex("(1 << 16) as usize"), &consts), Some(65_536));
        assert_eq!(eval(&ex("BASE / 8 - 1_000usize"), &consts), Some(7_192));
        assert_eq!(eval(&ex("UNKNOWN + 1"), &consts), None);
        assert!(int_expr(&syn::parse_str("cfg.capacity").unwrap()).is_none());
        assert!(int_expr(&syn::parse_str("capacity").unwrap()).is_none());
    }
}
