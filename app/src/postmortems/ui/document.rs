//! The parts of a postmortem both its working copy and its published versions show.

use leptos::prelude::*;

use crate::{
    action_items::{ui::status_badge, view::ActionItem},
    postmortems::{
        model::{Sections, SECTIONS},
        timeline::{minutes_label, Figures, TimelineItem},
    },
};

#[component]
pub fn FiguresPanel(figures: Figures) -> impl IntoView {
    let show = |m: Option<i64>| m.map(minutes_label).unwrap_or_else(|| "—".into());
    view! {
        <section class="panel" aria-labelledby="figures-heading">
            <h2 id="figures-heading">"Time from the change to…"</h2>
            <dl class="figures">
                <div><dt>"Detection"</dt><dd>{show(figures.to_detection_minutes)}</dd></div>
                <div><dt>"Rollback plan"</dt><dd>{show(figures.to_plan_minutes)}</dd></div>
                <div><dt>"Sign-off"</dt><dd>{show(figures.to_sign_off_minutes)}</dd></div>
                <div><dt>"Rolled back"</dt><dd>{show(figures.to_rolled_back_minutes)}</dd></div>
            </dl>
        </section>
    }
}

#[component]
pub fn SectionsView(sections: Sections) -> impl IntoView {
    view! {
        <section class="panel document" aria-label="The postmortem">
            {SECTIONS.iter().map(|s| {
                let text = sections.get(s.field).cloned().unwrap_or_default();
                let body = if text.is_empty() {
                    view! { <p class="muted">"Not written yet."</p> }.into_any()
                } else if s.field == "contributing_factors" {
                    view! { <ul>{text.lines().filter(|l| !l.trim().is_empty()).map(|l| view! { <li>{l.trim().trim_start_matches(['-', '*']).trim().to_string()}</li> }).collect_view()}</ul> }.into_any()
                } else {
                    view! { <p class="prose">{text}</p> }.into_any()
                };
                view! { <h2 id=format!("section-{}", s.field)>{s.heading}</h2> {body} }
            }).collect_view()}
        </section>
    }
}

/// One line of the timeline (without its editing controls).
#[component]
pub fn TimelineLine(item: TimelineItem, link_audit: bool) -> impl IntoView {
    let seq = item.seq;
    view! {
        <span class="timeline__time"><time datetime=item.at.to_rfc3339()>{item.at.format("%Y-%m-%d %H:%M").to_string()}</time></span>
        <span class="timeline__what">
            {item.starred.then(|| view! { <span class="timeline__star" title="Starred">"★ "</span> })}
            {item.moment.map(|m| view! { <span class="badge badge--ok">{m.label()}</span> " " })}
            <strong>{item.label.clone()}</strong>
            {(!item.detail.is_empty()).then(|| view! { <span class="muted">{format!(" — {}", item.detail)}</span> })}
            <span class="timeline__who">{format!(" · {}", item.actor.clone().unwrap_or_else(|| "system".into()))}</span>
        </span>
        <span class="timeline__seq">{match seq {
            Some(s) if link_audit => view! { <a href=format!("/audit?before={}", s + 1) title="Open this event in the audit log (it is the first row)">{format!("event #{s}")}</a> }.into_any(),
            Some(s) => view! { {format!("event #{s}")} }.into_any(),
            None => view! { "author's entry" }.into_any(),
        }}</span>
    }
}

#[component]
pub fn ItemsList(items: Vec<ActionItem>, no_actions_reason: Option<String>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">{match no_actions_reason { Some(r) => format!("No action items: {r}"), None => "No action items yet.".into() }}</p> }.into_any();
    }
    view! {
        <table class="table">
            <caption class="visually-hidden">"Action items"</caption>
            <thead><tr><th scope="col">"Item"</th><th scope="col">"Owner"</th><th scope="col">"Priority"</th><th scope="col">"Type"</th><th scope="col">"Due"</th><th scope="col">"Status"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|i| view! {
                    <tr>
                        <td><a href=format!("/action-items/{}", i.id)>{i.title.clone()}</a></td>
                        <td>{i.owner.display_name.clone()}</td>
                        <td>{i.priority.label()}</td>
                        <td>{i.kind.label()}</td>
                        <td>{i.due_on.to_string()}</td>
                        <td>{status_badge(i.status)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
