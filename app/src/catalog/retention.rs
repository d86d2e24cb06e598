//! A component's time-travel retention: how long its storage keeps earlier versions, written
//! `engine [period]` (`snowflake 30d`, `lakefs 72h`) and checked against the engine's bounds.

use crate::error::FieldError;

/// Storage engines and their time-travel retention: default, least and most hours (None: the
/// period must be given, as with lakeFS, whose garbage collection rule sets it).
const ENGINES: [(&str, Option<i64>, i64, i64); 6] = [
    ("snowflake", Some(24), 24, 90 * 24),
    ("bigquery", Some(7 * 24), 2 * 24, 7 * 24),
    ("delta", Some(7 * 24), 1, 87_600),
    ("iceberg", Some(5 * 24), 1, 87_600),
    ("lakefs", None, 1, 87_600),
    ("custom", None, 1, 87_600),
];

/// A retention as written (`snowflake`, `snowflake 30d`, `lakefs 72h`), checked against the
/// engine's bounds and written back canonically.
pub fn retention(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = |m: String| FieldError::new(field, m);
    let mut parts = v.split_whitespace();
    let engine = parts.next().unwrap_or_default().to_lowercase();
    let Some(&(name, default, min, max)) = ENGINES.iter().find(|e| e.0 == engine) else {
        return Err(bad(format!(
            "`{engine}` is not a storage engine: use snowflake, bigquery, delta, iceberg, lakefs or custom, e.g. `snowflake 30d`"
        )));
    };
    let hours = match parts.next() {
        None => {
            default.ok_or_else(|| bad(format!("{name} needs its period, e.g. `{name} 72h`")))?
        }
        Some(p) => period_hours(p).ok_or_else(|| {
            bad(format!(
                "`{p}` is not a period: write days or hours, e.g. `30d` or `72h`"
            ))
        })?,
    };
    if parts.next().is_some() {
        return Err(bad(
            "write the engine and one period, e.g. `snowflake 30d`".into()
        ));
    }
    if !(min..=max).contains(&hours) {
        return Err(bad(format!(
            "{name} keeps earlier versions between {} and {}",
            show_hours(min),
            show_hours(max)
        )));
    }
    Ok(Some(format!("{name} {}", show_hours(hours))))
}

/// The engine and hours of a canonical retention (as `retention` writes it).
pub fn retention_parts(canonical: &str) -> Option<(String, i64)> {
    let (engine, period) = canonical.split_once(' ')?;
    Some((engine.to_string(), period_hours(period)?))
}

fn period_hours(p: &str) -> Option<i64> {
    let p = p.to_lowercase();
    let (n, per) = match p.strip_suffix('d') {
        Some(n) => (n, 24),
        None => (p.strip_suffix('h')?, 1),
    };
    n.parse::<i64>().ok().filter(|n| *n > 0).map(|n| n * per)
}

fn show_hours(h: i64) -> String {
    if h % 24 == 0 {
        format!("{}d", h / 24)
    } else {
        format!("{h}h")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_follows_its_engine_defaults_and_bounds() {
        let r = |v: &str| retention("retention", Some(v));
        assert_eq!(r("Snowflake").unwrap().as_deref(), Some("snowflake 1d"));
        assert_eq!(
            r("snowflake 30d").unwrap().as_deref(),
            Some("snowflake 30d")
        );
        assert_eq!(r("bigquery").unwrap().as_deref(), Some("bigquery 7d"));
        assert_eq!(r("lakefs 36h").unwrap().as_deref(), Some("lakefs 36h"));
        assert!(r("snowflake 91d")
            .unwrap_err()
            .message
            .contains("between 1d and 90d"));
        assert!(r("bigquery 1d")
            .unwrap_err()
            .message
            .contains("between 2d and 7d"));
        assert!(r("lakefs")
            .unwrap_err()
            .message
            .contains("needs its period"));
        assert!(r("oracle 2d")
            .unwrap_err()
            .message
            .contains("not a storage engine"));
        assert!(r("delta soon")
            .unwrap_err()
            .message
            .contains("not a period"));
        assert_eq!(
            retention_parts("snowflake 30d"),
            Some(("snowflake".into(), 720))
        );
    }
}
