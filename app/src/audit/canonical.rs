//! RFC 8785 (JSON Canonicalization Scheme) for the JSON the audit chain holds: members sorted by
//! UTF-16 code units, minimal string escaping, integers only (|n| ≤ 2^53 − 1).

use serde_json::Value;

const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("number {0} is not an integer within ±(2^53 − 1); store it as a string")]
    UnsupportedNumber(String),
}

/// The canonical UTF-8 bytes of `value`.
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out.into_bytes())
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(out: &mut String, n: &serde_json::Number) -> Result<(), CanonicalError> {
    match n.as_i64() {
        Some(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) => {
            out.push_str(&i.to_string());
            Ok(())
        }
        _ => Err(CanonicalError::UnsupportedNumber(n.to_string())),
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        String::from_utf8(canonical_bytes(&v).unwrap()).unwrap()
    }

    #[test]
    fn members_are_sorted_recursively_and_whitespace_dropped() {
        let v = json!({"b": [3, {"z": 1, "a": null}], "a": true});
        assert_eq!(canon(v), r#"{"a":true,"b":[3,{"a":null,"z":1}]}"#);
    }

    #[test]
    fn members_sort_by_utf16_code_units_not_utf8_bytes() {
        // U+10000 is D800 DC00 in UTF-16 and so sorts before U+E000; in UTF-8 it sorts after.
        let v = json!({"\u{E000}": 1, "\u{10000}": 2});
        assert_eq!(canon(v), "{\"\u{10000}\":2,\"\u{E000}\":1}");
    }

    #[test]
    fn only_quotes_backslashes_and_controls_are_escaped() {
        let v = json!("a\"b\\c\u{08}\u{0C}\n\r\t\u{01}\u{1f}/é€");
        assert_eq!(canon(v), "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f/é€\"");
    }

    #[test]
    fn floats_and_unsafe_integers_are_refused() {
        assert!(canonical_bytes(&json!(1.5)).is_err());
        assert!(canonical_bytes(&json!(9_007_199_254_740_992_i64)).is_err());
        assert_eq!(
            canon(json!(-9_007_199_254_740_991_i64)),
            "-9007199254740991"
        );
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|n| json!(n)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn canonical_json_parses_back_to_the_same_value_and_is_a_fixed_point(v in json_value()) {
            let bytes = canonical_bytes(&v).unwrap();
            let parsed: Value = serde_json::from_slice(&bytes).unwrap();
            proptest::prop_assert_eq!(&parsed, &v);
            proptest::prop_assert_eq!(canonical_bytes(&parsed).unwrap(), bytes);
        }
    }
}
