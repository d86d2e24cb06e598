//! Postmortem pages: the list, a postmortem (document, timeline, items, review), its editor,
//! its published versions, and the panel on a change's page.

mod document;
mod edit;
mod list;
mod page;

pub use edit::EditPostmortemPage;
pub use list::{PostmortemVersionPage, PostmortemsPage};
pub use page::{status_badge, PostmortemPage};

use leptos::prelude::*;

use crate::{
    components::{ErrorNotice, FormErrors},
    postmortems::{api::OpenPostmortem, model::PostmortemStatus},
};

/// On a change's (and rollback's) page: its postmortem, or the button that opens one.
#[component]
pub fn PostmortemPanel(
    change_id: i64,
    postmortem: Option<(i64, PostmortemStatus)>,
    can_write: bool,
) -> impl IntoView {
    let open = ServerAction::<OpenPostmortem>::new();
    let errors = FormErrors::of(open);
    view! {
        <section class="panel" aria-labelledby="postmortem-heading">
            <h2 id="postmortem-heading">"Postmortem"</h2>
            {match postmortem {
                Some((id, status)) => view! {
                    <p>{status_badge(status)} " " <a href=format!("/postmortems/{id}")>"Open the postmortem"</a></p>
                }.into_any(),
                None if can_write => view! {
                    <p>"Write down what happened and what must change. Rollgate starts it with the change, the plan's impact and a timeline read from the audit log."</p>
                    <ErrorNotice error=errors.general() />
                    <ActionForm action=open>
                        <input type="hidden" name="change_id" value=change_id />
                        <button type="submit" class="button">"Write the postmortem"</button>
                    </ActionForm>
                }.into_any(),
                None => view! { <p class="muted">"No postmortem yet. A postmortem author or requester can open one."</p> }.into_any(),
            }}
        </section>
    }
}
