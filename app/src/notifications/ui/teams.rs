//! The team channels panel of the administrators' notifications page.

use leptos::prelude::*;

use crate::{
    components::{ErrorNotice, Field, FormErrors, Select},
    connectors::model::SecretSource,
    error::AppError,
    error_template::loaded,
    groups::api::list_groups,
    notifications::{
        api::{list_team_channels, AddTeamChannel, SetTeamChannelActive},
        model::Channel,
        teams::TeamChannel,
    },
};

#[component]
pub fn TeamChannels() -> impl IntoView {
    let add = ServerAction::<AddTeamChannel>::new();
    let toggle = ServerAction::<SetTeamChannelActive>::new();
    let list = Resource::new(
        move || (add.version().get(), toggle.version().get()),
        |_| list_team_channels(),
    );
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <section class="panel" aria-labelledby="teams-heading">
            <h2 id="teams-heading">"Team channels"</h2>
            <p>"A Slack or Microsoft Teams channel (its incoming webhook) or any receiver of signed webhooks, told of the events of plans that need one approval group, or of changes to components with one catalog tag."</p>
            <ErrorNotice error=FormErrors::of(toggle).general() />
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move { loaded(async move {
                    let channels = list.await?;
                    let groups = groups.await?;
                    Ok::<_, AppError>(view! {
                        {(!channels.is_empty()).then(|| view! { <ul class="plain">{channels.into_iter().map(|c| view! { <ChannelLine c toggle /> }).collect_view()}</ul> })}
                        <AddForm add groups=groups.into_iter().map(|g| (g.id.to_string(), g.name)).collect() />
                    })
                }.await) })}
            </Transition>
        </section>
    }
}

#[component]
fn ChannelLine(c: TeamChannel, toggle: ServerAction<SetTeamChannelActive>) -> impl IntoView {
    let signing = match &c.secret {
        SecretSource::Env(v) => format!(" · signed with {v}"),
        SecretSource::Stored => " · signed (secret stored encrypted)".into(),
        SecretSource::None => String::new(),
    };
    let (label, value) = if c.active {
        ("Turn off", "false")
    } else {
        ("Turn on", "true")
    };
    view! {
        <li class="team-channel">
            <strong>{format!("#{}", c.name)}</strong>
            {format!(" · {} at {} · {}{signing}", c.kind.label(), c.origin, c.scope.label())}
            {(!c.active).then(|| view! { " " <span class="badge badge--off">"Off"</span> })}
            <ActionForm action=toggle attr:class="inline-form">
                <input type="hidden" name="id" value=c.id />
                <input type="hidden" name="active" value=value />
                <button type="submit" class="button button--small button--quiet" aria-label=format!("{label} #{}", c.name)>{label}</button>
            </ActionForm>
        </li>
    }
}

#[component]
fn AddForm(add: ServerAction<AddTeamChannel>, groups: Vec<(String, String)>) -> impl IntoView {
    let form = FormErrors::of(add);
    let kinds: Vec<(String, String)> = Channel::TEAM
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let mut group_options = vec![(String::new(), "— none (use a tag) —".to_string())];
    group_options.extend(groups);
    view! {
        <h3>"Add a team channel"</h3>
        <ErrorNotice error=form.general() />
        <ActionForm action=add attr:class="form">
            <div class="side-by-side">
                <Field label="Name" name="name" required=true autocomplete="off" hint="As people know it, e.g. data-incidents." error=form.field("name") />
                <Select label="Kind" name="kind" options=kinds error=form.field("kind") />
            </div>
            <Field label="Webhook address" name="url" kind="url" required=true autocomplete="off"
                hint="Slack: the incoming webhook URL. Teams: the workflow's “When a Teams webhook request is received” URL. Stored encrypted and never shown again."
                error=form.field("url") />
            <div class="side-by-side">
                <Select label="Approval group" name="group_id" options=group_options hint="Told of the plans this group must approve." error=form.field("group_id") />
                <Field label="Or catalog tag" name="tag" autocomplete="off" hint="Told of changes to components with this tag." error=form.field("tag") />
            </div>
            <Field label="Signing secret from environment variable (signed webhooks)" name="secret_env" autocomplete="off"
                hint="A server variable starting with ROLLGATE_CONNECTOR_; or store the secret below." error=form.field("secret_env") />
            <Field label="Or store the signing secret (encrypted)" name="secret" kind="password" autocomplete="new-password" error=form.field("secret") />
            <div class="form__actions"><button type="submit" class="button button--primary">"Add the channel"</button></div>
        </ActionForm>
    }
}
