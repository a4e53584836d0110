//! Reading documents through Automerge's `hydrate`: one pass materialises the
//! whole document, several times cheaper than a `get` per field (measured:
//! ~140 µs against ~620 µs for a ten-entry conversation).

use automerge::hydrate::{List, Map, Value};
use automerge::{AutoCommit, ReadDoc, ScalarValue, ROOT};

use crate::{CoreError, Result};

/// A map of a hydrated document.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a>(&'a Map);

/// Materialises the whole document.
pub(crate) fn hydrate(doc: &AutoCommit) -> Result<Value> {
    Ok(doc.hydrate(ROOT, None)?)
}

impl<'a> Node<'a> {
    /// The root map of a hydrated document.
    pub(crate) fn root(v: &'a Value) -> Result<Self> {
        match v {
            Value::Map(m) => Ok(Node(m)),
            _ => Err(CoreError::MissingField("root")),
        }
    }

    fn value(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key)
    }

    /// A string (scalar or Text) field.
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        self.value(key).and_then(value_str)
    }

    /// A required string field.
    pub(crate) fn required_str(&self, key: &'static str) -> Result<String> {
        self.str(key).ok_or(CoreError::MissingField(key))
    }

    /// An integer field.
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        match self.value(key)? {
            Value::Scalar(ScalarValue::Int(i)) => Some(*i),
            Value::Scalar(ScalarValue::Uint(u)) => i64::try_from(*u).ok(),
            Value::Scalar(ScalarValue::Timestamp(t)) => Some(*t),
            _ => None,
        }
    }

    /// A boolean field.
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        match self.value(key)? {
            Value::Scalar(ScalarValue::Boolean(b)) => Some(*b),
            _ => None,
        }
    }

    /// A nested map.
    pub(crate) fn map(&self, key: &str) -> Option<Node<'a>> {
        match self.value(key)? {
            Value::Map(m) => Some(Node(m)),
            _ => None,
        }
    }

    /// A required nested map.
    pub(crate) fn required_map(&self, key: &'static str) -> Result<Node<'a>> {
        self.map(key).ok_or(CoreError::MissingField(key))
    }

    /// A nested list.
    pub(crate) fn list(&self, key: &str) -> Option<&'a List> {
        match self.value(key)? {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The keys, sorted.
    pub(crate) fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.0.iter().map(|(k, _)| k.clone()).collect();
        keys.sort();
        keys
    }

    /// Whether concurrent writes left several values under `key`.
    pub(crate) fn conflicted(&self, key: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && v.conflict)
    }
}

/// The maps of a list, skipping anything else.
pub(crate) fn maps(list: &List) -> impl Iterator<Item = Node<'_>> {
    list.iter().filter_map(|item| match &item.value {
        Value::Map(m) => Some(Node(m)),
        _ => None,
    })
}

/// The strings of a list, skipping anything else.
pub(crate) fn strs(list: &List) -> Vec<String> {
    list.iter()
        .filter_map(|item| value_str(&item.value))
        .collect()
}

/// The integers of a list, skipping anything else.
pub(crate) fn ints(list: &List) -> Vec<i64> {
    list.iter()
        .filter_map(|item| match &item.value {
            Value::Scalar(ScalarValue::Int(i)) => Some(*i),
            Value::Scalar(ScalarValue::Uint(u)) => i64::try_from(*u).ok(),
            _ => None,
        })
        .collect()
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::Scalar(ScalarValue::Str(s)) => Some(s.to_string()),
        Value::Text(t) => Some(String::from(t)),
        _ => None,
    }
}
