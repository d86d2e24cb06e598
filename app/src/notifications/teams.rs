//! Team channels as the admin page edits them: a Slack or Teams webhook, or a signed webhook,
//! told of the events of plans that need one approval group, or of changes to components with
//! one catalog tag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::Channel;
use crate::{
    connectors::model::{check_secret_env, SecretInput, SecretSource},
    error::AppError,
    validate::{self, Errors},
};

/// What a team channel hears of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TeamScope {
    /// Plans that need this approval group (id, name).
    Group(i64, String),
    /// Changes to components with this tag.
    Tag(String),
}

impl TeamScope {
    pub fn label(&self) -> String {
        match self {
            Self::Group(_, name) => format!("plans that need {name}"),
            Self::Tag(tag) => format!("changes to components tagged {tag}"),
        }
    }
}

/// A team channel as the admin page shows it: never its address (a chat webhook's URL is its
/// secret), only where it points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamChannel {
    pub id: i64,
    pub name: String,
    pub kind: Channel,
    pub origin: String,
    pub secret: SecretSource,
    pub scope: TeamScope,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

/// A new team channel, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamInput {
    pub name: String,
    pub kind: Channel,
    pub url: String,
    pub secret: SecretInput,
    /// An approval group's id, or a tag.
    pub group_id: Option<i64>,
    pub tag: Option<String>,
}

impl TeamInput {
    pub fn parse(
        name: &str,
        kind: &str,
        url: &str,
        secret_env: &str,
        secret: &str,
        group_id: &str,
        tag: &str,
    ) -> Result<Self, AppError> {
        let mut e = Errors::default();
        let name = e.check(validate::text("name", name, 80, true, false));
        let kind = match Channel::parse(kind.trim()).filter(|k| Channel::TEAM.contains(k)) {
            Some(k) => k,
            None => {
                e.push("kind", "choose Slack, Microsoft Teams or signed webhook");
                Channel::Webhook
            }
        };
        let url = e.check(validate::url("url", url));
        let secret = match (secret_env.trim(), secret) {
            ("", "") => SecretInput::Keep,
            (env, "") => match check_secret_env(env) {
                Ok(()) => SecretInput::Env(env.to_string()),
                Err(m) => {
                    e.push("secret_env", m);
                    SecretInput::Keep
                }
            },
            ("", value) if value.len() > 4096 => {
                e.push("secret", "is too long (at most 4096 characters)");
                SecretInput::Keep
            }
            ("", value) => SecretInput::Value(value.to_string()),
            _ => {
                e.push(
                    "secret",
                    "give either an environment variable or a secret, not both",
                );
                SecretInput::Keep
            }
        };
        if kind == Channel::Webhook && secret == SecretInput::Keep {
            e.push("secret", "a signed webhook needs a signing secret, so its receiver can check each call came from Rollgate");
        }
        if kind != Channel::Webhook && secret != SecretInput::Keep {
            e.push("secret", "only signed webhooks take a signing secret: a Slack or Teams address is its own secret");
        }
        let group_id = match group_id.trim() {
            "" => None,
            g => match g.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    e.push("group_id", "choose an approval group from the list");
                    None
                }
            },
        };
        let tag = e.check(validate::optional("tag", tag, 60));
        match (&group_id, &tag) {
            (None, None) => e.push(
                "group_id",
                "choose an approval group or enter a catalog tag: what the channel hears of",
            ),
            (Some(_), Some(_)) => {
                e.push("tag", "choose either an approval group or a tag, not both")
            }
            _ => {}
        }
        e.finish(Self {
            name,
            kind,
            url,
            secret,
            group_id,
            tag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_channel_needs_an_http_address_and_one_scope() {
        let e = TeamInput::parse("Data", "slack", "ftp://hooks.example.com/x", "", "", "", "")
            .unwrap_err();
        assert!(e.field_message("url").is_some(), "{e:?}");
        assert!(e
            .field_message("group_id")
            .unwrap()
            .contains("approval group or enter a catalog tag"));
        let e = TeamInput::parse(
            "Data",
            "slack",
            "https://hooks.slack.com/services/T/B/x",
            "",
            "",
            "3",
            "finance",
        )
        .unwrap_err();
        assert!(e.field_message("tag").is_some());
        let ok = TeamInput::parse(
            "Data",
            "teams",
            "https://example.webhook.office.com/x",
            "",
            "",
            "",
            "finance",
        )
        .unwrap();
        assert_eq!(ok.tag.as_deref(), Some("finance"));
    }

    #[test]
    fn only_a_signed_webhook_takes_a_secret_and_it_must_have_one() {
        let e = TeamInput::parse(
            "Hooks",
            "webhook",
            "https://r.example.com/in",
            "",
            "",
            "2",
            "",
        )
        .unwrap_err();
        assert!(e
            .field_message("secret")
            .unwrap()
            .contains("signing secret"));
        let e = TeamInput::parse(
            "Chat",
            "slack",
            "https://hooks.slack.com/services/x",
            "",
            "s3cret",
            "2",
            "",
        )
        .unwrap_err();
        assert!(e
            .field_message("secret")
            .unwrap()
            .contains("only signed webhooks"));
        assert!(TeamInput::parse(
            "Hooks",
            "webhook",
            "https://r.example.com/in",
            "",
            "whsec_abc",
            "2",
            ""
        )
        .is_ok());
    }
}
