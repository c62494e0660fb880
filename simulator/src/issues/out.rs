//! A JSON tree that can borrow: generated issues mostly consist of objects the site already
//! holds (users, statuses, versions…), so they are serialised by reference instead of being
//! cloned into a `serde_json::Value` first. Objects keep insertion order, like Jira's.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

pub(crate) enum Out<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Text(&'a str),
    Ref(&'a Value),
    Own(Value),
    Obj(Vec<(&'a str, Out<'a>)>),
    Arr(Vec<Out<'a>>),
}

impl<'a> Out<'a> {
    pub(crate) fn opt(value: Option<&'a Value>) -> Out<'a> {
        value.map_or(Out::Null, Out::Ref)
    }

    pub(crate) fn count(n: usize) -> Out<'a> {
        Out::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// For the few places that must inspect or edit the result.
    pub(crate) fn to_value(&self) -> Value {
        // serialising into a Value cannot fail: every key is a string
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Null => serializer.serialize_unit(),
            Out::Bool(b) => serializer.serialize_bool(*b),
            Out::Int(n) => serializer.serialize_i64(*n),
            Out::Float(f) => serializer.serialize_f64(*f),
            Out::Str(s) => serializer.serialize_str(s),
            Out::Text(s) => serializer.serialize_str(s),
            Out::Ref(v) => v.serialize(serializer),
            Out::Own(v) => v.serialize(serializer),
            Out::Obj(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Out::Arr(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_in_insertion_order() {
        let shared = json!({"b": 1, "a": [true]});
        let out = Out::Obj(vec![
            ("z", Out::Ref(&shared)),
            (
                "y",
                Out::Arr(vec![
                    Out::Null,
                    Out::Int(2),
                    Out::Float(5.0),
                    Out::Text("t"),
                ]),
            ),
        ]);
        let text = serde_json::to_string(&out).unwrap_or_default();
        assert_eq!(text, r#"{"z":{"a":[true],"b":1},"y":[null,2,5.0,"t"]}"#);
        assert_eq!(out.to_value()["y"][1], 2);
    }
}
