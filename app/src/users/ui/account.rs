use leptos::prelude::*;

use crate::{
    auth::{groups_label, roles_label, ui::Authorized, CurrentUser},
    components::PageHeader,
};

/// One's own account: who Rollgate thinks you are, and a way to end every session.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <Authorized children=|user: CurrentUser| view! { <Account user /> } /> }
}

#[component]
fn Account(user: CurrentUser) -> impl IntoView {
    view! {
        <PageHeader title="Your account".to_string() lead=format!("Signed in as {}.", user.username) />
        <dl class="facts">
            <dt>"Name"</dt>
            <dd>{user.display_name.clone()}</dd>
            <dt>"Roles"</dt>
            <dd>{roles_label(&user.roles)}</dd>
            <dt>"Approval groups"</dt>
            <dd>{groups_label(&user.groups)}</dd>
        </dl>
        <AccountEmail />
        <section class="panel">
            <h2>"Sign out everywhere"</h2>
            <p>"Ends every session you have open, on every device, this one included. Use it if you signed in on a computer that is not yours, or lost a laptop. Your API tokens keep working: revoke them on the API tokens page."</p>
            // A plain form, like signing out: the page reloads signed out.
            <form class="form" method="post" action="/api/auth/logout_everywhere">
                <button type="submit" class="button">"Sign out everywhere"</button>
            </form>
        </section>
    }
}

/// The address notifications are e-mailed to.
#[component]
fn AccountEmail() -> impl IntoView {
    let email = Resource::new(|| (), |_| crate::notifications::api::my_email());
    view! {
        <section class="panel" aria-labelledby="email-heading">
            <h2 id="email-heading">"E-mail"</h2>
            <p>"Rollgate e-mails you what it lists on "<a href="/notifications">"your notifications"</a>": approvals you are asked for, rollbacks you are part of, action items given to you."</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let current = email.await.ok().flatten();
                    view! { <crate::notifications::ui::EmailForm current /> }
                })}
            </Suspense>
        </section>
    }
}
