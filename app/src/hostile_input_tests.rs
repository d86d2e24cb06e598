//! Every parser that takes untrusted input, fed hostile input: it answers `Ok` or a field
//! error, never panics. The pass is bounded (256 cases a property; `PROPTEST_CASES` raises it).

use proptest::prelude::*;
use serde_json::Value;

use crate::{
    approvals::policy::{parse_requirements, parse_windows},
    catalog::{dbt, import},
    changes::model::{parse_component_lines, ChangeInput, Link, NewChange},
    plans::form::{parse_check, Op, PlanForm, RowForm},
};

/// Text an attacker would try: control characters, quotes, markup, huge numbers, unicode,
/// YAML and JSON punctuation.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        prop::collection::vec(
            prop_oneof![
                Just("\0"),
                Just("\n"),
                Just("\r\n"),
                Just("\t"),
                Just("\""),
                Just("'"),
                Just("<script>"),
                Just("{{"),
                Just("}}"),
                Just("- "),
                Just(": "),
                Just("&a"),
                Just("*a"),
                Just("!!binary"),
                Just("99999999999999999999999"),
                Just("-1"),
                Just("NaN"),
                Just("1e309"),
                Just("ż"),
                Just("\u{202e}"),
                Just("\\"),
                Just("%00"),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Any JSON value, a few levels deep, with hostile strings and keys.
fn hostile_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A manifest-shaped document with hostile values where dbt puts its fields: a whole section,
/// or one field of a model.
fn hostile_manifest() -> impl Strategy<Value = Vec<u8>> {
    (hostile_json(), hostile_json(), 0usize..8, hostile_text()).prop_map(
        |(section, value, field, key)| {
            let mut node = serde_json::json!({
                "unique_id": "model.p.x", "resource_type": "model", "name": "x",
                "description": "", "config": { "meta": {} }, "meta": {},
                "depends_on": { "nodes": ["source.p.raw.y"] }, "fqn": ["p", "x"],
            });
            let fields = ["unique_id", "resource_type", "name", "description", "config", "meta", "depends_on", "fqn"];
            node[fields[field]] = value;
            let doc = serde_json::json!({
                "metadata": { "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "project_name": key },
                "nodes": { "model.p.x": node },
                "sources": section,
            });
            serde_json::to_vec(&doc).unwrap_or_default()
        },
    )
}

fn row() -> impl Strategy<Value = RowForm> {
    (
        hostile_text(),
        any::<i64>(),
        prop::collection::vec(hostile_text(), 11),
    )
        .prop_map(|(stage, component_id, t)| RowForm {
            stage,
            component_id,
            component: t[0].clone(),
            scope: t[1].clone(),
            action: t[2].clone(),
            detail: t[3].clone(),
            checks: t[4].clone(),
            flagging: t[5].clone(),
            owner: t[6].clone(),
            target_version: t[7].clone(),
            retention: t[8].clone(),
            retention_hours: t[9].clone(),
            deadline_minutes: t[10].clone(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_dbt_manifest_of_any_bytes_is_refused_with_a_message(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = dbt::parse(&bytes);
    }

    #[test]
    fn a_manifest_with_hostile_values_never_panics(doc in hostile_manifest()) {
        let _ = dbt::parse(&doc);
    }

    #[test]
    fn a_catalog_upload_of_hostile_yaml_or_json_never_panics(text in hostile_text(), doc in hostile_json()) {
        let _ = import::parse_upload(text.as_bytes());
        let _ = import::parse_upload(&serde_json::to_vec(&doc).unwrap_or_default());
        let yaml = serde_norway::to_string(&doc).unwrap_or_default();
        let _ = import::parse_upload(yaml.as_bytes());
    }

    #[test]
    fn checks_windows_requirements_and_component_lines_never_panic(text in hostile_text()) {
        let _ = parse_check(&text);
        let _ = parse_windows(&text);
        let _ = parse_requirements(&text, &Default::default());
        let _ = parse_component_lines(&text);
    }

    #[test]
    fn a_plan_form_of_hostile_fields_and_buttons_never_panics(
        rows in prop::collection::vec(row(), 0..6),
        text in prop::collection::vec(hostile_text(), 6),
        button in hostile_text(),
    ) {
        let form = PlanForm {
            reason: text[0].clone(),
            criteria: text[1].clone(),
            expected_impact: text[2].clone(),
            expected_duration: text[3].clone(),
            consumers: text[4].clone(),
            communication: text[5].clone(),
            rows,
        };
        for op in [Op::parse(&button), Op::Save, Op::Remove(usize::MAX), Op::Up(0), Op::Down(7), Op::OwnStage(3)] {
            let _ = form.body(op);
        }
    }

    #[test]
    fn a_change_of_hostile_fields_gets_field_errors_not_a_panic(
        t in prop::collection::vec(hostile_text(), 10),
    ) {
        let input = ChangeInput {
            title: t[0].clone(),
            kind: t[1].clone(),
            why: t[2].clone(),
            deployed_at: t[3].clone(),
            git_sha: t[4].clone(),
            git_sha_before: t[5].clone(),
            artifact_ref: t[6].clone(),
            links: vec![Link { kind: t[7].clone(), url: t[8].clone() }],
            components: vec![(t[9].clone(), t[0].clone())],
            versions_before: vec![(t[9].clone(), t[1].clone())],
        };
        let _ = NewChange::parse(&input, chrono::Utc::now());
    }
}
