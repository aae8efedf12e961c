//! The task inventory (`taskcheck tasks`) as a table, JSON (schema in `docs/tasks.md`),
//! Graphviz DOT and a Mermaid flowchart: functions → the tasks they spawn → what stops
//! them. Formatting only: what a task is and how it stops is decided in
//! `taskcheck_lints::analysis::inventory`.

use std::collections::HashMap;

use serde::Serialize;
use taskcheck_lints::analysis::handles::UseKind;
use taskcheck_lints::analysis::inventory::{
    Fate, FateKind, FnName, Forever, ForeverKind, ForeverNote, Inventory, Location, Source, Stop, StopBy, Task, Through,
};

/// The version of the JSON document's schema; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

fn loc(l: &Location) -> String {
    format!("{}:{}:{}", l.file, l.line, l.column)
}

fn rel_loc(l: &Location) -> String {
    format!("{}:{}:{}", l.rel, l.line, l.column)
}

/// What happened to a handle, as the table says it.
fn fate_text(f: &Fate) -> String {
    let base = match &f.kind {
        FateKind::Detached => "detached".to_string(),
        FateKind::Dropped => "dropped (cancels it)".to_string(),
        FateKind::Set => "owned by the set".to_string(),
        FateKind::Scope => "joined by the scope".to_string(),
        FateKind::Tracked => "tracked (handle dropped)".to_string(),
        FateKind::Kept => "kept".to_string(),
        FateKind::Use(u) => match u {
            UseKind::Stored { ty: Some(t), field } => format!("stored in {t}.{field}"),
            UseKind::Stored { ty: None, field } => format!("stored in {field}"),
            UseKind::Pushed(into) => format!("pushed into {into}"),
            UseKind::Passed(to) => format!("passed to {to}"),
            UseKind::Returned => "returned".to_string(),
            UseKind::Awaited => "awaited".to_string(),
            UseKind::Joined => "joined".to_string(),
            UseKind::Aborted => "aborted".to_string(),
        },
    };
    match f.through {
        Through::Caller => format!("{base} by caller"),
        Through::Direct | Through::Field => base,
    }
}

/// The handle column: each fate once, where the handle goes before what is done with it.
pub fn handle_text(t: &Task) -> String {
    let mut parts: Vec<String> = Vec::new();
    for f in &t.handle {
        let s = fate_text(f);
        if !parts.contains(&s) {
            parts.push(s);
        }
    }
    parts.join(", ")
}

fn forever_text(f: &Forever) -> String {
    let what = match f.kind {
        ForeverKind::Loop | ForeverKind::ParkLoop => "loop",
        ForeverKind::Pending => "pending().await",
    };
    let mut s = format!("{what} at {}", loc(&f.at));
    if let Some(func) = &f.function {
        s.push_str(&format!(" in {}", func.short()));
    }
    match (&f.note, f.kind) {
        (Some(ForeverNote::OnlyErrors), _) => s.push_str(" (only ends on error or panic)"),
        (Some(ForeverNote::CancelNoLeave(c)), _) => {
            s.push_str(&format!(" (its cancellation branch at {} does not leave it)", loc(c)))
        }
        (None, ForeverKind::ParkLoop) => s.push_str(" (parks or spins forever)"),
        (None, _) => {}
    }
    s
}

fn source_text(s: &Source) -> String {
    match s.by {
        StopBy::Observed(kind) => {
            let mut out = format!("{} ({})", s.expr.as_deref().unwrap_or("?"), kind.label());
            if let Some(at) = &s.at {
                out.push_str(&format!(" at {}", loc(at)));
            }
            out
        }
        StopBy::Abort => match &s.at {
            Some(at) => format!("aborted at {}", loc(at)),
            None => "aborted".to_string(),
        },
        StopBy::SetDropped => "its JoinSet aborts it on shutdown or drop".to_string(),
        StopBy::TaskDropped => "cancelled when its Task is dropped".to_string(),
    }
}

/// The "how it stops" column: the evidence behind the task's class.
pub fn how_text(t: &Task) -> String {
    let mut parts: Vec<String> = match t.stop {
        Stop::Never => t.forever.iter().map(forever_text).collect(),
        Stop::Aborted => t.sources.iter().map(source_text).chain(t.forever.iter().map(forever_text)).collect(),
        Stop::ChannelClose | Stop::Cancellation => t.sources.iter().map(source_text).collect(),
        Stop::Finite => Vec::new(),
        Stop::Delegated => vec!["runs the work its callers pass".to_string()],
    };
    if t.singleton {
        parts.push("process-lifetime singleton".to_string());
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join("; ")
    }
}

fn spawner_text(t: &Task) -> String {
    match &t.via {
        Some(w) => format!("{} via {}", t.spawner.label(), w.short()),
        None => t.spawner.label().to_string(),
    }
}

fn findings_text(t: &Task) -> String {
    let mut lints: Vec<&str> = Vec::new();
    for f in &t.findings {
        if !lints.contains(&f.lint.as_str()) {
            lints.push(&f.lint);
        }
    }
    if lints.is_empty() {
        "-".to_string()
    } else {
        lints.join(", ")
    }
}

/// `taskcheck: 21 spawn sites: 6 stop on cancellation, 1 on channel close, 3 when
/// aborted, 4 finite, 7 never` (and the wrappers' own spawns, when there are any).
pub fn summary_line(inv: &Inventory) -> String {
    let s = inv.summary();
    let cancel = s.count(Stop::Cancellation);
    let mut line = format!(
        "taskcheck: {} spawn site{}: {cancel} {} on cancellation, {} on channel close, {} when aborted, {} finite, {} never",
        s.total,
        if s.total == 1 { "" } else { "s" },
        if cancel == 1 { "stops" } else { "stop" },
        s.count(Stop::ChannelClose),
        s.count(Stop::Aborted),
        s.count(Stop::Finite),
        s.count(Stop::Never),
    );
    let delegated = s.count(Stop::Delegated);
    if delegated > 0 {
        line.push_str(&format!(", {delegated} run their callers' work"));
    }
    line
}

/// The human table, most risky first (the summary line is [`summary_line`]).
pub fn table(inv: &Inventory) -> String {
    let header = ["stops", "location", "spawner", "function", "handle", "findings", "how it stops"];
    let mut rows: Vec<[String; 7]> = vec![header.map(String::from)];
    for t in &inv.tasks {
        rows.push([
            t.stop.label().to_string(),
            loc(&t.at),
            spawner_text(t),
            t.function.short(),
            handle_text(t),
            findings_text(t),
            how_text(t),
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

// ---- JSON ----

#[derive(Serialize)]
struct JsonDoc<'a> {
    version: u32,
    summary: JsonSummary,
    tasks: Vec<JsonTask<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    spawn_sites: usize,
    never: usize,
    aborted: usize,
    channel_close: usize,
    cancellation: usize,
    finite: usize,
    delegated: usize,
}

#[derive(Serialize)]
struct JsonLoc<'a> {
    file: &'a str,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonFn<'a> {
    module: &'a str,
    #[serde(rename = "type")]
    ty: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct JsonTask<'a> {
    location: JsonLoc<'a>,
    stops: &'static str,
    spawner: &'static str,
    via: Option<JsonFn<'a>>,
    function: JsonFn<'a>,
    parent: Option<JsonLoc<'a>>,
    handle: Vec<JsonFate<'a>>,
    sources: Vec<JsonSource<'a>>,
    forever: Vec<JsonForever<'a>>,
    singleton: bool,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFate<'a> {
    kind: &'static str,
    through: &'static str,
    /// `stored`: the struct type (when known) and field.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    ty: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// `pushed`: the collection; `passed`: the fn or method.
    #[serde(skip_serializing_if = "Option::is_none")]
    into: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    location: Option<JsonLoc<'a>>,
}

#[derive(Serialize)]
struct JsonSource<'a> {
    kind: &'static str,
    expr: Option<&'a str>,
    location: Option<JsonLoc<'a>>,
}

#[derive(Serialize)]
struct JsonForever<'a> {
    kind: &'static str,
    location: JsonLoc<'a>,
    function: Option<JsonFn<'a>>,
    note: Option<&'static str>,
    cancel_branch: Option<JsonLoc<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    lint: &'a str,
    level: &'static str,
    message: &'a str,
    location: JsonLoc<'a>,
}

fn jloc(l: &Location) -> JsonLoc<'_> {
    JsonLoc { file: &l.file, line: l.line, column: l.column }
}

fn jfn(f: &FnName) -> JsonFn<'_> {
    JsonFn { module: &f.module, ty: f.ty.as_deref(), name: &f.name }
}

fn jfate(f: &Fate) -> JsonFate<'_> {
    let mut j = JsonFate {
        kind: "",
        through: match f.through {
            Through::Direct => "direct",
            Through::Field => "field",
            Through::Caller => "caller",
        },
        ty: None,
        field: None,
        into: None,
        to: None,
        location: f.at.as_ref().map(jloc),
    };
    j.kind = match &f.kind {
        FateKind::Detached => "detached",
        FateKind::Dropped => "dropped",
        FateKind::Set => "set",
        FateKind::Scope => "scope",
        FateKind::Tracked => "tracked",
        FateKind::Kept => "kept",
        FateKind::Use(u) => match u {
            UseKind::Stored { ty, field } => {
                j.ty = ty.as_deref();
                j.field = Some(field);
                "stored"
            }
            UseKind::Pushed(into) => {
                j.into = Some(into);
                "pushed"
            }
            UseKind::Passed(to) => {
                j.to = Some(to);
                "passed"
            }
            UseKind::Returned => "returned",
            UseKind::Awaited => "awaited",
            UseKind::Joined => "joined",
            UseKind::Aborted => "aborted",
        },
    };
    j
}

fn jforever(f: &Forever) -> JsonForever<'_> {
    JsonForever {
        kind: match f.kind {
            ForeverKind::Loop => "loop",
            ForeverKind::Pending => "pending",
            ForeverKind::ParkLoop => "park_loop",
        },
        location: jloc(&f.at),
        function: f.function.as_ref().map(jfn),
        note: f.note.as_ref().map(|n| match n {
            ForeverNote::OnlyErrors => "only_ends_on_error",
            ForeverNote::CancelNoLeave(_) => "cancel_branch_does_not_leave",
        }),
        cancel_branch: match &f.note {
            Some(ForeverNote::CancelNoLeave(c)) => Some(jloc(c)),
            _ => None,
        },
    }
}

/// The inventory as one pretty-printed JSON document (schema: `docs/tasks.md`).
pub fn json(inv: &Inventory) -> String {
    let s = inv.summary();
    let doc = JsonDoc {
        version: JSON_VERSION,
        summary: JsonSummary {
            spawn_sites: s.total,
            never: s.count(Stop::Never),
            aborted: s.count(Stop::Aborted),
            channel_close: s.count(Stop::ChannelClose),
            cancellation: s.count(Stop::Cancellation),
            finite: s.count(Stop::Finite),
            delegated: s.count(Stop::Delegated),
        },
        tasks: inv
            .tasks
            .iter()
            .map(|t| JsonTask {
                location: jloc(&t.at),
                stops: t.stop.id(),
                spawner: t.spawner.id(),
                via: t.via.as_ref().map(jfn),
                function: jfn(&t.function),
                parent: t.parent.as_ref().map(jloc),
                handle: t.handle.iter().map(jfate).collect(),
                sources: t
                    .sources
                    .iter()
                    .map(|s| JsonSource { kind: s.by.id(), expr: s.expr.as_deref(), location: s.at.as_ref().map(jloc) })
                    .collect(),
                forever: t.forever.iter().map(jforever).collect(),
                singleton: t.singleton,
                findings: t
                    .findings
                    .iter()
                    .map(|f| JsonFinding { lint: &f.lint, level: f.level, message: &f.message, location: jloc(&f.at) })
                    .collect(),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    out.push('\n');
    out
}

// ---- graphs ----

/// What a graph node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeKind {
    Function,
    Task(Stop),
    Source,
    Forever,
}

struct Node {
    id: String,
    kind: NodeKind,
    /// Lines of the label.
    label: Vec<String>,
}

struct Edge {
    from: usize,
    to: usize,
    label: Option<&'static str>,
}

/// Functions → tasks → what stops them (and, for tasks that never stop, what runs
/// forever), with nodes numbered in the inventory's order.
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl NodeKind {
    /// Nodes are declared functions first, then tasks, sources and what runs forever.
    fn rank(self) -> usize {
        match self {
            NodeKind::Function => 0,
            NodeKind::Task(_) => 1,
            NodeKind::Source => 2,
            NodeKind::Forever => 3,
        }
    }
}

impl Graph {
    fn of(inv: &Inventory) -> Graph {
        let mut g = Graph { nodes: Vec::new(), edges: Vec::new() };
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut counts: HashMap<char, usize> = HashMap::new();
        let mut node = |g: &mut Graph, key: String, kind: NodeKind, label: Vec<String>| -> usize {
            if let Some(&i) = keys.get(&key) {
                return i;
            }
            let prefix = match kind {
                NodeKind::Function => 'f',
                NodeKind::Task(_) => 't',
                NodeKind::Source => 's',
                NodeKind::Forever => 'x',
            };
            let n = counts.entry(prefix).or_default();
            *n += 1;
            g.nodes.push(Node { id: format!("{prefix}{n}"), kind, label });
            keys.insert(key, g.nodes.len() - 1);
            g.nodes.len() - 1
        };
        let task_key = |l: &Location| format!("task {}", loc(l));
        // Tasks first, so that a nested task's parent exists when its edge is drawn.
        let tasks: Vec<usize> = inv
            .tasks
            .iter()
            .map(|t| {
                let label = vec![format!("{} · {}", spawner_text(t), t.stop.label()), rel_loc(&t.at)];
                node(&mut g, task_key(&t.at), NodeKind::Task(t.stop), label)
            })
            .collect();
        let by_place: HashMap<String, usize> = inv.tasks.iter().zip(&tasks).map(|(t, &i)| (loc(&t.at), i)).collect();
        for (t, &ti) in inv.tasks.iter().zip(&tasks) {
            let parent = match t.parent.as_ref().and_then(|p| by_place.get(&loc(p))) {
                Some(&p) => p,
                None => {
                    let key = format!("fn {} {}", t.at.file, t.function.qualified());
                    let label = vec![t.function.qualified(), t.at.rel.clone()];
                    node(&mut g, key, NodeKind::Function, label)
                }
            };
            g.edges.push(Edge { from: parent, to: ti, label: None });
            for (si, s) in t.sources.iter().enumerate() {
                let (label, edge) = match s.by {
                    StopBy::Observed(k) => (s.expr.clone().unwrap_or_default(), k.label()),
                    StopBy::Abort => ("abort()".to_string(), "aborted"),
                    StopBy::SetDropped => ("JoinSet shutdown or drop".to_string(), "aborted"),
                    StopBy::TaskDropped => ("Task dropped".to_string(), "cancelled"),
                };
                let (key, lines) = match &s.at {
                    Some(at) => (format!("source {} {label} {}", s.by.id(), loc(at)), vec![label, rel_loc(at)]),
                    // Without a place, the source belongs to this task alone.
                    None => (format!("source {} {si} of {}", s.by.id(), loc(&t.at)), vec![label]),
                };
                let to = node(&mut g, key, NodeKind::Source, lines);
                g.edges.push(Edge { from: ti, to, label: Some(edge) });
            }
            if t.stop == Stop::Never {
                for f in &t.forever {
                    let what = match f.kind {
                        ForeverKind::Loop | ForeverKind::ParkLoop => "loop",
                        ForeverKind::Pending => "pending().await",
                    };
                    let first = match &f.function {
                        Some(func) => format!("{what} in {}", func.short()),
                        None => what.to_string(),
                    };
                    let to =
                        node(&mut g, format!("forever {}", loc(&f.at)), NodeKind::Forever, vec![first, rel_loc(&f.at)]);
                    g.edges.push(Edge { from: ti, to, label: Some("never ends") });
                }
            }
        }
        g
    }

    /// The nodes in declaration order (by kind, each kind in numbering order).
    fn declared(&self) -> Vec<&Node> {
        let mut nodes: Vec<&Node> = self.nodes.iter().collect();
        nodes.sort_by_key(|n| n.kind.rank());
        nodes
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT: `taskcheck tasks --format dot | dot -Tsvg > tasks.svg`.
pub fn dot(inv: &Inventory) -> String {
    let g = Graph::of(inv);
    let mut out = String::from(
        "digraph tasks {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for n in g.declared() {
        let label = n.label.iter().map(|l| dot_escape(l)).collect::<Vec<_>>().join("\\n");
        let style = match n.kind {
            NodeKind::Function => "shape=box".to_string(),
            NodeKind::Task(stop) => {
                let (fill, line, width) = match stop {
                    Stop::Never => ("#f8d7da", "#b02a37", 2),
                    Stop::Aborted => ("#fff3cd", "#997404", 1),
                    Stop::ChannelClose | Stop::Cancellation => ("#d1e7dd", "#146c43", 1),
                    Stop::Finite | Stop::Delegated => ("#e9ecef", "#495057", 1),
                };
                format!("shape=box, style=\"rounded,filled\", fillcolor=\"{fill}\", color=\"{line}\", penwidth={width}")
            }
            NodeKind::Source => "shape=hexagon".to_string(),
            NodeKind::Forever => "shape=octagon, color=\"#b02a37\", fontcolor=\"#b02a37\"".to_string(),
        };
        out.push_str(&format!("  {} [{style}, label=\"{label}\"];\n", n.id));
    }
    for e in &g.edges {
        let (from, to) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        match e.label {
            Some(l) => out.push_str(&format!("  {from} -> {to} [label=\"{}\"];\n", dot_escape(l))),
            None => out.push_str(&format!("  {from} -> {to};\n")),
        }
    }
    out.push_str("}\n");
    out
}

/// Mermaid keeps labels in double quotes: quotes, angle brackets and `#` become
/// entity codes (`#quot;`), and lines are joined with `<br/>`.
fn mermaid_label(lines: &[String]) -> String {
    let esc = |s: &str| {
        s.chars()
            .map(|c| match c {
                '#' => "#35;".to_string(),
                '"' => "#quot;".to_string(),
                '<' => "#lt;".to_string(),
                '>' => "#gt;".to_string(),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    lines.iter().map(|l| esc(l)).collect::<Vec<_>>().join("<br/>")
}

/// A Mermaid flowchart (GitHub renders ```` ```mermaid ```` blocks in READMEs and PRs).
pub fn mermaid(inv: &Inventory) -> String {
    let g = Graph::of(inv);
    let mut out = String::from("flowchart LR\n");
    let mut classes: Vec<(&str, Vec<&str>)> =
        vec![("never", vec![]), ("aborted", vec![]), ("stops", vec![]), ("finite", vec![])];
    for n in g.declared() {
        let label = mermaid_label(&n.label);
        let shape = match n.kind {
            NodeKind::Function => format!("{}[\"{label}\"]", n.id),
            NodeKind::Task(stop) => {
                let class = match stop {
                    Stop::Never => 0,
                    Stop::Aborted => 1,
                    Stop::ChannelClose | Stop::Cancellation => 2,
                    Stop::Finite | Stop::Delegated => 3,
                };
                classes[class].1.push(&n.id);
                format!("{}([\"{label}\"])", n.id)
            }
            NodeKind::Source => format!("{}{{{{\"{label}\"}}}}", n.id),
            NodeKind::Forever => format!("{}[[\"{label}\"]]", n.id),
        };
        out.push_str(&format!("  {shape}\n"));
    }
    for e in &g.edges {
        let (from, to) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        match e.label {
            Some(l) => out.push_str(&format!("  {from} -->|{l}| {to}\n")),
            None => out.push_str(&format!("  {from} --> {to}\n")),
        }
    }
    out.push_str("  classDef never fill:#f8d7da,stroke:#b02a37,stroke-width:2px\n");
    out.push_str("  classDef aborted fill:#fff3cd,stroke:#997404\n");
    out.push_str("  classDef stops fill:#d1e7dd,stroke:#146c43\n");
    out.push_str("  classDef finite fill:#e9ecef,stroke:#495057\n");
    for (class, ids) in classes {
        if !ids.is_empty() {
            out.push_str(&format!("  class {} {class}\n", ids.join(",")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskcheck_lints::analysis::spawn::SpawnApi;
    use taskcheck_lints::analysis::stops::SourceKind;

    fn at(file: &str, line: usize) -> Location {
        Location { file: format!("x/{file}"), rel: file.to_string(), line, column: 5, span: Default::default() }
    }

    fn task(stop: Stop, expr: &str) -> Task {
        Task {
            at: at("src/a.rs", 3),
            spawner: SpawnApi::Tokio,
            via: None,
            function: FnName { module: "a".into(), ty: Some("S".into()), name: "start".into() },
            parent: None,
            handle: vec![Fate { kind: FateKind::Detached, through: Through::Direct, at: None }],
            stop,
            sources: vec![Source {
                by: StopBy::Observed(SourceKind::Token),
                expr: Some(expr.to_string()),
                at: Some(at("src/b.rs", 9)),
            }],
            forever: Vec::new(),
            singleton: false,
            findings: Vec::new(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn labels_are_escaped_for_dot_and_mermaid() {
        let inv = Inventory::new(vec![task(Stop::Cancellation, r#"rx.recv_as::<Vec<u8>>("a\b") # 1"#)]);
        let dot = dot(&inv);
        assert!(dot.contains(r#"label="rx.recv_as::<Vec<u8>>(\"a\\b\") # 1\nsrc/b.rs:9:5""#), "{dot}");
        let mmd = mermaid(&inv);
        assert!(
            mmd.contains(r#"s1{{"rx.recv_as::#lt;Vec#lt;u8#gt;#gt;(#quot;a\b#quot;) #35; 1<br/>src/b.rs:9:5"}}"#),
            "{mmd}"
        );
        assert!(mmd.contains("  f1 --> t1\n  t1 -->|token| s1\n"), "{mmd}");
    }

    #[test]
    fn table_columns_and_summary() {
        let inv = Inventory::new(vec![task(Stop::Cancellation, "token.cancelled()")]);
        assert_eq!(
            table(&inv),
            "stops         location        spawner  function  handle    findings  how it stops\n\
             cancellation  x/src/a.rs:3:5  tokio    S::start  detached  -         token.cancelled() (token) at x/src/b.rs:9:5\n"
        );
        assert_eq!(
            summary_line(&inv),
            "taskcheck: 1 spawn site: 1 stops on cancellation, 0 on channel close, 0 when aborted, 0 finite, 0 never"
        );
        assert_eq!(summary_line(&Inventory::default()).split(':').nth(1), Some(" 0 spawn sites"));
    }
}
