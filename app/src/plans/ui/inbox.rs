//! "Waiting for you": plans whose current revision needs the approver's decision.

use leptos::prelude::*;

use super::when;
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{EmptyState, PageHeader},
    error::AppError,
    error_template::loaded,
    plans::api::inbox,
};

#[component]
pub fn InboxPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <Inbox /> } /> }
}

#[component]
fn Inbox() -> impl IntoView {
    let items = Resource::new(|| (), |_| inbox());
    view! {
        <PageHeader title="Waiting for you".to_string() lead="Rollback plans submitted for approval that need a decision from one of your groups.".to_string() />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let items = items.await?;
                Ok::<_, AppError>(if items.is_empty() {
                    view! { <EmptyState title="Nothing waiting"><p>"When a plan needs your group’s sign-off, it appears here."</p></EmptyState> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <caption class="visually-hidden">"Plans waiting for your decision"</caption>
                            <thead><tr><th scope="col">"Change"</th><th scope="col">"Revision"</th><th scope="col">"Your groups"</th><th scope="col">"Submitted"</th></tr></thead>
                            <tbody>
                                {items.into_iter().map(|i| view! {
                                    <tr>
                                        <td>
                                            <a href=format!("/plans/{}", i.plan_id)>{i.change_title.clone()}</a>
                                            {i.revised.then(|| view! { " " <span class="badge">"Changed since your decision"</span> })}
                                            {i.renew.then(|| view! { " " <span class="badge">"Your approval expired"</span> })}
                                        </td>
                                        <td>{i.revision}</td>
                                        <td>{i.groups.join(", ")}</td>
                                        <td>{when(i.submitted_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                })
            }.await) })}
        </Transition>
    }
}
