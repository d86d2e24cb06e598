use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    auth::{ui::Authorized, CurrentUser, Permission},
    catalog::{api::component_impact, model::ImpactEntry},
    components::{EmptyState, PageHeader},
    error::AppError,
    error_template::loaded,
};

#[component]
pub fn ImpactPage() -> impl IntoView {
    view! { <Authorized permission=Permission::Read children=|_: CurrentUser| view! { <ImpactView /> } /> }
}

#[component]
fn ImpactView() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let impact = Resource::new(id, |id| async move {
        match id {
            Some(id) => component_impact(id).await,
            None => Err(AppError::not_found("The component")),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move { loaded(async move {
                let impact = impact.await?;
                let root = impact.root.clone();
                let count = impact.entries.len();
                Ok::<_, AppError>(view! {
                    <PageHeader title=format!("Impact of {}", root.name)
                        lead=format!("{count} component(s) downstream: a rollback of {} may need to cover them, nearest first.", root.name)>
                        <a class="button" href=format!("/catalog/{}", root.id)>"Back to the component"</a>
                    </PageHeader>
                    {if count == 0 {
                        view! { <EmptyState title="Nothing downstream">
                            <p>"No component depends on this one. Declare dependencies on the component pages or import lineage."</p>
                        </EmptyState> }.into_any()
                    } else {
                        view! {
                            {match impact.svg {
                                Some(svg) => view! {
                                    <figure class="graph">
                                        <div class="graph__scroll" inner_html=svg></div>
                                        <figcaption>"Data flows left to right; each box links to its component. The table below lists the same components."</figcaption>
                                    </figure>
                                }.into_any(),
                                None => view! { <p class="notice">"This graph is too large to draw; the table lists every component."</p> }.into_any(),
                            }}
                            <ImpactTable entries=impact.entries />
                        }.into_any()
                    }}
                })
            }.await) })}
        </Transition>
    }
}

#[component]
fn ImpactTable(entries: Vec<ImpactEntry>) -> impl IntoView {
    view! {
        <table class="table">
            <caption>"Downstream components by distance"</caption>
            <thead><tr><th scope="col">"Component"</th><th scope="col">"Kind"</th><th scope="col">"Distance"</th><th scope="col">"Path"</th></tr></thead>
            <tbody>
                {entries.into_iter().map(|e| view! {
                    <tr>
                        <td><a href=format!("/catalog/{}", e.component.id)>{e.component.name}</a></td>
                        <td>{e.component.kind.label()}</td>
                        <td>{e.distance}</td>
                        <td class="path">{e.path.join(" → ")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
