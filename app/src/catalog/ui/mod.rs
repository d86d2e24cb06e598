//! Catalog pages: the list, a component (with its dependencies and history), the component
//! form, the impact view and the import page.

mod detail;
mod form;
mod impact;
mod import;
mod list;

pub use detail::ComponentPage;
pub use form::{EditComponentPage, NewComponentPage};
pub use impact::ImpactPage;
pub use import::ImportPage;
pub use list::CatalogPage;

use super::model::ComponentKind;

/// (value, label) for a kind drop-down; `any` adds the "all kinds" choice first.
fn kind_options(any: bool) -> Vec<(String, String)> {
    let first = any.then(|| (String::new(), "All kinds".to_string()));
    first
        .into_iter()
        .chain(
            ComponentKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), k.label().to_string())),
        )
        .collect()
}
