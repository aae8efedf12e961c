use taskcheck_core::levels::closest;
use taskcheck_core::{declare_lint, Applicability, Diagnostic, Edit, Fix, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::suppress;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a suppression comment (`// taskcheck: allow(lint)` or
    /// `// taskcheck: allow-file(lint)`) that suppresses nothing: the lint it names no
    /// longer fires there, or the name is not a taskcheck lint (with the closest valid
    /// name). It runs after every other lint and only judges lints that are enabled.
    ///
    /// ### Why is this bad
    /// A stale suppression hides the next real finding on that line or item, and an
    /// unknown name suppresses nothing while looking like it does. Like rustc's
    /// `#[expect]` and ruff's RUF100, suppressions should stay honest.
    ///
    /// ### Example
    /// ```rust,ignore
    /// // taskcheck: allow(spawn_without_cancle) -- the flusher is stopped by the runtime
    /// tokio::spawn(flush_forever(metrics));
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// // taskcheck: allow(spawn_without_cancel) -- the flusher is stopped by the runtime
    /// tokio::spawn(flush_forever(metrics));
    /// ```
    ///
    /// ### Fix safety
    /// Safe: a comment whose every lint is unused is removed (the whole line when the
    /// comment is alone on it). Comments naming unknown lints are only reported.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `//nolint:name` directives that `golangci-lint --enable nolintlint` reports as unused.
    ///
    /// ### Known limits
    /// A suppression of a lint that is turned off is not judged.
    pub UNUSED_SUPPRESSION,
    name: "unused_suppression",
    group: Suppressions,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "a suppression comment that suppresses nothing",
    triggers: {
        anchors: [],
        context: [],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct UnusedSuppression;

impl Lint for UnusedSuppression {
    fn meta(&self) -> &'static LintMeta {
        &UNUSED_SUPPRESSION
    }

    /// Runs last: `out` holds every other lint's findings for this crate.
    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let known: Vec<&str> = crate::all_metas().iter().map(|m| m.name).collect();
        let mut found = Vec::new();
        for (file, (unit, facts)) in cx.index.files.iter().enumerate() {
            let sups = &facts.suppressions;
            if sups.is_empty() || cx.ignores_body(BodyRef { file, body: 0 }) {
                continue;
            }
            let mut used = vec![false; sups.len()];
            for d in out.iter().filter(|d| d.primary.span.file == unit.source.id) {
                suppress::suppressed(d, sups, &facts.items, &mut used);
            }
            for (s, used) in sups.iter().zip(used) {
                let unknown: Vec<&String> = s.lints.iter().filter(|l| !known.contains(&l.as_str())).collect();
                if let Some(name) = unknown.first() {
                    let hint = closest(name, known.iter().copied())
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    found.push(
                        Diagnostic::new(
                            self.meta().name,
                            format!("unknown lint `{name}` in a suppression{hint}"),
                            s.span,
                            "suppresses nothing",
                        )
                        .with_help("`taskcheck rules` lists the lint names"),
                    );
                    continue;
                }
                // Only lints that ran can be judged unused.
                if used || !s.lints.iter().all(|l| cx.enabled.contains(&l.as_str())) {
                    continue;
                }
                let text = &unit.source.text;
                let line_start = unit.source.line_start(s.line);
                let alone = text[line_start..s.span.lo.byte].trim().is_empty();
                let edit = if alone {
                    let end =
                        if s.line < unit.source.line_count() { unit.source.line_start(s.line + 1) } else { text.len() };
                    Edit { span: unit.source.span(line_start, end), replacement: String::new() }
                } else {
                    // Trailing comment: remove it and the spaces before it.
                    let before = text[line_start..s.span.lo.byte].trim_end().len() + line_start;
                    Edit { span: unit.source.span(before, s.span.hi.byte), replacement: String::new() }
                };
                found.push(
                    Diagnostic::new(
                        self.meta().name,
                        format!("unused suppression of `{}`", s.lints.join("`, `")),
                        s.span,
                        "nothing here is suppressed by this comment",
                    )
                    .with_fix(Fix {
                        message: "remove the suppression".into(),
                        applicability: Applicability::Safe,
                        edits: vec![edit],
                    }),
                );
            }
        }
        out.extend(found);
    }
}
