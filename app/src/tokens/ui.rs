//! The API tokens page: create (secret shown once), list with last use, revoke.

use leptos::prelude::*;

use super::{
    api::{list_tokens, CreateToken, RevokeToken},
    model::{ApiToken, Scope},
};
use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{CheckboxGroup, EmptyState, ErrorNotice, Field, FormErrors, PageHeader},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn TokensPage() -> impl IntoView {
    view! { <Authorized permission=Permission::ManageOwnTokens children=|user: CurrentUser| view! { <Tokens user /> } /> }
}

#[component]
fn Tokens(user: CurrentUser) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let query = leptos_router::hooks::use_query_map();
    let created = move || query.with(|q| q.get("created").and_then(|v| v.parse::<i64>().ok()));
    let page = Resource::new(
        move || (created(), create.version().get(), revoke.version().get()),
        |(created, _, _)| list_tokens(created),
    );
    let admin = user.can(Permission::ManageAllTokens);
    view! {
        <PageHeader title="API tokens".to_string() lead="Tokens let CI record changes and declare lineage through the REST API (/api/v1). A token acts as its owner and never exceeds their roles.".to_string() />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let page = page.await?;
                Ok::<_, AppError>(view! {
                    {page.fresh.map(|(id, secret)| view! { <FreshToken id secret /> })}
                    {if page.tokens.is_empty() {
                        view! { <EmptyState title="No tokens yet"><p>"Create one below for your CI pipeline."</p></EmptyState> }.into_any()
                    } else {
                        view! { <TokenTable tokens=page.tokens revoke /> }.into_any()
                    }}
                })
            }.await) })}
        </Transition>
        <NewTokenForm action=create admin />
    }
}

#[component]
fn FreshToken(id: i64, secret: String) -> impl IntoView {
    view! {
        <section class="notice notice--success" role="status" aria-labelledby="fresh-token">
            <h2 id="fresh-token">"Your new token"</h2>
            <p>"Copy it now and store it in your CI secrets: it will not be shown again."</p>
            <p><label for="fresh-token-value">"Token #" {id}</label></p>
            <input id="fresh-token-value" class="field__input code" type="text" readonly=true value=secret />
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiToken>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let errors = FormErrors::of(revoke).0;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "never".into())
    };
    view! {
        <ErrorNotice error=errors />
        <table class="table">
            <caption class="visually-hidden">"API tokens"</caption>
            <thead><tr>
                <th scope="col">"Name"</th><th scope="col">"Owner"</th><th scope="col">"Scopes"</th>
                <th scope="col">"Starts with"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
            </tr></thead>
            <tbody>
                {tokens.into_iter().map(|t| {
                    let scopes = t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
                    view! {
                        <tr>
                            <td>{t.name.clone()}</td>
                            <td>{t.owner.clone()}</td>
                            <td><code>{scopes}</code></td>
                            <td><code>{t.prefix.clone()} "…"</code></td>
                            <td>{when(t.last_used_at)}</td>
                            <td>{match t.revoked_at {
                                Some(at) => view! { <span class="badge badge--off">"Revoked " {at.format("%Y-%m-%d").to_string()}</span> }.into_any(),
                                None => view! {
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="id" value=t.id />
                                        <button type="submit" class="button button--danger button--small"
                                            aria-label=format!("Revoke token {}", t.name)>"Revoke"</button>
                                    </ActionForm>
                                }.into_any(),
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn NewTokenForm(action: ServerAction<CreateToken>, admin: bool) -> impl IntoView {
    let form = FormErrors::of(action);
    let scopes: Vec<(String, String, bool)> = Scope::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                format!("{} ({})", s.label(), s.as_str()),
                false,
            )
        })
        .collect();
    view! {
        <section class="panel">
            <h2>"Create a token"</h2>
            <ErrorNotice error=form.general() />
            <ActionForm action attr:class="form">
                <Field label="Name" name="name" required=true autocomplete="off"
                    hint="Where it is used, e.g. “GitHub Actions: etl repo”." error=form.field("name") />
                {admin.then(|| view! {
                    <Field label="Owner (username)" name="owner" autocomplete="off"
                        hint="Leave empty for yourself. For CI, name a service account (e.g. ci-bot): tokens for someone else are only for service accounts." error=form.field("owner") />
                })}
                <CheckboxGroup legend="Scopes" name="scopes" hint="Give only what the pipeline needs." options=scopes error=form.field("scopes") />
                <div class="form__actions">
                    <button type="submit" class="button button--primary">"Create token"</button>
                </div>
            </ActionForm>
        </section>
    }
}
