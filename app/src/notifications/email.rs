//! Sends one notification as an e-mail over SMTP: a plain-text and an HTML part, a link to the
//! page, and the delivery's idempotency key as its Message-ID.

use std::time::Duration;

use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::{authentication::Credentials, Error as SmtpError},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use super::{mail::Security, repo::Outgoing, settings::MailRow};

/// Why a message did not go, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    pub transient: bool,
}

impl SendError {
    fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
        }
    }
}

/// The text of a message, shared by both parts.
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn letter(out: &Outgoing, base_url: &str) -> Letter {
    let url = format!("{}{}", base_url.trim_end_matches('/'), out.link);
    let account = format!("{}/account", base_url.trim_end_matches('/'));
    let text = format!(
        "{}\n\nOpen it in Rollgate: {url}\n\n-- \nRollgate sent this to {} because of their part in this rollback. \
         Your notifications: {account}\n",
        out.body, out.username
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif; color: #1f2933; line-height: 1.5\">\
         <p>{}</p><p><a href=\"{}\" style=\"display: inline-block; padding: 8px 14px; background: #1d4ed8; color: #fff; \
         text-decoration: none; border-radius: 4px\">Open it in Rollgate</a></p>\
         <p style=\"color: #52606d; font-size: 13px\">Rollgate sent this to {} because of their part in this rollback. \
         <a href=\"{}\">Your notifications</a></p></body></html>",
        escape(&out.body),
        escape(&url),
        escape(&out.username),
        escape(&account)
    );
    Letter {
        subject: out.subject.clone(),
        text,
        html,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub async fn send(
    server: &MailRow,
    password: Option<String>,
    out: &Outgoing,
    base_url: &str,
) -> Result<(), SendError> {
    if out.destination.is_empty() {
        return Err(SendError::permanent(format!(
            "{} has no e-mail address: add one on their user page (or they on their account page)",
            out.username
        )));
    }
    let to: Mailbox = out.destination.parse().map_err(|_| {
        SendError::permanent(format!(
            "{}'s e-mail address {:?} is not valid",
            out.username, out.destination
        ))
    })?;
    let from: Mailbox = server.from_address.parse().map_err(|_| {
        SendError::permanent("the sender address in the e-mail settings is not valid")
    })?;
    let l = letter(out, base_url);
    let domain = server.from_address.rsplit('@').next().unwrap_or("rollgate");
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(l.subject)
        .message_id(Some(format!("<{}@{domain}>", out.idempotency_key)))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(l.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(l.html),
                ),
        )
        .map_err(|e| SendError::permanent(format!("the message could not be built: {e}")))?;
    let transport = transport(server, password)?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| classify(server, &e))
}

fn transport(
    server: &MailRow,
    password: Option<String>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let security = Security::parse(&server.security).unwrap_or(Security::StartTls);
    let host = server.host.as_str();
    let builder = match security {
        Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        Security::None if super::mail::is_local(host) => {
            Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host))
        }
        Security::None => {
            return Err(SendError::permanent(
                "plain SMTP is allowed only to a server on this machine: choose STARTTLS or TLS in the e-mail settings",
            ))
        }
    }
    .map_err(|e| SendError::permanent(format!("the e-mail server {host} cannot be used: {e}")))?;
    let mut builder = builder
        .port(u16::try_from(server.port).unwrap_or(587))
        .timeout(Some(Duration::from_secs(20)));
    if let Some(password) = password {
        builder = builder.credentials(Credentials::new(server.username.clone(), password));
    }
    Ok(builder.build())
}

/// Words for the delivery list; a 5xx reply (a refused login, an unknown mailbox) is not retried.
fn classify(server: &MailRow, e: &SmtpError) -> SendError {
    let at = format!("{}:{}", server.host, server.port);
    let code = e.status().map(|c| c.to_string());
    if e.is_permanent() {
        let reply = e.to_string();
        let auth = code.as_deref().is_some_and(|c| c.starts_with("53"));
        let message = if auth {
            format!("the e-mail server {at} refused the login (check the username and password in the e-mail settings): {reply}")
        } else {
            format!("the e-mail server {at} refused the message: {reply}")
        };
        return SendError::permanent(message);
    }
    let message = if e.is_timeout() {
        format!("the e-mail server {at} did not answer within 20 s")
    } else if e.is_transient() {
        format!("the e-mail server {at} asked to try later: {e}")
    } else {
        format!("could not reach the e-mail server {at}: {e}")
    };
    SendError {
        message,
        transient: true,
    }
}
