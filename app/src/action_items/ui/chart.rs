//! Open and done action items per week, as a small server-rendered SVG with a table twin for
//! screen readers.

use leptos::prelude::*;

use crate::action_items::view::Week;

const WIDTH: i64 = 640;
const HEIGHT: i64 = 150;
const BASE: i64 = 120;

#[component]
pub fn WeeklyChart(weeks: Vec<Week>) -> impl IntoView {
    let max = weeks
        .iter()
        .map(|w| w.open.max(w.done))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = WIDTH / weeks.len().max(1) as i64;
    let bar = (slot - 12) / 2;
    let height = move |n: i64| n * (BASE - 10) / max;
    let bars = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let x = i as i64 * slot + 4;
            let (ho, hd) = (height(w.open), height(w.done));
            view! {
                <g>
                    <rect class="chart__open" x=x y=BASE - ho width=bar height=ho>
                        <title>{format!("Week of {}: {} open", w.starts, w.open)}</title>
                    </rect>
                    <rect class="chart__done" x=x + bar + 2 y=BASE - hd width=bar height=hd>
                        <title>{format!("Week of {}: {} done", w.starts, w.done)}</title>
                    </rect>
                    <text class="chart__label" x=x y=BASE + 16>{w.starts.format("%d %b").to_string()}</text>
                    {(w.open > 0).then(|| view! { <text class="chart__value" x=x y=BASE - ho - 3>{w.open}</text> })}
                    {(w.done > 0).then(|| view! { <text class="chart__value" x=x + bar + 2 y=BASE - hd - 3>{w.done}</text> })}
                </g>
            }
        })
        .collect_view();
    let rows = weeks
        .iter()
        .map(|w| view! { <tr><th scope="row">{w.starts.to_string()}</th><td>{w.open}</td><td>{w.done}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="chart-caption" class="chart__svg">
                <line class="chart__axis" x1=0 y1=BASE x2=WIDTH y2=BASE />
                {bars}
            </svg>
            <figcaption id="chart-caption">
                <span class="chart__key chart__key--open">"Open at the end of the week"</span>
                <span class="chart__key chart__key--done">"Done during the week"</span>
            </figcaption>
            <details>
                <summary>"The numbers"</summary>
                <table class="table table--compact">
                    <thead><tr><th scope="col">"Week of"</th><th scope="col">"Open"</th><th scope="col">"Done"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}
