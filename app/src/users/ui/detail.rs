use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{group_options, role_options};
use crate::{
    auth::{groups_label, roles_label, ui::Authorized, CurrentUser, Permission},
    components::{CheckboxGroup, ErrorNotice, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
    groups::{api::list_groups, Group},
    users::{
        api::{get_user, SetUserActive, SignOutUserEverywhere, UpdateUserAccess},
        User,
    },
};

#[component]
pub fn UserPage() -> impl IntoView {
    view! {
        <Authorized permission=Permission::ViewUsers children=|viewer: CurrentUser| view! { <UserDetail viewer /> } />
    }
}

fn saved_message(code: &str) -> Option<String> {
    Some(
        match code {
            "created" => "User created. They can sign in now.",
            "access" => "Roles and groups saved.",
            "deactivated" => "User deactivated. They can no longer sign in; their history stays.",
            "reactivated" => "User reactivated. They sign in again with their password: sessions from before the deactivation stay ended.",
            "email" => "E-mail address saved.",
            "signed_out" => "Every session of this user has ended; they must sign in again. Their API tokens still work: revoke them on the API tokens page.",
            _ => return None,
        }
        .to_string(),
    )
}

#[component]
fn UserDetail(viewer: CurrentUser) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let update = ServerAction::<UpdateUserAccess>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let sign_out = ServerAction::<SignOutUserEverywhere>::new();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let user = Resource::new(
        move || (id(), update.version().get(), set_active.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(AppError::not_found("The user")),
            }
        },
    );
    let groups = Resource::new(|| (), |_| list_groups());
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .and_then(|c| saved_message(&c))
    });
    let manage = viewer.can(Permission::ManageUsers);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let user = user.await?;
                let groups = groups.await?;
                Ok::<_, AppError>(view! {
                    <PageHeader title=user.display_name.clone() lead=format!("Username: {}", user.username) />
                    <SuccessNotice message=saved />
                    <UserFacts user=user.clone() />
                    {manage.then(|| view! {
                        {(!user.service).then(|| view! {
                            <section class="panel">
                                <h2>"E-mail address"</h2>
                                <crate::notifications::ui::EmailForm user_id=user.id current=user.email.clone() />
                            </section>
                        })}
                        <AccessForm user=user.clone() groups action=update />
                        {(!user.service).then(|| view! { <SignOutForm user=user.clone() action=sign_out /> })}
                        <ActivationForm user=user.clone() action=set_active />
                    })}
                    <p><a href=format!("/audit?entity_type=user&entity_id={}", user.id)>"See this user’s history in the audit log"</a></p>
                })
            }.await) })}
        </Transition>

    }
}

#[component]
fn UserFacts(user: User) -> impl IntoView {
    let roles = roles_label(&user.roles);
    let groups = groups_label(&user.groups);
    view! {
        <dl class="facts">
            <dt>"Status"</dt>
            <dd>{if user.active { "Active" } else { "Deactivated: cannot sign in" }}</dd>
            <dt>"Kind"</dt>
            <dd>{if user.service { "Service account: API tokens only, never signs in" } else { "Person" }}</dd>
            <dt>"E-mail"</dt>
            <dd>{user.email.clone().unwrap_or_else(|| "none: notifications only on their Notifications page".into())}</dd>
            <dt>"Roles"</dt>
            <dd>{roles}</dd>
            <dt>"Approval groups"</dt>
            <dd>{groups}</dd>
            <dt>"Created"</dt>
            <dd>{user.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
        </dl>
    }
}

#[component]
fn AccessForm(
    user: User,
    groups: Vec<Group>,
    action: ServerAction<UpdateUserAccess>,
) -> impl IntoView {
    let form = FormErrors::of(action);
    // Field errors show next to their fields; the others above the form.
    let general = form.general();
    let selected: Vec<i64> = user.groups.iter().map(|g| g.id).collect();
    view! {
        <section class="panel">
            <h2>"Roles and approval groups"</h2>
            <ErrorNotice error=general />
            <ActionForm action attr:class="form">
                <input type="hidden" name="id" value=user.id />
                <CheckboxGroup legend="Roles" name="roles" options=role_options(&user.roles) error=form.field("roles") />
                <CheckboxGroup legend="Approval groups" name="groups" hint="Only for approvers." options=group_options(&groups, &selected) error=form.field("groups") />
                <button type="submit" class="button button--primary">"Save roles and groups"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ActivationForm(user: User, action: ServerAction<SetUserActive>) -> impl IntoView {
    let errors = FormErrors::of(action).0;
    let (heading, text, button, value) = if user.active {
        ("Deactivate", "A deactivated user cannot sign in. Nothing is deleted: their history stays in the audit log.", "Deactivate user", "false")
    } else {
        (
            "Reactivate",
            "Let this user sign in again with their existing password.",
            "Reactivate user",
            "true",
        )
    };
    view! {
        <section class="panel panel--danger">
            <h2>{heading}</h2>
            <p>{text}</p>
            <ErrorNotice error=errors />
            <ActionForm action attr:class="form">
                <input type="hidden" name="id" value=user.id />
                <input type="hidden" name="active" value=value />
                <button type="submit" class="button button--danger">{button}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SignOutForm(user: User, action: ServerAction<SignOutUserEverywhere>) -> impl IntoView {
    let errors = FormErrors::of(action).0;
    view! {
        <section class="panel">
            <h2>"Sign out everywhere"</h2>
            <p>"Ends every session this user has open, on every device. Use it when a laptop is lost or a password may be known to someone else."</p>
            <ErrorNotice error=errors />
            <ActionForm action attr:class="form">
                <input type="hidden" name="id" value=user.id />
                <button type="submit" class="button">"End all sessions"</button>
            </ActionForm>
        </section>
    }
}
