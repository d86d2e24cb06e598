//! The postmortem as a Markdown document (for wikis and tickets).

use std::fmt::Write;

use super::{
    model::SECTIONS,
    timeline::{minutes_label, TimelineItem},
    view::PostmortemView,
};

/// Text a reader's Markdown renderer shows as typed (no links, headings or HTML injected).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn figure(label: &str, minutes: Option<i64>) -> String {
    format!(
        "| {label} | {} |\n",
        minutes.map(minutes_label).unwrap_or_else(|| "—".into())
    )
}

/// The whole document: figures, sections, the highlighted timeline (or all of it), items.
pub fn render(v: &PostmortemView, all_entries: bool) -> String {
    let p = &v.postmortem;
    let mut md = String::new();
    let _ = writeln!(md, "# Postmortem: {}\n", escape(&p.change_title));
    let _ = writeln!(
        md,
        "Change #{} · {} · written by {}{}\n",
        p.change_id,
        p.status.label(),
        escape(&p.author.username),
        p.reviewer
            .as_ref()
            .map(|r| format!(" · reviewed by {}", escape(&r.username)))
            .unwrap_or_default()
    );
    md.push_str("| Time from the change to | |\n|---|---|\n");
    md.push_str(&figure("detection", v.figures.to_detection_minutes));
    md.push_str(&figure("rollback plan", v.figures.to_plan_minutes));
    md.push_str(&figure("sign-off", v.figures.to_sign_off_minutes));
    md.push_str(&figure("rolled back", v.figures.to_rolled_back_minutes));
    for s in SECTIONS {
        let text = p.section(s.field);
        let _ = writeln!(md, "\n## {}\n", s.heading);
        if text.is_empty() {
            md.push_str("—\n");
        } else if s.field == "contributing_factors" {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(
                    md,
                    "- {}",
                    escape(line.trim().trim_start_matches(['-', '*']).trim())
                );
            }
        } else {
            for line in text.lines() {
                let _ = writeln!(md, "{}  ", escape(line));
            }
        }
    }
    md.push_str(
        "\n## Timeline\n\n| Time (UTC) | What happened | Who | Audit event |\n|---|---|---|---|\n",
    );
    for i in v.timeline.iter().filter(|i| all_entries || i.highlighted()) {
        md.push_str(&timeline_row(i));
    }
    md.push_str("\n## Action items\n\n");
    if v.items.is_empty() {
        let why = p.no_actions_reason.as_deref().unwrap_or("none yet");
        let _ = writeln!(md, "No action items: {}", escape(why));
    } else {
        md.push_str("| Item | Owner | Priority | Due | Status |\n|---|---|---|---|---|\n");
        for a in &v.items {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                escape(&a.title),
                escape(&a.owner.username),
                a.priority.label(),
                a.due_on,
                a.status.label()
            );
        }
    }
    md
}

fn timeline_row(i: &TimelineItem) -> String {
    let mut what = escape(&i.label);
    if !i.detail.is_empty() {
        what = format!("{what}: {}", escape(&i.detail));
    }
    if let Some(m) = i.moment {
        what = format!("**{}** — {what}", m.label());
    }
    if i.starred {
        what = format!("★ {what}");
    }
    format!(
        "| {} | {} | {} | {} |\n",
        i.at.format("%Y-%m-%d %H:%M"),
        what.replace('\n', " "),
        i.actor
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "system".into()),
        i.seq
            .map(|s| format!("#{s}"))
            .unwrap_or_else(|| "author's entry".into())
    )
}
