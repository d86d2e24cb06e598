//! A postmortem's page: figures, the document, the timeline from the record (markable by its
//! writers), action items, and the review controls.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::document::{FiguresPanel, ItemsList, SectionsView, TimelineLine};
use crate::{
    action_items::{
        api::{item_owners, CreateItem},
        ui::ItemFields,
    },
    auth::{ui::Authorized, CurrentUser, Permission},
    components::{ErrorNotice, Field, FormErrors, PageHeader, SuccessNotice},
    error::AppError,
    error_template::loaded,
    postmortems::{
        api::{
            get_postmortem, EditTimeline, PublishPostmortem, SendBackPostmortem, SubmitPostmortem,
        },
        model::PostmortemStatus,
        timeline::{Moment, TimelineItem},
        view::PostmortemView,
    },
};

#[component]
pub fn PostmortemPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|user: CurrentUser| view! { <Postmortem user /> } /> }
}

pub fn status_badge(s: PostmortemStatus) -> impl IntoView {
    let class = match s {
        PostmortemStatus::Published => "badge badge--ok",
        PostmortemStatus::InReview => "badge badge--warning",
        PostmortemStatus::Draft => "badge",
    };
    view! { <span class=class>{s.label()}</span> }
}

fn saved_message(code: &str) -> Option<String> {
    Some(match code {
        "opened" => "Postmortem opened. Rollgate filled in the trigger and what it knows of the impact; the timeline below is read from the audit log.",
        "saved" => "Postmortem saved.",
        "timeline" => "Timeline updated.",
        "item" => "Action item added.",
        "submitted" => "Sent for review. A postmortem author or administrator other than its author publishes it.",
        "sent_back" => "Sent back to its writers.",
        "published" => "Published.",
        _ => return None,
    }.to_string())
}

/// The page's forms: each one's result refreshes the page's data (with JavaScript).
#[derive(Clone, Copy)]
struct Actions {
    submit: ServerAction<SubmitPostmortem>,
    publish: ServerAction<PublishPostmortem>,
    send_back: ServerAction<SendBackPostmortem>,
    timeline: ServerAction<EditTimeline>,
    create_item: ServerAction<CreateItem>,
}

impl Actions {
    fn new() -> Self {
        Self {
            submit: ServerAction::new(),
            publish: ServerAction::new(),
            send_back: ServerAction::new(),
            timeline: ServerAction::new(),
            create_item: ServerAction::new(),
        }
    }

    fn version(&self) -> usize {
        self.submit.version().get()
            + self.publish.version().get()
            + self.send_back.version().get()
            + self.timeline.version().get()
            + self.create_item.version().get()
    }
}

#[component]
fn Postmortem(user: CurrentUser) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let writer = user.can(Permission::WritePostmortems);
    let actions = Actions::new();
    let page = Resource::new(
        move || (id(), actions.version()),
        move |(id, _)| async move {
            let id = id.ok_or_else(|| AppError::not_found("The postmortem"))?;
            let view = get_postmortem(id).await?;
            let owners = if writer {
                item_owners().await?
            } else {
                Vec::new()
            };
            Ok::<_, AppError>((view, owners))
        },
    );
    let saved = Signal::derive(move || {
        query
            .with(|q| q.get("saved"))
            .and_then(|c| saved_message(&c))
    });
    let print = move || query.with(|q| q.get("print").is_some());
    let show = move || query.with(|q| q.get("timeline"));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let user = user.clone();
                Suspend::new(async move { loaded(async move {
                    let (v, owners) = page.await?;
                    let p = v.postmortem.clone();
                    let printing = print();
                    let editable = writer && !printing;
                    let all = match show().as_deref() {
                        Some("all") => true,
                        Some(_) => false,
                        None => p.status != PostmortemStatus::Published || printing,
                    };
                    let revising = p.published_versions > 0 && p.status != PostmortemStatus::Published;
                    Ok::<_, AppError>(view! {
                        <PageHeader title=format!("Postmortem: {}", p.change_title) lead=format!("Change #{} · written by {}{}", p.change_id, p.author.username, p.reviewer.as_ref().map(|r| format!(" · reviewed by {}", r.username)).unwrap_or_default())>
                            {editable.then(|| view! { <a class="button" href=format!("/postmortems/{}/edit", p.id)>"Edit the text"</a> })}
                            <a class="button button--quiet" href=format!("/postmortems/{}/export.md", p.id)>"Markdown"</a>
                            <a class="button button--quiet" href=format!("/postmortems/{}?print=1", p.id)>"Printable"</a>
                        </PageHeader>
                        <SuccessNotice message=saved />
                        <p>{status_badge(p.status)} " " <a href=format!("/changes/{}", p.change_id)>"The change"</a>
                            {v.executions.iter().map(|e| view! { " · " <a href=format!("/executions/{e}")>{format!("Rollback #{e}")}</a> }).collect_view()}
                        </p>
                        {revising.then(|| view! {
                            <p class="notice notice--warning">{format!("This text is being revised. Published version {} stays as it was: ", p.published_versions)}
                                <a href=format!("/postmortems/{}/versions/{}", p.id, p.published_versions)>"read it"</a>"."</p>
                        })}
                        <FiguresPanel figures=v.figures.clone() />
                        {(!printing).then(|| view! { <Review v=v.clone() user=user.clone() actions /> })}
                        <SectionsView sections=p.sections.clone() />
                        <Timeline v=v.clone() all editable link_audit=user.can(Permission::ViewAudit) edit=actions.timeline />
                        <section class="panel" id="action-items" aria-labelledby="items-heading">
                            <h2 id="items-heading">"Action items"</h2>
                            <ItemsList items=v.items.clone() no_actions_reason=p.no_actions_reason.clone() />
                            {editable.then(|| view! { <AddItem v=v.clone() owners=owners.clone() me=user.id create=actions.create_item /> })}
                        </section>
                        {(p.published_versions > 0).then(|| view! {
                            <section class="panel" aria-labelledby="versions-heading">
                                <h2 id="versions-heading">"Published versions"</h2>
                                <ul class="plain">{(1..=p.published_versions).rev().map(|n| view! {
                                    <li><a href=format!("/postmortems/{}/versions/{n}", p.id)>{format!("Version {n}")}</a></li>
                                }).collect_view()}</ul>
                            </section>
                        })}
                    })
                }.await) })
            }}
        </Transition>
    }
}

/// Where the postmortem stands, and the one next step the viewer may take.
#[component]
fn Review(v: PostmortemView, user: CurrentUser, actions: Actions) -> impl IntoView {
    let p = v.postmortem;
    let Actions {
        submit,
        publish,
        send_back,
        ..
    } = actions;
    let (submit_errors, publish_errors, back_errors) = (
        FormErrors::of(submit),
        FormErrors::of(publish),
        FormErrors::of(send_back),
    );
    let problems = move |e: FormErrors| {
        move || match e.0.get() {
            Some(AppError::Validation { fields }) => Some(view! {
                <div class="notice notice--error" role="alert"><p>"Before it can be reviewed:"</p>
                    <ul>{fields.into_iter().map(|f| view! { <li>{f.message}</li> }).collect_view()}</ul></div>
            }),
            _ => None,
        }
    };
    let reviewer = user.can(Permission::ReviewPostmortems) && user.id != p.author.id;
    let body = match p.status {
        PostmortemStatus::Draft if user.can(Permission::WritePostmortems) => view! {
            <p>"When every required section is written and the action items are in, send it for review."</p>
            {problems(submit_errors)}
            <ErrorNotice error=submit_errors.general() />
            <ActionForm action=submit>
                <input type="hidden" name="id" value=p.id />
                <input type="hidden" name="version" value=p.version />
                <button type="submit" class="button button--primary">"Send for review"</button>
            </ActionForm>
        }.into_any(),
        PostmortemStatus::Draft => view! { <p>"A draft: its writers are still working on it."</p> }.into_any(),
        PostmortemStatus::InReview if reviewer => view! {
            <p>"You are reviewing the copy on this page. Publishing keeps it as a version; later edits make a new one."</p>
            {problems(publish_errors)}
            <ErrorNotice error=publish_errors.general() />
            <ActionForm action=publish attr:class="inline-form">
                <input type="hidden" name="id" value=p.id />
                <input type="hidden" name="version" value=p.version />
                <button type="submit" class="button button--primary">"Publish"</button>
            </ActionForm>
            <details>
                <summary>"Send it back instead"</summary>
                <ErrorNotice error=back_errors.general() />
                <ActionForm action=send_back attr:class="form">
                    <input type="hidden" name="id" value=p.id />
                    <input type="hidden" name="version" value=p.version />
                    <Field label="What should change" name="note" required=true error=back_errors.field("note") />
                    <div class="form__actions"><button type="submit" class="button">"Send back"</button></div>
                </ActionForm>
            </details>
        }.into_any(),
        PostmortemStatus::InReview => view! { <p>"In review: a postmortem author or administrator other than its author publishes it."</p> }.into_any(),
        PostmortemStatus::Published => view! {
            <p>{format!("Published{}.", p.published_at.map(|t| t.format(" %Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default())}</p>
        }.into_any(),
    };
    view! {
        <section class="panel" aria-labelledby="review-heading">
            <h2 id="review-heading">"Review"</h2>
            {body}
        </section>
    }
}

#[component]
fn Timeline(
    v: PostmortemView,
    all: bool,
    editable: bool,
    link_audit: bool,
    edit: ServerAction<EditTimeline>,
) -> impl IntoView {
    let p = v.postmortem;
    let total = v.timeline.len();
    let shown: Vec<TimelineItem> = v
        .timeline
        .into_iter()
        .filter(|i| all || i.highlighted())
        .collect();
    let toggle = if all {
        view! { <a href=format!("/postmortems/{}?timeline=highlights#timeline", p.id)>"Show only starred, marked and own entries"</a> }.into_any()
    } else {
        view! { <a href=format!("/postmortems/{}?timeline=all#timeline", p.id)>{format!("Show all {total} entries")}</a> }.into_any()
    };
    let errors = FormErrors::of(edit);
    view! {
        <section class="panel" id="timeline" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <p class="muted">"Read from the tamper-evident audit log: each line names its event. Times are UTC. " {toggle}</p>
            <ErrorNotice error=errors.general() />
            {move || errors.0.get().and_then(|e| e.field_message("seq").or(e.field_message("text")).or(e.field_message("at"))).map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
            <ol class="timeline">
                {shown.into_iter().map(|i| {
                    let anchor = i.seq.map(|s| format!("event-{s}")).unwrap_or_else(|| format!("entry-{}", i.entry_id.unwrap_or_default()));
                    let controls = editable.then(|| view! { <Mark item=i.clone() id=p.id version=p.version action=edit /> });
                    let own = i.own();
                    view! { <li class="timeline__item" class:timeline__item--own=own id=anchor><TimelineLine item=i link_audit />{controls}</li> }
                }).collect_view()}
            </ol>
            {editable.then(|| view! {
                <details>
                    <summary>"Add your own entry"</summary>
                    <ActionForm action=edit attr:class="form">
                        <input type="hidden" name="id" value=p.id />
                        <input type="hidden" name="version" value=p.version />
                        <input type="hidden" name="entry[op]" value="add" />
                        <div class="side-by-side">
                            <Field label="When (UTC)" name="entry[at]" kind="datetime-local" required=true error=errors.field("at") />
                            <MomentSelect selected=None />
                        </div>
                        <Field label="What happened" name="entry[text]" required=true hint="e.g. “Finance reported doubled totals on the revenue dashboard”." error=errors.field("text") />
                        <div class="form__actions"><button type="submit" class="button">"Add to the timeline"</button></div>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}

#[component]
fn MomentSelect(selected: Option<Moment>) -> impl IntoView {
    view! {
        <select class="field__input field__input--short" name="entry[moment]" aria-label="Mark as">
            <option value="" selected=selected.is_none()>"No mark"</option>
            {Moment::ALL.into_iter().map(|m| view! { <option value=m.as_str() selected=selected == Some(m)>{m.label()}</option> }).collect_view()}
        </select>
    }
}

/// Star, mark (or remove an own entry) — one small form per line.
#[component]
fn Mark(
    item: TimelineItem,
    id: i64,
    version: i64,
    action: ServerAction<EditTimeline>,
) -> impl IntoView {
    match item.seq {
        Some(seq) => view! {
            <ActionForm action attr:class="timeline__mark">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="version" value=version />
                <input type="hidden" name="entry[op]" value="mark" />
                <input type="hidden" name="entry[seq]" value=seq />
                <input type="checkbox" name="entry[starred]" value="true" id=format!("star-{seq}") checked=item.starred />
                <label for=format!("star-{seq}")>"Star"</label>
                <MomentSelect selected=item.moment />
                <button type="submit" class="button button--small button--quiet">"Save"</button>
            </ActionForm>
        }.into_any(),
        None => view! {
            <ActionForm action attr:class="timeline__mark">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="version" value=version />
                <input type="hidden" name="entry[op]" value="remove" />
                <input type="hidden" name="entry[entry_id]" value=item.entry_id.unwrap_or_default() />
                <button type="submit" class="button button--small button--quiet">"Remove"</button>
            </ActionForm>
        }.into_any(),
    }
}

#[component]
fn AddItem(
    v: PostmortemView,
    owners: Vec<crate::action_items::view::Person>,
    me: i64,
    create: ServerAction<CreateItem>,
) -> impl IntoView {
    let errors = FormErrors::of(create);
    view! {
        <div class="add-item">
            <h3 id="add-item-heading">"Add an action item"</h3>
            <ErrorNotice error=errors.general() />
            <ActionForm action=create attr:class="form">
                <input type="hidden" name="postmortem_id" value=v.postmortem.id />
                <ItemFields owners plan_rows=v.plan_rows.clone() item=None errors default_owner=me />
                <div class="form__actions"><button type="submit" class="button button--primary">"Add the action item"</button></div>
            </ActionForm>
        </div>
    }
}
