//! An action item's page: what, who, by when, where it came from, and its edit form.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::fields::{status_badge, ItemFields};
use crate::{
    action_items::api::{get_item, UpdateItem},
    audit::{api::entity_history, history::History},
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn ItemPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Item /> } /> }
}

#[component]
fn Item() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let update = ServerAction::<UpdateItem>::new();
    let page = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            let id = id.ok_or_else(|| AppError::not_found("The action item"))?;
            let page = get_item(id).await?;
            let history = entity_history("action_item".into(), id.to_string())
                .await
                .unwrap_or_default();
            Ok::<_, AppError>((page, history))
        },
    );
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .map(|_| "Action item saved.".to_string())
    });
    let update = ServerAction::<UpdateItem>::new();
    let errors = FormErrors::of(update);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let (p, history) = page.await?;
                let i = p.item.clone();
                let late = i.days_late(p.today);
                Ok::<_, AppError>(view! {
                    <PageHeader title=i.title.clone() lead=format!("Action item #{} · {} · {}", i.id, i.kind.label(), i.priority.label()) />
                    <SuccessNotice message=saved />
                    <dl class="facts">
                        <dt>"Status"</dt><dd>{status_badge(i.status)}{i.wont_do_reason.clone().map(|r| view! { <span class="muted">{format!(" — {r}")}</span> })}</dd>
                        <dt>"Owner"</dt><dd>{format!("{} ({})", i.owner.display_name, i.owner.username)}</dd>
                        <dt>"Due"</dt><dd>{i.due_on.to_string()}{(late > 0).then(|| view! { " " <span class="badge badge--danger">{format!("{late} days late")}</span> })}</dd>
                        <dt>"Postmortem"</dt><dd><a href=format!("/postmortems/{}", i.postmortem_id)>{i.change_title.clone()}</a></dd>
                        <dt>"Description"</dt><dd class="prose">{if i.description.is_empty() { "—".to_string() } else { i.description.clone() }}</dd>
                        <dt>"Ticket"</dt><dd>{match i.ticket_url.clone() { Some(u) => view! { <a href=u.clone() rel="noopener noreferrer">{u.clone()}</a> }.into_any(), None => view! { "—" }.into_any() }}</dd>
                        <dt>"Component"</dt><dd>{match i.component.clone() { Some((id, name)) => view! { <a href=format!("/catalog/{id}")>{name}</a> }.into_any(), None => view! { "—" }.into_any() }}</dd>
                        <dt>"Plan row"</dt><dd>{match (i.plan_id, i.plan_row) { (Some(plan), Some(row)) => view! { <a href=format!("/plans/{plan}")>{format!("Row {row} of plan #{plan}")}</a> }.into_any(), _ => view! { "—" }.into_any() }}</dd>
                    </dl>
                    {p.editable.then(|| view! {
                        <section class="panel" aria-labelledby="edit-item-heading">
                            <h2 id="edit-item-heading">"Update this item"</h2>
                            <ErrorNotice error=errors.general() />
                            <ActionForm action=update attr:class="form">
                                <input type="hidden" name="id" value=i.id />
                                <input type="hidden" name="version" value=i.version />
                                <ItemFields owners=p.owners.clone() plan_rows=p.plan_rows.clone() item=Some(i.clone()) errors />
                                <div class="form__actions"><button type="submit" class="button button--primary">"Save"</button></div>
                            </ActionForm>
                        </section>
                    })}
                    <History events=history />
                })
            }.await) })}
        </Transition>
    }
}
