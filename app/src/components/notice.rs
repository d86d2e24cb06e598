use leptos::prelude::*;

use crate::error::AppError;

/// A calm "nothing here yet" block that says what to do next.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="empty">
            <h2 class="empty__title">{title}</h2>
            <div class="empty__body">{children()}</div>
        </section>
    }
}

/// An error message announced to screen readers.
#[component]
pub fn ErrorNotice(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <div class="notice notice--error" role="alert">
                    {e.to_string()}
                </div>
            }
        })
    }
}

#[component]
pub fn SuccessNotice(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! {
                <div class="notice notice--success" role="status">
                    {m}
                </div>
            }
        })
    }
}
