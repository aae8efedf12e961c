//! The prefilter: parse only what an enabled lint could fire on.
//!
//! Each lint declares [`Triggers`]: its *anchors* (words without which it has nothing to
//! report: `spawn`, `loop`, a map type in a `static`) and its *context* (words of the
//! code it reads around an anchor once it has one in the crate: `send`/`recv` for a
//! channel used as a lock). Per crate, from the files' outlines (see [`crate::outline`]):
//!
//! 1. a lint is *active* when one of its anchors occurs somewhere in the crate;
//! 2. the items mentioning an anchor or context word of an active lint are kept; for the
//!    kept items with one of its *callers* words, so are the fns, statics and consts
//!    naming them: the callers of a spawn wrapper (a fn handing its parameter to a
//!    spawn), the code inserting into a static map and, two names deep, the code
//!    inserting into a static behind a type alias;
//! 3. from those callers and the items with one of its *follow* words (a spawn site,
//!    `main`), the fns, consts and statics they name are kept, up to `call_depth` calls
//!    deep (the depth the crate-wide analysis follows calls); a follow word with a
//!    target (`Drop => *spawn`) keeps only the items on call paths to a target item;
//! 4. every other item keeps its shape but not its insides: a fn's body, a struct's
//!    fields, a macro's input and a const's initializer are blanked. Blanking replaces
//!    every character by a space (newlines kept), so line and column of every kept
//!    token are unchanged and spans point into the original text.
//!
//! A file left with nothing but shapes is not parsed at all. Signatures, names, `use`
//! items and module declarations stay, so call resolution (which counts the candidates
//! of a name), path resolution and test-module detection see what they see in the
//! whole file. A test in the lint crate checks that findings are identical with and
//! without the prefilter on real crates and on every ui-test.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::outline::{outline, Item, ItemKind, LexFailure, Outline, Words};

fn kind_named(name: &str) -> Option<ItemKind> {
    Some(match name {
        "fn" => ItemKind::Fn,
        "struct" => ItemKind::Struct,
        "enum" => ItemKind::Enum,
        "union" => ItemKind::Union,
        "static" => ItemKind::Static,
        "const" => ItemKind::Const,
        "type" => ItemKind::Type,
        "macro" => ItemKind::Macro,
        "use" => ItemKind::Use,
        _ => return None,
    })
}

/// How many times the items naming a seed are added (see [`Prefilter::plan`]).
const BACKWARD_HOPS: usize = 2;

/// How far a lint's view reaches from its anchors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The kept items and what they call (see the module docs).
    Items,
    /// The whole crate, once an anchor occurs in it.
    Crate,
    /// Everything, always: the prefilter is off while the lint is enabled.
    Everything,
}

/// The words a lint declares (see the module docs). An anchor is a word, or words that
/// must all occur in one item (`"static & HashMap|BTreeMap"`: `static` and one of the
/// maps); `|` separates alternatives, and a word written `*part` matches every
/// identifier containing `part`. An anchor may start with the kinds of item it counts in:
/// `"struct,static,macro: *pool & Vec"`.
#[derive(Clone, Copy, Debug)]
pub struct Triggers {
    pub anchors: &'static [&'static str],
    pub context: &'static [&'static str],
    /// Words of the items whose calls the lint's analysis follows (a spawn site, `main`):
    /// what they call is kept, `call_depth` calls deep. Written `"Drop => *spawn"`, only
    /// what lies on a call path (of that depth) to an item with a target word is kept:
    /// the analysis looks for that item and reads nothing else on the way.
    pub follow: &'static [&'static str],
    /// Words of the kept items whose callers the lint reads (the callers of a spawn
    /// wrapper, the fns filling a static map): kept (one name deep for `wrapper:`
    /// entries, two for the rest), and followed.
    /// Written like anchors, with the kinds of item they count in; `"wrapper: *spawn"`
    /// counts the fns handing one of their parameters whole to a call named by the words
    /// (a spawn wrapper, whose callers' arguments are the spawned work).
    pub callers: &'static [&'static str],
    pub scope: Scope,
}

impl Triggers {
    /// A lint that reads nothing of its own (it judges other lints' findings).
    pub const NONE: Triggers = Triggers { anchors: &[], context: &[], follow: &[], callers: &[], scope: Scope::Items };
    /// A lint that needs every file parsed.
    pub const EVERYTHING: Triggers =
        Triggers { anchors: &[], context: &[], follow: &[], callers: &[], scope: Scope::Everything };
}

/// An anchor (or callers entry): the item kinds it counts in (empty: all), and groups
/// of words, of which an item must mention one word each.
#[derive(Clone, Debug)]
struct Anchor {
    kinds: Vec<ItemKind>,
    /// Written `wrapper:`: the words must name calls that get one of a fn's parameters
    /// whole ([`Item::passes_param_to`]: `fn go(f: F) { tokio::spawn(f) }`).
    ///
    /// [`Item::passes_param_to`]: crate::outline::Item::passes_param_to
    wrapper: bool,
    groups: Vec<Vec<u16>>,
}

impl Anchor {
    /// `"struct,static: *pool & Vec|VecDeque"`, `"wrapper: *spawn"`.
    fn parse(text: &str, words: &mut Words) -> Anchor {
        let (kinds, words_part) = match text.split_once(':') {
            Some((k, rest)) => (k.split(',').map(str::trim).collect(), rest),
            None => (Vec::new(), text),
        };
        let wrapper = kinds.contains(&"wrapper");
        let kinds = if wrapper { vec![ItemKind::Fn] } else { kinds.into_iter().filter_map(kind_named).collect() };
        let groups = words_part
            .split('&')
            .map(|group| group.split('|').map(|w| words.id_or_insert(w.trim())).collect())
            .collect();
        Anchor { kinds, wrapper, groups }
    }

    fn satisfied_by(&self, leaf: &Leaf<'_>) -> bool {
        let words = if self.wrapper { &leaf.item.passes_param_to } else { &leaf.words };
        (self.kinds.is_empty() || self.kinds.contains(&leaf.item.kind))
            && self.groups.iter().all(|g| g.iter().any(|w| words.contains(w)))
    }

    fn words(&self) -> impl Iterator<Item = u16> + '_ {
        self.groups.iter().flatten().copied()
    }
}

#[derive(Clone, Debug)]
struct LintWords {
    name: &'static str,
    anchors: Vec<Anchor>,
    context: Vec<u16>,
    follow: Vec<u16>,
    /// Follow words written `"Drop => *spawn"`: only the paths to an item with one of
    /// the target words matter (see [`Triggers::follow`]).
    follow_to: Vec<(u16, Vec<u16>)>,
    callers: Vec<Anchor>,
    whole_crate: bool,
}

/// The enabled lints' words, ready to outline files and plan crates.
#[derive(Clone, Debug)]
pub struct Prefilter {
    words: Words,
    lints: Vec<LintWords>,
    call_depth: usize,
    /// See [`Prefilter::parse_files_containing`].
    markers: Vec<&'static str>,
}

/// What [`Prefilter::plan`] decides for one crate.
#[derive(Clone, Debug)]
pub struct CratePlan {
    /// Per file, `None` to parse it whole, or the plan of every leaf in [`leaves`] order.
    pub files: Vec<Option<Vec<LeafPlan>>>,
    /// The lints that can fire in the crate (an anchor occurs in it); `None`: any.
    pub active: Option<Vec<&'static str>>,
}

/// What to do with one leaf item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafPlan {
    /// Parse it as written.
    Keep,
    /// Keep its shape (name, signature, attributes), blank its insides and doc comments.
    Shape,
    /// Blank all of it: nothing kept names it.
    Drop,
}

/// What to do with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilePlan {
    /// Parse the text as it is.
    Whole,
    /// Parse this text instead: the original with items blanked (same lines and columns).
    Reduced { text: String, blanked: usize },
    /// Nothing in the file can matter to an enabled lint.
    Skip,
}

impl FilePlan {
    /// Bytes of the original text the parser does not see.
    pub fn bytes_skipped(&self, original_len: usize) -> usize {
        match self {
            FilePlan::Whole => 0,
            FilePlan::Reduced { blanked, .. } => *blanked,
            FilePlan::Skip => original_len,
        }
    }
}

/// A file's outline, or why there is none.
pub type FileOutline = Result<Outline, LexFailure>;

impl Prefilter {
    /// The enabled lints by name; `None` when one needs every file (its scope is
    /// `Everything`).
    pub fn new(lints: &[(&'static str, Triggers)], call_depth: usize) -> Option<Prefilter> {
        if lints.iter().any(|(_, t)| t.scope == Scope::Everything) {
            return None;
        }
        let mut words = Words::default();
        let lints = lints
            .iter()
            .map(|&(name, t)| LintWords {
                name,
                anchors: t.anchors.iter().map(|a| Anchor::parse(a, &mut words)).collect(),
                context: t.context.iter().map(|w| words.id_or_insert(w)).collect(),
                follow: t.follow.iter().filter(|f| !f.contains("=>")).map(|w| words.id_or_insert(w)).collect(),
                follow_to: t
                    .follow
                    .iter()
                    .filter_map(|f| f.split_once("=>"))
                    .map(|(from, to)| {
                        let to = to.split('|').map(|w| words.id_or_insert(w.trim())).collect();
                        (words.id_or_insert(from.trim()), to)
                    })
                    .collect(),
                callers: t.callers.iter().map(|a| Anchor::parse(a, &mut words)).collect(),
                whole_crate: t.scope == Scope::Crate,
            })
            .collect();
        Some(Prefilter { words, lints, call_depth, markers: Vec::new() })
    }

    /// Files whose text contains `marker` are parsed even when none of their items is
    /// kept: a lint reads something in them that is not an item (`unused_suppression`,
    /// the suppression comments). Skipping such a file would change that lint's findings.
    pub fn parse_files_containing(mut self, marker: &'static str) -> Prefilter {
        self.markers.push(marker);
        self
    }

    /// Step one, per file (in parallel): the outline.
    pub fn outline(&self, text: &str) -> FileOutline {
        outline(text, &self.words)
    }

    /// Step two, per crate: which lints can fire, and which leaf items each file keeps
    /// (see the module docs).
    pub fn plan(&self, outlines: &[&FileOutline]) -> CratePlan {
        let files: Vec<Option<Vec<Leaf<'_>>>> = outlines.iter().map(|o| o.as_ref().ok().map(leaves)).collect();
        let outlined = files.iter().all(Option::is_some);
        // 1. Active lints: an anchor is satisfied by some item.
        let mut active_flags = vec![false; self.lints.len()];
        for leaf in files.iter().flatten().flatten().filter(|l| !l.words.is_empty()) {
            for (li, l) in self.lints.iter().enumerate() {
                active_flags[li] |= l.anchors.iter().any(|a| a.satisfied_by(leaf));
            }
        }
        let active: Vec<&LintWords> =
            self.lints.iter().zip(&active_flags).filter(|(_, &a)| a).map(|(l, _)| l).collect();
        // A file that could not be outlined may hold any anchor: then every lint may fire.
        let active_names = outlined.then(|| active.iter().map(|l| l.name).collect());
        if active.iter().any(|l| l.whole_crate) {
            return CratePlan { files: vec![None; files.len()], active: active_names };
        }
        // 2. Seeds: items with an active lint's anchor or context word. Items with a
        // follow word are followed; the callers of a seed of a `callers` lint are kept
        // and followed, and so are those of a seed `use` (`use tokio::spawn as go;`).
        let mut keep: Vec<Vec<bool>> = files.iter().map(|f| vec![false; f.as_ref().map_or(0, Vec::len)]).collect();
        let mut queue: VecDeque<(usize, usize, usize)> = VecDeque::new();
        // Names whose callers are kept, with how many hops of callers.
        let mut seed_names: HashMap<u64, usize> = HashMap::new();
        fn add_seed(names: &mut HashMap<u64, usize>, h: u64, hops: usize) {
            let e = names.entry(h).or_insert(hops);
            *e = (*e).max(hops);
        }
        let mut is_follow = vec![false; self.words.len()];
        for l in &active {
            for &w in &l.follow {
                is_follow[w as usize] = true;
            }
        }
        for (fi, f) in files.iter().enumerate() {
            for (li, leaf) in f.iter().flatten().enumerate() {
                let ws = &leaf.words;
                if ws.is_empty() {
                    continue;
                }
                // A `use` importing an anchor word under another name is a seed whatever
                // the rest of the anchor (`use std::thread::sleep as nap;`).
                let is_use = leaf.item.kind == ItemKind::Use;
                let seed = active.iter().any(|l| {
                    l.context.iter().any(|w| ws.contains(w))
                        || l.anchors.iter().any(|a| a.satisfied_by(leaf))
                        || is_use && l.anchors.iter().flat_map(Anchor::words).any(|w| ws.contains(&w))
                });
                let follow = ws.iter().any(|&w| is_follow[w as usize]);
                if !(seed || follow) {
                    continue;
                }
                keep[fi][li] = true;
                if follow {
                    queue.push_back((fi, li, 0));
                }
                // An associated type is never named alone (`Self::Item`, `<T as X>::Output`).
                let assoc_type = leaf.item.kind == ItemKind::Type && leaf.in_impl;
                if !assoc_type {
                    // A wrapper's callers hold the work it is handed: one hop. The fns
                    // filling a static map behind a type alias are two names away.
                    let hops = active
                        .iter()
                        .flat_map(|l| &l.callers)
                        .filter(|a| a.satisfied_by(leaf))
                        .map(|a| if a.wrapper { 1 } else { BACKWARD_HOPS })
                        .max();
                    if let (Some(hops), Some(h)) = (hops, leaf.item.name_hash) {
                        add_seed(&mut seed_names, h, hops);
                    }
                }
                for &h in &leaf.item.declares {
                    add_seed(&mut seed_names, h, BACKWARD_HOPS);
                }
            }
        }
        // Callers: of a spawn wrapper; the fns filling a static map, the static behind a
        // type alias and the fns filling that static.
        while !seed_names.is_empty() {
            let mut next: HashMap<u64, usize> = HashMap::new();
            for (fi, f) in files.iter().enumerate() {
                for (li, leaf) in f.iter().flatten().enumerate() {
                    let names_one = matches!(leaf.item.kind, ItemKind::Fn | ItemKind::Static | ItemKind::Const);
                    if keep[fi][li] || !names_one {
                        continue;
                    }
                    let Some(hops) = leaf.item.idents.iter().filter_map(|h| seed_names.get(h)).max() else { continue };
                    keep[fi][li] = true;
                    queue.push_back((fi, li, 0));
                    if let (Some(h), true) = (leaf.item.name_hash, *hops > 1) {
                        add_seed(&mut next, h, hops - 1);
                    }
                }
            }
            seed_names = next;
        }

        // 3. What the kept items name, to the call depth.
        let mut by_name: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
        for (fi, f) in files.iter().enumerate() {
            for (li, leaf) in f.iter().flatten().enumerate() {
                if matches!(leaf.item.kind, ItemKind::Fn | ItemKind::Const | ItemKind::Static) {
                    if let Some(h) = leaf.item.name_hash {
                        by_name.entry(h).or_default().push((fi, li));
                    }
                }
                if leaf.item.kind == ItemKind::Macro {
                    for &h in &leaf.item.declares {
                        by_name.entry(h).or_default().push((fi, li));
                    }
                }
            }
        }
        while let Some((fi, li, depth)) = queue.pop_front() {
            if depth >= self.call_depth {
                continue;
            }
            let Some(leaves) = &files[fi] else { continue };
            for h in &leaves[li].item.idents {
                for &(tf, tl) in by_name.get(h).into_iter().flatten() {
                    if !keep[tf][tl] {
                        keep[tf][tl] = true;
                        queue.push_back((tf, tl, depth + 1));
                    }
                }
            }
        }
        // 3b. Follows toward a target: the items on a call path from a follow item to a
        // target item, both ends included. Every node of such a path is within the call
        // depth of the start, so it is in the forward closure; of that closure, the
        // items naming (transitively) a target are kept.
        let mut targeted: Vec<(u16, &[u16])> = Vec::new();
        for l in &active {
            for (from, to) in &l.follow_to {
                if !targeted.iter().any(|(f, t)| f == from && *t == to.as_slice()) {
                    targeted.push((*from, to));
                }
            }
        }
        // Names a `use` gives to a word of the set (`use tokio::spawn as go;`): naming one
        // names the word.
        let aliases: HashSet<u64> = files
            .iter()
            .flatten()
            .flatten()
            .filter(|l| l.item.kind == ItemKind::Use)
            .flat_map(|l| l.item.declares.iter().copied())
            .collect();
        for (from, to) in targeted {
            let mut reached: Vec<(usize, usize)> = Vec::new();
            let mut seen: HashSet<(usize, usize)> = HashSet::new();
            let mut frontier: Vec<(usize, usize)> = Vec::new();
            for (fi, f) in files.iter().enumerate() {
                for (li, leaf) in f.iter().flatten().enumerate() {
                    if leaf.words.contains(&from) && seen.insert((fi, li)) {
                        frontier.push((fi, li));
                    }
                }
            }
            for depth in 0..=self.call_depth {
                reached.extend(&frontier);
                if depth == self.call_depth {
                    break;
                }
                let mut next = Vec::new();
                for &(fi, li) in &frontier {
                    let Some(leaves) = &files[fi] else { continue };
                    for h in &leaves[li].item.idents {
                        for &t in by_name.get(h).into_iter().flatten() {
                            if seen.insert(t) {
                                next.push(t);
                            }
                        }
                    }
                }
                frontier = next;
            }
            let leaf_of = |(fi, li): (usize, usize)| &files[fi].as_ref().expect("reached leaves are outlined")[li];
            let mut useful: HashSet<(usize, usize)> = reached
                .iter()
                .copied()
                .filter(|&r| {
                    let leaf = leaf_of(r);
                    to.iter().any(|w| leaf.words.contains(w)) || leaf.item.idents.iter().any(|h| aliases.contains(h))
                })
                .collect();
            loop {
                let more: Vec<(usize, usize)> = reached
                    .iter()
                    .copied()
                    .filter(|r| !useful.contains(r))
                    .filter(|&r| {
                        leaf_of(r)
                            .item
                            .idents
                            .iter()
                            .any(|h| by_name.get(h).into_iter().flatten().any(|t| useful.contains(t)))
                    })
                    .collect();
                if more.is_empty() {
                    break;
                }
                useful.extend(more);
            }
            for (fi, li) in useful {
                keep[fi][li] = true;
            }
        }
        // 4. The rest keeps its shape when a kept item names it (call resolution counts
        // the candidates of a name) and goes entirely otherwise. A file that could not be
        // outlined is parsed whole and may name anything: then every shape stays.
        let mut named: HashSet<u64> = HashSet::new();
        if outlined {
            for (f, k) in files.iter().zip(&keep) {
                for (leaf, _) in f.iter().flatten().zip(k).filter(|(_, &kept)| kept) {
                    named.extend(&leaf.item.idents);
                }
            }
        }
        let files = files
            .iter()
            .zip(keep)
            .map(|(f, k)| {
                let f = f.as_ref()?;
                Some(
                    f.iter()
                        .zip(k)
                        .map(|(leaf, kept)| {
                            let item = leaf.item;
                            if kept {
                                LeafPlan::Keep
                            } else if item.kind == ItemKind::InnerAttr && item.idents.is_empty()
                                || outlined
                                    && matches!(
                                        item.kind,
                                        ItemKind::Fn | ItemKind::Const | ItemKind::Static | ItemKind::Macro
                                    )
                                    && !item.name_hash.iter().chain(&item.declares).any(|h| named.contains(h))
                            {
                                LeafPlan::Drop
                            } else {
                                LeafPlan::Shape
                            }
                        })
                        .collect(),
                )
            })
            .collect();
        CratePlan { files, active: active_names }
    }

    /// Step three, per file (in parallel): the text to parse.
    pub fn reduce(&self, text: &str, outline: &FileOutline, keep: Option<&[LeafPlan]>) -> FilePlan {
        let (Ok(outline), Some(keep)) = (outline, keep) else { return FilePlan::Whole };
        let leaves = leaves(outline);
        let mut cuts: Vec<(usize, usize, bool)> = Vec::new();
        let mut shapes_only = true;
        for (leaf, &plan) in leaves.iter().zip(keep) {
            let item = leaf.item;
            match plan {
                LeafPlan::Drop => cuts.push((item.start as usize, item.end as usize, false)),
                LeafPlan::Shape => {
                    // Doc comments become attributes the parser builds; a shape needs none.
                    if item.docs_end > item.start {
                        cuts.push((item.start as usize, item.docs_end as usize, false));
                    }
                    match item.inner {
                        Some(inner) => cuts.push((inner.start as usize, inner.end as usize, inner.expr)),
                        None => shapes_only &= !matters_alone(item, false, text),
                    }
                }
                LeafPlan::Keep => shapes_only &= !matters_alone(item, true, text),
            }
        }
        if shapes_only && !self.markers.iter().any(|m| text.contains(m)) {
            return FilePlan::Skip;
        }
        if cuts.is_empty() {
            return FilePlan::Whole;
        }
        cuts.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut blanked = 0;
        for (start, end, expr) in cuts {
            if start < at || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                continue;
            }
            out.push_str(&text[at..start]);
            let mut first = expr;
            let mut chars = text[start..end].chars().peekable();
            if first {
                // An initializer must stay an expression: `()` (never an integer, so no
                // constant value appears that the file does not have).
                out.push_str("()");
                chars.next();
                chars.next();
                first = false;
            }
            debug_assert!(!first);
            for c in chars {
                out.push(if c == '\n' || c == '\r' { c } else { ' ' });
            }
            blanked += end - start;
            at = end;
        }
        out.push_str(&text[at..]);
        FilePlan::Reduced { text: out, blanked }
    }
}

/// Whether an item that is not blanked tells the analysis something even when the rest
/// of its file is only shapes (when no item in a file does, the file is not parsed).
fn matters_alone(item: &Item, kept: bool, text: &str) -> bool {
    let src = &text[item.start as usize..item.end as usize];
    match item.kind {
        ItemKind::Use | ItemKind::ExternCrate | ItemKind::Type => false,
        // `#![cfg(test)]` makes the file test code; `#[cfg(test)] mod x;` makes `x` test code.
        ItemKind::InnerAttr | ItemKind::ModDecl => item.cfg_test || src.contains("test"),
        // A unit struct (`struct Token;`) is a fact of its own.
        ItemKind::Struct | ItemKind::Enum | ItemKind::Union => true,
        // Shapes: a fn without a body, `foo!();`, a one-token initializer nobody names.
        ItemKind::Fn | ItemKind::Macro | ItemKind::MacroRules | ItemKind::Const | ItemKind::Static => kept,
        _ => true,
    }
}

/// A leaf item with its words and those of the containers around it (an
/// `impl Drop for ..` header makes its `fn drop` mention `Drop`), sorted.
pub struct Leaf<'a> {
    pub item: &'a Item,
    pub words: Vec<u16>,
    /// A member of an `impl` or `trait` block.
    pub in_impl: bool,
}

/// The leaves of an outline, depth first (the order of [`Prefilter::plan`]'s flags).
pub fn leaves(o: &Outline) -> Vec<Leaf<'_>> {
    fn walk<'a>(items: &'a [Item], headers: &mut Vec<u16>, in_impl: bool, out: &mut Vec<Leaf<'a>>) {
        for it in items {
            if it.kind.is_container() && it.body.is_some() {
                let len = headers.len();
                headers.extend(&it.words);
                walk(&it.children, headers, matches!(it.kind, ItemKind::Impl | ItemKind::Trait), out);
                headers.truncate(len);
            } else {
                let mut words: Vec<u16> = it.words.iter().chain(headers.iter()).copied().collect();
                words.sort_unstable();
                words.dedup();
                out.push(Leaf { item: it, words, in_impl });
            }
        }
    }
    let mut out = Vec::new();
    walk(&o.items, &mut Vec::new(), false, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAWNS: Triggers =
        Triggers { anchors: &["spawn"], context: &[], follow: &["spawn"], callers: &["spawn"], scope: Scope::Items };

    fn plan(pf: &Prefilter, texts: &[&str]) -> Vec<FilePlan> {
        let outlines: Vec<FileOutline> = texts.iter().map(|t| pf.outline(t)).collect();
        let refs: Vec<&FileOutline> = outlines.iter().collect();
        let keeps = pf.plan(&refs).files;
        texts.iter().zip(&outlines).zip(&keeps).map(|((t, o), k)| pf.reduce(t, o, k.as_deref())).collect()
    }

    fn reduced(p: &FilePlan) -> &str {
        match p {
            FilePlan::Reduced { text, .. } => text,
            other => panic!("not reduced: {other:?}"),
        }
    }

    #[test]
    fn keeps_anchors_their_callers_and_callees_shapes_what_they_name_and_drops_the_rest() {
        let pf = Prefilter::new(&[("spawns", SPAWNS)], 2).unwrap();
        let a = "use x::y;\nfn start() { go(async { work().await }) }\nfn go<F>(f: F) { tokio::spawn(f); }\n\
                 async fn work() { deeper() }\nfn deeper() { deepest() }\n/// The end.\nfn deepest() { 1 }\n\
                 fn unrelated() { let é = 1; }\nconst TABLE: [u8; 3] = [1, 2, 3];\nstruct S { a: u8 }\n";
        let b = "fn other() { helper() }\nfn helper() {}\n";
        let plans = plan(&pf, &[a, b]);
        let r = reduced(&plans[0]);
        // Same characters per line: every span's line and column are unchanged.
        assert!(r.lines().zip(a.lines()).all(|(x, y)| x.chars().count() == y.chars().count()));
        assert_eq!(r.lines().count(), a.lines().count());
        let expect = "use x::y;\nfn start() { go(async { work().await }) }\nfn go<F>(f: F) { tokio::spawn(f); }\n\
                      async fn work() { deeper() }\nfn deeper() { deepest() }\n            \nfn deepest() {   }\n\
                      {unrelated}\n{table}\nstruct S {       }\n"
            .replace("{unrelated}", &" ".repeat(29))
            .replace("{table}", &" ".repeat(33));
        assert_eq!(r, expect);
        assert_eq!(plans[1], FilePlan::Skip);
    }

    #[test]
    fn a_file_of_a_crate_without_anchors_is_skipped_and_bad_input_parsed_whole() {
        let pf = Prefilter::new(&[("spawns", SPAWNS)], 4).unwrap();
        let plans = plan(&pf, &["fn a() { loop {} }", "fn b() { (]", "#![cfg(test)]\nfn c() { x() }"]);
        assert_eq!(plans[0], FilePlan::Skip);
        assert_eq!(plans[1], FilePlan::Whole);
        assert!(matches!(plans[2], FilePlan::Reduced { .. }));
    }

    #[test]
    fn crate_scope_keeps_the_whole_crate_once_active() {
        let pools = Triggers { anchors: &["Pool"], context: &[], follow: &[], callers: &[], scope: Scope::Crate };
        let pf = Prefilter::new(&[("spawns", SPAWNS), ("pools", pools)], 4).unwrap();
        assert_eq!(plan(&pf, &["fn a() { Pool::new(); }", "fn b() {}"]), [FilePlan::Whole, FilePlan::Whole]);
        assert!(Prefilter::new(&[("spawns", SPAWNS), ("all", Triggers::EVERYTHING)], 4).is_none());
    }

    /// The fns of `text` kept whole (their body not blanked), by name.
    fn kept_fns(pf: &Prefilter, text: &str) -> Vec<String> {
        let plans = plan(pf, &[text]);
        let r = match &plans[0] {
            FilePlan::Whole => text,
            FilePlan::Skip => "",
            FilePlan::Reduced { text, .. } => text.as_str(),
        };
        r.lines()
            .filter(|l| {
                l.contains("fn ") && l.split_once('{').is_none_or(|(_, b)| b.trim() != "}") && !l.trim().is_empty()
            })
            .filter_map(|l| {
                let name = l.split("fn ").nth(1)?;
                Some(name.split(|c: char| !c.is_alphanumeric() && c != '_').next()?.to_string())
            })
            .collect()
    }

    #[test]
    fn only_the_callers_of_a_wrapper_are_kept_and_only_one_hop() {
        let t = Triggers {
            anchors: &["*spawn"],
            context: &[],
            follow: &[],
            callers: &["wrapper: *spawn"],
            scope: Scope::Items,
        };
        let pf = Prefilter::new(&[("spawns", t)], 4).unwrap();
        let text = "fn go<F: Fn(u8)>(mut f: F) { tokio::spawn(&mut (f)); }
                    fn start() { go(job()) }
                    fn main() { start() }
                    fn tick(n: u64) { log(n); tokio::spawn(async move { work(n) }); }
                    fn poll() { tick(1) }
";
        // `go` hands its parameter to the spawn: its caller `start` holds the work; `main`
        // (two hops) and the callers of `tick` (which spawns its own work) are not read.
        assert_eq!(kept_fns(&pf, text), ["go", "start", "tick"]);
    }

    #[test]
    fn a_follow_with_a_target_keeps_only_the_paths_to_it() {
        let t = Triggers {
            anchors: &["Drop"],
            context: &[],
            follow: &["Drop => *spawn"],
            callers: &[],
            scope: Scope::Items,
        };
        let pf = Prefilter::new(&[("drops", t)], 4).unwrap();
        let text = "impl Drop for Conn {\n    fn drop(&mut self) { close(); flush(); }\n}\n\
                    fn close() { notify() }\n\
                    fn notify() { tokio::spawn(async {}); }\n\
                    fn flush() { write() }\n\
                    fn write() { 1 }\n";
        assert_eq!(kept_fns(&pf, text), ["drop", "close", "notify"]);
        // A `use` renaming the target word counts as the word.
        let aliased = "use tokio::spawn as go;\nimpl Drop for Conn {\n    fn drop(&mut self) { close(); }\n}\n\
                       fn close() { go(async {}) }\n";
        assert_eq!(kept_fns(&pf, aliased), ["drop", "close"]);
    }
}
