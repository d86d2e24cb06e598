use leptos::prelude::*;

use crate::catalog::{api::search_components, model::ComponentRef};

/// A text input for a component name. With JavaScript it suggests catalog components as the
/// user types (a native `datalist`); without, it is a plain text field.
#[component]
pub fn ComponentPicker(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let list_id = format!("{id}-options");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    // Suggestions are fetched from the input handler, so only the browser ever asks: nothing
    // async is read while the server renders the page (a local resource there would make the
    // surrounding Suspense give up and render its fallback).
    let suggestions = RwSignal::new(Vec::<ComponentRef>::new());
    let asked = StoredValue::new(0u64);
    let suggest = move |q: String| {
        let ticket = asked.get_value() + 1;
        asked.set_value(ticket);
        if q.trim().len() < 2 {
            suggestions.set(Vec::new());
            return;
        }
        leptos::task::spawn_local(async move {
            let found = search_components(q).await.unwrap_or_default();
            // A slower answer to an earlier keystroke must not replace a newer one.
            if asked.get_value() == ticket {
                suggestions.set(found);
            }
        });
    };
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label class="field__label" for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field__hint" id=hint_id.clone()>{h}</p> })}
            <input class="field__input" id=id.clone() name=name type="text" list=list_id.clone() autocomplete="off"
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
                on:input=move |ev| suggest(event_target_value(&ev)) />
            <datalist id=list_id>
                {move || suggestions.get().into_iter().map(|c| view! {
                    <option value=c.name.clone()>{c.kind.label()}</option>
                }).collect_view()}
            </datalist>
            {move || error.get().map(|m| view! { <p class="field__error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}
