//! JSON bodies for structured targets: a spec example with edits the fuzzer chooses (a field
//! set to another value or type, removed, added), or raw bytes.
//!
//! Edits reach the typed fields (amounts, times, enums, nested objects) with bodies that
//! still parse as JSON, which random bytes rarely do.

use arbitrary::Arbitrary;
use serde_json::{Map, Value};

/// A request or response body.
#[derive(Arbitrary, Debug)]
pub enum Body {
    /// One of the target's examples (index modulo their number) with edits applied in order.
    Example(u8, Vec<Edit>),
    /// Any bytes.
    Raw(Vec<u8>),
}

/// One edit of a JSON document.
#[derive(Arbitrary, Debug)]
pub struct Edit {
    /// Where: at each level, the child with this index (modulo the number of children).
    pub path: Vec<u8>,
    /// What.
    pub op: Op,
}

/// What an edit does at the chosen child.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Replace the child.
    Set(Scalar),
    /// Remove the child.
    Remove,
    /// Add a field (to the object reached).
    Insert(String, Scalar),
    /// Replace the child with an array or object of scalars.
    Nest(bool, Vec<Scalar>),
}

/// A JSON value without nesting.
#[derive(Arbitrary, Debug, Clone)]
pub enum Scalar {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (non-finite ones become `null`).
    Float(f64),
    /// A string.
    Str(String),
    /// A string of that many digits (amount values near and past the integer limits).
    Digits(u8),
}

impl Scalar {
    fn to_value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Str(s) => Value::String(s.clone()),
            Scalar::Digits(n) => Value::String("9".repeat(usize::from(*n % 40))),
        }
    }
}

impl Body {
    /// The body bytes: the chosen example (from `examples`) edited, or the raw bytes.
    pub fn bytes(&self, examples: &[&str]) -> Vec<u8> {
        match self {
            Body::Raw(bytes) => bytes.clone(),
            Body::Example(which, edits) => {
                let Some(text) = examples.get(usize::from(*which) % examples.len().max(1)) else {
                    return Vec::new();
                };
                let Ok(mut doc) = serde_json::from_str::<Value>(text) else {
                    return text.as_bytes().to_vec();
                };
                for edit in edits {
                    apply(&mut doc, &edit.path, &edit.op);
                }
                serde_json::to_vec(&doc).unwrap_or_default()
            }
        }
    }
}

fn apply(node: &mut Value, path: &[u8], op: &Op) {
    if let (Op::Insert(key, value), Value::Object(map)) = (op, &mut *node)
        && path.is_empty()
    {
        map.insert(key.clone(), value.to_value());
        return;
    }
    let Some((&first, rest)) = path.split_first() else {
        replace(node, op);
        return;
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let Some(key) = map.keys().nth(usize::from(first) % map.len()).cloned() else {
                return;
            };
            if rest.is_empty() && matches!(op, Op::Remove) {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                apply(child, rest, op);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = usize::from(first) % items.len();
            if rest.is_empty() && matches!(op, Op::Remove) {
                items.remove(index);
            } else if let Some(child) = items.get_mut(index) {
                apply(child, rest, op);
            }
        }
        _ => replace(node, op),
    }
}

fn replace(node: &mut Value, op: &Op) {
    match op {
        Op::Set(value) => *node = value.to_value(),
        Op::Remove => *node = Value::Null,
        Op::Insert(key, value) => {
            let mut map = Map::new();
            map.insert(key.clone(), value.to_value());
            *node = Value::Object(map);
        }
        Op::Nest(true, items) => *node = Value::Array(items.iter().map(Scalar::to_value).collect()),
        Op::Nest(false, items) => {
            let map = items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("k{i}"), v.to_value()))
                .collect();
            *node = Value::Object(map);
        }
    }
}
