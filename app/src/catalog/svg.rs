//! The impact picture: a left-to-right layered drawing of everything downstream of a component,
//! rendered on the server as SVG so it needs no JavaScript.

use std::collections::HashMap;
use std::fmt::Write;

use super::model::ComponentRef;

const W: i64 = 200;
const H: i64 = 44;
const GAP_X: i64 = 48;
const GAP_Y: i64 = 14;
const PAD: i64 = 16;

/// Draws `root` and the components in `layers` (column per layer; see `Graph::layers_from`).
pub fn render(
    root: &ComponentRef,
    refs: &HashMap<i64, ComponentRef>,
    layers: &HashMap<i64, u32>,
    edges: &[(i64, i64)],
) -> String {
    let positions = place(refs, layers, edges);
    let width = positions
        .values()
        .map(|(x, _)| x + W + PAD)
        .max()
        .unwrap_or(W + 2 * PAD);
    let height = positions
        .values()
        .map(|(_, y)| y + H + PAD)
        .max()
        .unwrap_or(H + 2 * PAD);
    let mut out = String::new();
    let n = positions.len().saturating_sub(1);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="impact-graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="impact-title"><title id="impact-title">Impact of {}: {n} downstream component(s), upstream on the left</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7a8c"/></marker></defs>"##,
        escape(&root.name)
    );
    for (up, down) in edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (positions.get(up), positions.get(down)) else {
            continue;
        };
        let (sx, sy, ex, ey) = (x1 + W, y1 + H / 2, x2 - 2, y2 + H / 2);
        let mid = (sx + ex) / 2;
        let _ = write!(
            out,
            r##"<path d="M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}" fill="none" stroke="#6b7a8c" stroke-width="1.5" marker-end="url(#arrow)"/>"##
        );
    }
    let mut ids: Vec<&i64> = positions.keys().collect();
    ids.sort();
    for id in ids {
        let (x, y) = positions[id];
        let Some(c) = refs.get(id) else { continue };
        let is_root = *id == root.id;
        let (fill, stroke) = if is_root {
            ("#e6efff", "#1d4ed8")
        } else {
            ("#ffffff", "#6b7a8c")
        };
        let _ = write!(
            out,
            r##"<a href="/catalog/{id}"><g class="node"><title>{name} ({kind})</title><rect x="{x}" y="{y}" width="{W}" height="{H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/><text x="{tx}" y="{ty1}" font-size="13" font-weight="600" fill="#1f2933">{short}</text><text x="{tx}" y="{ty2}" font-size="11" fill="#4b5563">{kind}{suffix}</text></g></a>"##,
            name = escape(&c.name),
            kind = c.kind.label(),
            sw = if is_root { 2 } else { 1 },
            tx = x + 10,
            ty1 = y + 18,
            ty2 = y + 34,
            short = escape(&short_name(&c.name)),
            suffix = if is_root { " · changed here" } else { "" },
        );
    }
    out.push_str("</svg>");
    out
}

/// Top-left corner of every box: column by layer, rows ordered by the average row of each
/// node's parents (a barycenter pass keeps edges short and mostly uncrossed).
fn place(
    refs: &HashMap<i64, ComponentRef>,
    layers: &HashMap<i64, u32>,
    edges: &[(i64, i64)],
) -> HashMap<i64, (i64, i64)> {
    let mut columns: Vec<Vec<i64>> = Vec::new();
    for (&id, &layer) in layers {
        if !refs.contains_key(&id) {
            continue;
        }
        let layer = layer as usize;
        if columns.len() <= layer {
            columns.resize(layer + 1, Vec::new());
        }
        columns[layer].push(id);
    }
    let mut parents: HashMap<i64, Vec<i64>> = HashMap::new();
    for (up, down) in edges {
        parents.entry(*down).or_default().push(*up);
    }
    let mut row: HashMap<i64, f64> = HashMap::new();
    let mut out = HashMap::new();
    for (col, ids) in columns.iter_mut().enumerate() {
        let key = |id: &i64| {
            let ps: Vec<f64> = parents
                .get(id)
                .map(|p| p.iter().filter_map(|p| row.get(p).copied()).collect())
                .unwrap_or_default();
            if ps.is_empty() {
                0.0
            } else {
                ps.iter().sum::<f64>() / ps.len() as f64
            }
        };
        let mut keyed: Vec<(f64, String, i64)> = ids
            .iter()
            .map(|id| (key(id), refs[id].name.to_lowercase(), *id))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (i, (_, _, id)) in keyed.into_iter().enumerate() {
            row.insert(id, i as f64);
            out.insert(
                id,
                (PAD + col as i64 * (W + GAP_X), PAD + i as i64 * (H + GAP_Y)),
            );
        }
    }
    out
}

/// The specific part of a name for its box: the last dotted segment (`model.shop.orders` →
/// `orders`, keeping a version suffix: `dim_customers.v2`), at most 26 characters. The full
/// name is in the box's tooltip and in the table.
fn short_name(name: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    let is_version =
        |p: &str| p.len() > 1 && p.starts_with('v') && p[1..].chars().all(|c| c.is_ascii_digit());
    let tail = match parts.as_slice() {
        [.., a, v] if is_version(v) => format!("{a}.{v}"),
        [.., last] if !last.is_empty() => last.to_string(),
        _ => name.to_string(),
    };
    let n = tail.chars().count();
    if n <= 26 {
        tail
    } else {
        let end: String = tail.chars().skip(n - 25).collect();
        format!("…{end}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::ComponentKind;

    fn node(id: i64, name: &str) -> (i64, ComponentRef) {
        (
            id,
            ComponentRef {
                id,
                name: name.into(),
                kind: ComponentKind::Dataset,
            },
        )
    }

    #[test]
    fn the_picture_links_every_component_and_escapes_names() {
        let refs: HashMap<_, _> = [
            node(1, "raw<orders>"),
            node(2, "orders"),
            node(3, "revenue"),
        ]
        .into();
        let layers = HashMap::from([(1, 0), (2, 1), (3, 2)]);
        let svg = render(&refs[&1], &refs, &layers, &[(1, 2), (2, 3)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("raw&lt;orders&gt;"));
        for id in 1..=3 {
            assert!(svg.contains(&format!("href=\"/catalog/{id}\"")));
        }
        assert_eq!(svg.matches("marker-end").count(), 2);
        assert!(svg.contains("2 downstream component(s)"));
    }

    #[test]
    fn boxes_show_the_specific_part_of_a_name() {
        assert_eq!(
            short_name("model.rollgate_sample.revenue_daily"),
            "revenue_daily"
        );
        assert_eq!(
            short_name("model.shop.dim_customers.v2"),
            "dim_customers.v2"
        );
        assert_eq!(short_name("orders"), "orders");
        let long = short_name("model.x.a_very_long_model_name_that_goes_on_and_on");
        assert_eq!(long.chars().count(), 26);
        assert!(long.ends_with("and_on"));
    }
}
