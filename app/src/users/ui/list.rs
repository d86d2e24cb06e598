use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::{groups_label, roles_label, ui::Authorized, CurrentUser, Permission},
    components::PageHeader,
    error::AppError,
    error_template::loaded,
    users::{api::list_users, User},
};

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Authorized permission=Permission::ViewUsers children=|user: CurrentUser| view! { <UsersList user /> } />
    }
}

#[component]
fn UsersList(user: CurrentUser) -> impl IntoView {
    let query = use_query_map();
    let after = move || query.with(|q| q.get("after"));
    let page = Resource::new(after, list_users);
    view! {
        <PageHeader title="Users".to_string() lead="People who can sign in to Rollgate, their roles and approval groups.".to_string()>
            {user.can(Permission::ManageUsers).then(|| view! {
                <a class="button button--primary" href="/admin/users/new">"Create user"</a>
                " "
                <a class="button" href="/admin/users/new?service=1">"Create service account"</a>
            })}
        </PageHeader>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let page = page.await?;
                Ok::<_, AppError>(view! {
                    <UsersTable users=page.users />
                    <nav class="pager" aria-label="Pages of users">
                        {after().map(|_| view! { <a href="/admin/users">"First page"</a> })}
                        {page.next.map(|n| view! { <a href=format!("/admin/users?after={}", crate::auth::ui::urlencode(&n))>"Next page →"</a> })}
                    </nav>
                })
            }.await) })}
        </Transition>

    }
}

#[component]
fn UsersTable(users: Vec<User>) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Users"</caption>
            <thead>
                <tr>
                    <th scope="col">"Username"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Roles"</th>
                    <th scope="col">"Approval groups"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {users.into_iter().map(|u| {
                    let roles = roles_label(&u.roles);
                    let groups = groups_label(&u.groups);
                    view! {
                        <tr>
                            <td><a href=format!("/admin/users/{}", u.id)>{u.username}</a></td>
                            <td>{u.display_name}</td>
                            <td>{roles}</td>
                            <td>{groups}</td>
                            <td>{if u.active { view! { <span class="badge badge--ok">"Active"</span> } } else { view! { <span class="badge badge--off">"Deactivated"</span> } }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
