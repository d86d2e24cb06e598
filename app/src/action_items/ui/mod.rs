//! Action item pages: the three lists, an item's page, and the panel on a component's page.

mod chart;
mod fields;
mod item;
mod list;

pub use fields::{status_badge, ItemFields};
pub use item::ItemPage;
pub use list::{AllItemsPage, ItemsTable, MyItemsPage, OverdueItemsPage};

use leptos::prelude::*;

use crate::action_items::{
    api::{list_items, Scope},
    view::ItemQuery,
};

/// A component's open action items (on its catalog page).
#[component]
pub fn ComponentItems(component_id: i64) -> impl IntoView {
    let items = Resource::new(
        move || component_id,
        |id| {
            list_items(
                Scope::All,
                ItemQuery {
                    component: id.to_string(),
                    ..Default::default()
                },
            )
        },
    );
    view! {
        <section class="panel" aria-labelledby="component-items-heading">
            <h2 id="component-items-heading">"Open action items"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="muted">"No open action items point at this component."</p> }.into_any(),
                        Ok(page) => {
                            let more = page.next.is_some().then(|| view! { <p><a href=format!("/action-items/all?component={component_id}")>"All of them"</a></p> });
                            view! { <ItemsTable items=page.items today=page.today.unwrap_or_default() /> {more} }.into_any()
                        }
                        Err(_) => view! { <p class="muted">"The action items could not be loaded."</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
