//! Small checks every form and API payload shares; each failure names its field.

use crate::error::FieldError;

/// Trimmed text of at most `max` characters, without control characters (newlines are allowed
/// where `multiline`). Empty is an error only when `required`.
pub fn text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
    multiline: bool,
) -> Result<String, FieldError> {
    let value = value.trim();
    let n = value.chars().count();
    if required && n == 0 {
        return Err(FieldError::new(field, "is required"));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters (this one has {n})"),
        ));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(bad) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

/// `None` for blank input, else the checked text.
pub fn optional(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldError> {
    let value = text(field, value, max, false, false)?;
    Ok((!value.is_empty()).then_some(value))
}

/// An e-mail address: `name@domain`, at most 254 characters, without spaces. Delivery proves
/// the rest.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let value = text(field, value, 254, true, false)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        }
        None => false,
    };
    if valid {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            "must be an e-mail address such as ana@example.com",
        ))
    }
}

/// An absolute http(s) URL.
pub fn url(field: &str, value: &str) -> Result<String, FieldError> {
    let value = text(field, value, 2000, true, false)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !value.contains(' ') => {
            Ok(value)
        }
        _ => Err(FieldError::new(
            field,
            "must be a full web address starting with https:// or http://",
        )),
    }
}

/// Collects the errors of several checks; `Ok` only when there were none.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// The value of a check, recording its error (and returning the default) when it failed.
    pub fn check<T: Default>(&mut self, result: Result<T, FieldError>) -> T {
        result.unwrap_or_else(|e| {
            self.0.push(e);
            T::default()
        })
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn finish<T>(self, value: T) -> Result<T, crate::error::AppError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(crate::error::AppError::Validation { fields: self.0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("f", "  a ", 3, true, false).unwrap(), "a");
        assert_eq!(
            text("f", " ", 3, true, false).unwrap_err().message,
            "is required"
        );
        assert!(text("f", "abcd", 3, false, false).is_err());
        assert!(text("f", "a\nb", 9, false, false).is_err());
        assert!(text("f", "a\nb", 9, false, true).is_ok());
    }

    #[test]
    fn urls_must_be_absolute_web_addresses() {
        assert!(url("u", "https://github.com/acme/etl/pull/42").is_ok());
        assert!(url("u", "github.com/acme").is_err());
        assert!(url("u", "javascript:alert(1)").is_err());
        assert!(url("u", "https://").is_err());
    }
}
