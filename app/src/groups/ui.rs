use leptos::prelude::*;

use super::api::{list_groups, CreateGroup};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{EmptyState, ErrorNotice, Field, FormErrors, PageHeader},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! {
        <Authorized permission=Permission::ViewUsers children=|user: CurrentUser| view! { <Groups user /> } />
    }
}

#[component]
fn Groups(user: CurrentUser) -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let groups = Resource::new(move || create.version().get(), |_| list_groups());
    let form = FormErrors::of(create);
    // Field errors show next to their fields; the others above the form.
    let general = form.general();
    view! {
        <PageHeader title="Approval groups".to_string() lead="Approvers sign off for the groups they belong to; approval policies name the groups whose sign-off a rollback needs.".to_string() />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let groups = groups.await?;
                Ok::<_, AppError>(if groups.is_empty() {
                    view! { <EmptyState title="No approval groups yet"><p>"Add the first group below."</p></EmptyState> }.into_any()
                } else {
                    view! {
                        <table class="table">
                            <caption class="visually-hidden">"Approval groups"</caption>
                            <thead><tr><th scope="col">"Group"</th><th scope="col">"Description"</th><th scope="col" class="num">"Members"</th></tr></thead>
                            <tbody>
                                {groups.into_iter().map(|g| view! {
                                    <tr><td>{g.name}</td><td>{g.description}</td><td class="num">{g.members}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                })
            }.await) })}
        </Transition>

        {user.can(Permission::ManageUsers).then(|| view! {
            <section class="panel">
                <h2>"Add a group"</h2>
                <ErrorNotice error=general />
                <ActionForm action=create attr:class="form">
                    <Field label="Name" name="name" required=true hint="For example “Finance” or “Security”." error=form.field("name") />
                    <Field label="Description" name="description" error=form.field("description") />
                    <button type="submit" class="button button--primary">"Add group"</button>
                </ActionForm>
            </section>
        })}
    }
}
