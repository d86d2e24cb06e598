use leptos::prelude::*;

use super::{group_options, role_options};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{CheckboxGroup, ErrorNotice, Field, FormErrors, PageHeader},
    error::AppError,
    error_template::loaded,
    groups::api::list_groups,
    users::{
        api::CreateUser,
        model::{check_password, parse_display_name, Username},
    },
};

#[component]
pub fn NewUserPage() -> impl IntoView {
    view! {
        <Authorized permission=Permission::ManageUsers children=|_: CurrentUser| view! { <NewUserForm /> } />
    }
}

fn check_username(v: &str) -> Option<String> {
    Username::parse(v).err()
}

fn check_display_name(v: &str) -> Option<String> {
    parse_display_name(v).err()
}

fn check_new_password(v: &str) -> Option<String> {
    check_password(v, "").err()
}

#[component]
fn NewUserForm() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let service = query.with_untracked(|q| q.get("service").is_some_and(|v| v == "1"));
    let create = ServerAction::<CreateUser>::new();
    let groups = Resource::new(|| (), |_| list_groups());
    let form = FormErrors::of(create);
    // Field errors show next to their fields; the others above the form.
    let general = form.general();
    let (title, lead) = if service {
        ("Create a service account", "A service account is for CI: it holds API tokens an administrator creates for it, and it can never sign in.")
    } else {
        (
            "Create a user",
            "Give the password to the person through a safe channel; they sign in with it at once.",
        )
    };
    let other = if service {
        view! { <p><a href="/admin/users/new">"Create a person instead"</a></p> }
    } else {
        view! { <p><a href="/admin/users/new?service=1">"Create a service account for CI instead"</a></p> }
    };
    view! {
        <PageHeader title=title.to_string() lead=lead.to_string() />
        {other}
        <ErrorNotice error=general />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let groups = groups.await?;
                Ok::<_, AppError>(view! {
                    <ActionForm action=create attr:class="form">
                        <Field label="Username" name="username" autocomplete="off" required=true
                            hint="3–64 characters: lowercase letters, digits, dot, dash or underscore."
                            validate=check_username error=form.field("username") />
                        <Field label="Full name" name="display_name" autocomplete="off" required=true
                            validate=check_display_name error=form.field("display_name") />
                        {(!service).then(|| view! {
                            <Field label="Initial password" name="password" kind="password" autocomplete="new-password" required=true
                                hint=PASSWORD_HINT validate=check_new_password error=form.field("password") />
                        })}
                        {service.then(|| view! { <input type="hidden" name="service" value="true" /> })}
                        <CheckboxGroup legend="Roles" name="roles" hint="A person may hold several roles." options=role_options(&[]) error=form.field("roles") />
                        <CheckboxGroup legend="Approval groups" name="groups" hint="Only for approvers: the groups they sign off for."
                            options=group_options(&groups, &[]) error=form.field("groups") />
                        <div class="form__actions">
                            <button type="submit" class="button button--primary">{if service { "Create service account" } else { "Create user" }}</button>
                            <a class="button button--quiet" href="/admin/users">"Cancel"</a>
                        </div>
                    </ActionForm>
                })
            }.await) })}
        </Transition>

    }
}

const PASSWORD_HINT: &str = "At least 12 characters; a few unrelated words work well.";
