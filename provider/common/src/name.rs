//! Secrets Manager naming rules, checked before any API call so that bad input becomes a
//! diagnostic on the attribute rather than an AWS error.
//!
//! AWS (CreateSecret, `Name`): 1 to 512 characters, ASCII letters, digits and `/_+=.@-`.

use thiserror::Error;

/// The longest secret name AWS accepts.
pub const MAX_NAME_LEN: usize = 512;

/// Why a secret name is rejected. Names are not secret, but the variants still carry only
/// positions so the error can be shown for any input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvalidName {
    /// The name is empty.
    #[error("a secret name must not be empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("a secret name must be at most {MAX_NAME_LEN} characters (got {len})")]
    TooLong {
        /// The length found.
        len: usize,
    },
    /// A character outside ASCII letters, digits and `/_+=.@-`.
    #[error("a secret name may contain only ASCII letters, digits and /_+=.@- (bad character at offset {offset})")]
    BadCharacter {
        /// Byte offset of the first bad character.
        offset: usize,
    },
}

/// Whether `c` may appear in a secret name.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '+' | '=' | '.' | '@' | '-')
}

/// Checks a secret *name* (not an ARN) against the AWS rules.
pub fn validate_name(name: &str) -> Result<(), InvalidName> {
    if name.is_empty() {
        return Err(InvalidName::Empty);
    }
    if let Some((offset, _)) = name.char_indices().find(|(_, c)| !is_name_char(*c)) {
        return Err(InvalidName::BadCharacter { offset });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(InvalidName::TooLong { len: name.len() });
    }
    Ok(())
}

/// Whether a secret id is an ARN (`arn:PARTITION:secretsmanager:...`) rather than a name.
/// Names cannot contain `:`, so the prefix decides.
pub fn is_arn(secret_id: &str) -> bool {
    secret_id.starts_with("arn:")
}

/// Whether the name ends like `-AbCdEf` (a hyphen and six characters). AWS warns against such
/// names because a partial-ARN lookup may then match the wrong secret; callers may show this as a
/// warning.
pub fn looks_like_arn_suffix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 7 && b[b.len() - 7] == b'-' && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        let long = "a".repeat(MAX_NAME_LEN + 1);
        let max = "a".repeat(MAX_NAME_LEN);
        let cases: &[(&str, Result<(), InvalidName>)] = &[
            ("prod/payments/db-credentials", Ok(())),
            ("a_b+c=d.e@f-g", Ok(())),
            (&max, Ok(())),
            ("", Err(InvalidName::Empty)),
            (
                &long,
                Err(InvalidName::TooLong {
                    len: MAX_NAME_LEN + 1,
                }),
            ),
            ("has space", Err(InvalidName::BadCharacter { offset: 3 })),
            ("colon:x", Err(InvalidName::BadCharacter { offset: 5 })),
            ("é", Err(InvalidName::BadCharacter { offset: 0 })),
        ];
        for (name, want) in cases {
            assert_eq!(&validate_name(name), want, "{name:?}");
        }
    }

    #[test]
    fn arn_helpers() {
        assert!(is_arn(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
        ));
        assert!(!is_arn("prod/db"));
        assert!(looks_like_arn_suffix("db-AbCdEf"));
        assert!(!looks_like_arn_suffix("db-credentials"));
        assert!(!looks_like_arn_suffix("AbCdEf"));
    }
}
