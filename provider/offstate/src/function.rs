//! `provider::offstate::ref(secret_id[, json_key])`: the reference string of
//! DESIGN.md (`ref+awssecrets://NAME#/json/key`), as vals and helmfile read it.
//! `json_key` is Terraform's way of an optional argument, a variadic
//! parameter: at most one is accepted, and a null one means "no key".

use async_trait::async_trait;
use offstate_common::SecretRef;
use offstate_framework::datasource::{Function, FunctionDefinition, FunctionError, Parameter};
use offstate_framework::{Type, Value};

pub struct RefFunction;

#[async_trait]
impl Function for RefFunction {
    fn name(&self) -> &'static str {
        "ref"
    }

    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition {
            parameters: vec![Parameter {
                name: "secret_id".into(),
                ty: Type::String,
                description: "Name or ARN of the secret.".into(),
                allow_null: false,
            }],
            variadic_parameter: Some(Parameter {
                name: "json_key".into(),
                ty: Type::String,
                description: "Optional: a key of a JSON secret (`a/b` for nested keys). Omit it, or pass null, for the whole value.".into(),
                allow_null: true,
            }),
            return_type: Type::String,
            summary: "A ref+awssecrets:// reference to a secret".into(),
            description: "Builds the reference string that vals, helmfile and state-scrubber resolve: `ref+awssecrets://NAME[#/json/key]`. It names the secret; it never reads it.".into(),
        }
    }

    async fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let id = args.first().and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() {
            return Err(FunctionError {
                text: "secret_id must not be empty".into(),
                argument: Some(0),
            });
        }
        if args.len() > 2 {
            return Err(FunctionError {
                text: format!(
                    "ref takes at most one json_key, got {}; write nested keys as one `a/b` path",
                    args.len() - 1
                ),
                argument: Some(2),
            });
        }
        let mut r = SecretRef::new(id);
        if let Some(key) = args.get(1).and_then(Value::as_str) {
            if key.is_empty() {
                return Err(FunctionError {
                    text: "json_key must not be empty (omit it for the whole value)".into(),
                    argument: Some(1),
                });
            }
            // `/password` (a JSON Pointer habit), `a//b` or `a/`: a key path with an empty key.
            // vals finds no such key, and SecretRef::parse (state-scrubber's reader) refuses
            // `#//password`, so the string would name nothing; say so here, not at its reader.
            if key.split('/').any(str::is_empty) {
                return Err(FunctionError {
                    text: "json_key has an empty key: write nested keys as `a/b`, with no leading, trailing or doubled `/`".into(),
                    argument: Some(1),
                });
            }
            r = r.with_json_pointer(key.split('/'));
        }
        Ok(Value::String(r.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn builds_references() {
        let f = RefFunction;
        let v = f
            .call(&[Value::string("prod/db"), Value::string("password")])
            .await
            .unwrap();
        assert_eq!(v.as_str(), Some("ref+awssecrets://prod/db#/password"));
        let v = f
            .call(&[Value::string("prod/db"), Value::Null])
            .await
            .unwrap();
        assert_eq!(v.as_str(), Some("ref+awssecrets://prod/db"));
        let v = f.call(&[Value::string("prod/db")]).await.unwrap();
        assert_eq!(v.as_str(), Some("ref+awssecrets://prod/db"));
        let v = f
            .call(&[Value::string("prod/db"), Value::string("a/b")])
            .await
            .unwrap();
        assert_eq!(v.as_str(), Some("ref+awssecrets://prod/db#/a/b"));
        let e = f
            .call(&[
                Value::string("prod/db"),
                Value::string("a"),
                Value::string("b"),
            ])
            .await
            .unwrap_err();
        assert_eq!(e.argument, Some(2));
        assert!(e.text.contains("at most one json_key"), "{}", e.text);
        assert_eq!(
            f.call(&[Value::string("prod/db"), Value::string("")])
                .await
                .unwrap_err()
                .argument,
            Some(1)
        );
        for key in ["/password", "a//b", "a/", "/"] {
            let e = f
                .call(&[Value::string("prod/db"), Value::string(key)])
                .await
                .unwrap_err();
            assert_eq!(e.argument, Some(1), "{key}");
            assert!(e.text.contains("empty key"), "{}", e.text);
        }
        assert_eq!(
            f.call(&[Value::string("")]).await.unwrap_err().argument,
            Some(0)
        );
        // Every reference ref() builds is one its readers take back.
        for key in ["a", "a/b", "x y/z", "#", "é/1"] {
            let v = f
                .call(&[Value::string("prod/db c"), Value::string(key)])
                .await
                .unwrap();
            let back = SecretRef::parse(v.as_str().unwrap()).unwrap();
            assert_eq!(back.to_string(), v.as_str().unwrap());
        }
        assert_eq!(
            f.call(&[Value::string(""), Value::Null])
                .await
                .unwrap_err()
                .argument,
            Some(0)
        );
    }
}
