//! The rollback matrix as a table: one group of rows per stage, in execution order.

use leptos::prelude::*;

use super::when;
use crate::plans::model::{PlanBody, Restore};

#[component]
pub fn Matrix(body: PlanBody) -> impl IntoView {
    view! {
        <table class="table matrix">
            <caption class="visually-hidden">"Rollback matrix: stages run in order; each stage is verified before the next"</caption>
            <thead><tr>
                <th scope="col">"#"</th><th scope="col">"Component"</th><th scope="col">"Scope"</th><th scope="col">"Action"</th>
                <th scope="col">"Verification"</th><th scope="col">"Reconciled data flagged by"</th><th scope="col">"Owner"</th>
            </tr></thead>
            {body.stages.iter().enumerate().map(|(s, stage)| view! {
                <tbody>
                    <tr class="matrix__stage"><th colspan="7" scope="rowgroup">{format!("Stage {}", s + 1)}</th></tr>
                    {stage.rows.iter().enumerate().map(|(r, row)| {
                        let detail = row.action.detail().to_string();
                        view! {
                            <tr>
                                <td>{format!("{}.{}", s + 1, r + 1)}</td>
                                <td><a href=format!("/catalog/{}", row.component_id)>{row.component.clone()}</a></td>
                                <td>{row.scope.clone()}</td>
                                <td>
                                    {row.action.label()}
                                    {(!detail.is_empty()).then(|| view! { <div class="muted prose">{detail.clone()}</div> })}
                                    {row.binding.as_ref().map(|b| view! { <div class="matrix__binding">{b.describe(&row.action)}</div> })}
                                    {row.restore.as_ref().map(|x| view! {
                                        <div class="muted">{restore_line(x)}</div>
                                    })}
                                </td>
                                <td>{if row.checks.is_empty() { "—".to_string() } else { row.checks.iter().map(|c| c.describe()).collect::<Vec<_>>().join("; ") }}</td>
                                <td>{if row.flagging.is_empty() { "—".to_string() } else { row.flagging.clone() }}</td>
                                <td>{row.owner.clone()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            }).collect_view()}
        </table>
    }
}

/// "Restores v41 (undoes v42; code 0123abc) — restorable until …".
fn restore_line(x: &Restore) -> String {
    let mut out = format!("Restores {}", x.target_label());
    let mut undo = Vec::new();
    if !x.undo_version.is_empty() {
        undo.push(format!("undoes {}", x.undo_version));
    }
    if let Some(code) = &x.code_version {
        undo.push(format!("code {code}"));
    }
    if !undo.is_empty() {
        out.push_str(&format!(" ({})", undo.join("; ")));
    }
    if let crate::plans::model::Retention::Declared { engine, hours } = &x.retention {
        let period = match hours % 24 {
            0 => format!("{} days", hours / 24),
            _ => format!("{hours} hours"),
        };
        out.push_str(&format!(" — {engine} keeps it {period}"));
    }
    out.push_str(&format!(
        " — restorable until {}",
        when(x.restorable_until())
    ));
    out
}
