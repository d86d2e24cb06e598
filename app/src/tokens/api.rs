//! Server functions for the API tokens page.

use leptos::prelude::*;

use super::model::TokensPage;
use crate::error::AppError;

/// The viewer's tokens (an admin sees everyone's), plus the secret of token `created` when it
/// was made in this session in the last ten minutes: the page that announces a new token shows
/// it; no other page, session or later visit can.
#[server(endpoint = "tokens/list")]
pub async fn list_tokens(#[server(default)] created: Option<i64>) -> Result<TokensPage, AppError> {
    use crate::{
        auth::{guard, Permission},
        db::Conn,
        error::internal,
    };
    crate::error::respond(
        async move {
            let user = guard::require(Permission::ManageOwnTokens).await?;
            let db = guard::app_state()?.db;
            let owner = (!user.can(Permission::ManageAllTokens)).then_some(user.id);
            let tokens = super::repo::list(&mut Conn::Db(&db), owner).await?;
            let session = guard::auth_session().await?;
            let fresh = match created {
                Some(id) => session
                    .fresh_token(id)
                    .await
                    .map_err(internal)?
                    .map(|s| (id, s)),
                None => None,
            };
            Ok(TokensPage { tokens, fresh })
        }
        .await,
    )
}

/// Creates a token; the next view of the tokens page shows its secret once.
#[server(endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    #[server(default)] owner: String,
    #[server(default)] scopes: Vec<String>,
) -> Result<(), AppError> {
    use crate::{
        auth::{guard, Permission},
        error::internal,
    };
    crate::error::respond(
        async move {
            let user = guard::require(Permission::ManageOwnTokens).await?;
            let new = super::model::NewToken::parse(&name, &scopes)?;
            let db = guard::app_state()?.db;
            let (token, secret) =
                super::service::create(&db, &guard::ctx(&user), &user, &owner, new).await?;
            guard::auth_session()
                .await?
                .flash_token(token.id, &secret)
                .await
                .map_err(internal)?;
            leptos_axum::redirect(&format!("/tokens?created={}", token.id));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    use crate::auth::{guard, Permission};
    crate::error::respond(
        async move {
            let user = guard::require(Permission::ManageOwnTokens).await?;
            let db = guard::app_state()?.db;
            super::service::revoke(&db, &guard::ctx(&user), &user, id).await?;
            leptos_axum::redirect("/tokens?revoked=1");
            Ok(())
        }
        .await,
    )
}
