use leptos::{prelude::*, server_fn::ServerFn};

use crate::error::AppError;

/// The errors of a form's last submission, read by its fields.
#[derive(Clone, Copy)]
pub struct FormErrors(pub Signal<Option<AppError>>);

impl FormErrors {
    /// The errors of `action`'s last result (with JavaScript, or carried in the URL without).
    pub fn of<S>(action: ServerAction<S>) -> Self
    where
        S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        Self(Signal::derive(move || {
            action.value().get().and_then(Result::err)
        }))
    }

    /// Errors that belong to no field, for the notice above the form.
    pub fn general(self) -> Signal<Option<AppError>> {
        let errors = self.0;
        Signal::derive(move || {
            errors
                .get()
                .filter(|e| !matches!(e, AppError::Validation { .. }))
        })
    }

    pub fn field(self, name: &'static str) -> Signal<Option<String>> {
        let errors = self.0;
        Signal::derive(move || errors.get().and_then(|e| e.field_message(name)))
    }
}

/// A labelled input with its hint and error wired up for screen readers. With JavaScript,
/// `validate` checks the value as the user leaves the field.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] validate: Option<fn(&str) -> Option<String>>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let local = RwSignal::new(None::<String>);
    let message = Signal::derive(move || local.get().or_else(|| error.get()));
    let described = move || {
        let mut ids = Vec::new();
        if hint.is_some() {
            ids.push(hint_id.clone());
        }
        if message.get().is_some() {
            ids.push(format!("field-{name}-error"));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    };
    let on_blur = move |ev: leptos::ev::FocusEvent| {
        if let Some(check) = validate {
            local.set(check(&event_target_value(&ev)));
        }
    };
    view! {
        <div class="field" class:field--invalid=move || message.get().is_some()>
            <label class="field__label" for=id.clone()>
                {label}
                {required.then(|| view! { <span class="field__required">" (required)"</span> })}
            </label>
            {hint.map(|h| view! { <p class="field__hint" id=format!("field-{name}-hint")>{h}</p> })}
            <input
                class="field__input"
                id=id.clone()
                name=name
                type=kind
                value=value
                autocomplete=autocomplete
                required=required
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described
                on:blur=on_blur
            />
            {move || message.get().map(|m| view! { <p class="field__error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// A fieldset of checkboxes (`name[]`), with its error.
#[component]
pub fn CheckboxGroup(
    legend: &'static str,
    name: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    /// (value, label, checked)
    options: Vec<(String, String, bool)>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("field-{name}-error");
    let described_by = error_id.clone();
    let field_name = format!("{name}[]");
    view! {
        <fieldset
            class="field field--group"
            class:field--invalid=move || error.get().is_some()
            aria-describedby=described_by
        >
            <legend class="field__label">{legend}</legend>
            {hint.map(|h| view! { <p class="field__hint">{h}</p> })}
            {options
                .into_iter()
                .map(|(value, label, checked)| {
                    let id = format!("field-{name}-{value}");
                    view! {
                        <div class="checkbox">
                            <input type="checkbox" id=id.clone() name=field_name.clone() value=value checked=checked />
                            <label for=id>{label}</label>
                        </div>
                    }
                })
                .collect_view()}
            {move || error.get().map(|m| view! { <p class="field__error" id=error_id.clone()>{m}</p> })}
        </fieldset>
    }
}

/// A labelled multi-line text box with its hint and error.
#[component]
pub fn TextArea(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = 4)] rows: u32,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
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
            <label class="field__label" for=id.clone()>
                {label}
                {required.then(|| view! { <span class="field__required">" (required)"</span> })}
            </label>
            {hint.map(|h| view! { <p class="field__hint" id=hint_id.clone()>{h}</p> })}
            <textarea
                class="field__input"
                id=id.clone()
                name=name
                rows=rows
                required=required
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
            >
                {value.unwrap_or_default()}
            </textarea>
            {move || error.get().map(|m| view! { <p class="field__error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// A labelled drop-down list: `options` are (value, label); `selected` is a value.
#[component]
pub fn Select(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    options: Vec<(String, String)>,
    #[prop(optional, into)] selected: String,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
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
            <select class="field__input" id=id.clone() name=name
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described>
                {options.into_iter().map(|(value, text)| {
                    let is = value == selected;
                    view! { <option value=value selected=is>{text}</option> }
                }).collect_view()}
            </select>
            {move || error.get().map(|m| view! { <p class="field__error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}
