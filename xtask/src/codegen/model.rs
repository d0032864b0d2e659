//! The description format (spec/api/FORMAT.md) as serde types, and its loading.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiDef {
    pub doc: String,
    pub path: String,
    pub direction: DirectionDef,
    pub request: String,
    pub response: String,
    pub result_codes: String,
    pub idempotency: Vec<String>,
    pub idempotency_doc: Option<String>,
    pub features: Option<Vec<String>>,
    pub uncertain: Option<String>,
    pub evidence: Option<String>,
    /// The hand-written product rules of the request (`alipayplus-types/src/rules.rs`): the
    /// function `validate()` calls after the generated checks.
    pub rules: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DirectionDef {
    Outbound,
    Inbound,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDef {
    pub doc: String,
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub at_least_one_of: Vec<Vec<String>>,
    #[serde(default)]
    pub required_if: Vec<RequiredIf>,
    pub features: Option<Vec<String>>,
    pub uncertain: Option<String>,
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Req {
    Required,
    Optional,
    Conditional,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredWhen {
    pub field: String,
    pub values: Vec<String>,
}

/// Object-level rule: the field at `path` (dotted JSON names) is required when the scalar at
/// `when` (dotted) has one of `values`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredIf {
    pub path: String,
    pub when: String,
    pub values: Vec<String>,
    pub condition: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub req: Req,
    pub condition: Option<String>,
    pub required_when: Option<RequiredWhen>,
    pub max_len: Option<usize>,
    pub min: Option<i64>,
    pub min_items: Option<usize>,
    pub currency: Option<String>,
    pub max_items: Option<usize>,
    pub format: Option<String>,
    pub doc: String,
    pub uncertain: Option<String>,
    /// The field's own rules (requiredness, lengths, ...) are uncertain: why (FORMAT.md §2.3).
    pub uncertain_rule: Option<String>,
    pub evidence: Option<String>,
    pub rust: Option<String>,
}

impl FieldDef {
    /// Emitted as a plain (non-`Option`) field: required, and the requiredness is certain. A
    /// required field with `uncertain_rule` is an `Option` whose absence `validate()` reports.
    pub fn is_plain(&self) -> bool {
        self.req == Req::Required && self.uncertain_rule.is_none()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    pub doc: String,
    pub values: Vec<EnumValue>,
    pub features: Option<Vec<String>>,
    pub uncertain: Option<String>,
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    pub value: String,
    pub doc: String,
    pub uncertain: Option<String>,
    pub rust: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodesDef {
    pub doc: String,
    #[serde(default)]
    pub include: Vec<String>,
    pub codes: Vec<CodeDef>,
    pub features: Option<Vec<String>>,
    pub uncertain: Option<String>,
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct CodeDef {
    pub code: String,
    pub status: Option<String>,
    pub meaning: String,
    pub action: String,
    pub action_doc: Option<String>,
    /// `"subject"` or `"request"` (absent: `"request"`); see FORMAT.md §2.5.
    pub about: Option<String>,
    pub uncertain: Option<String>,
    pub evidence: Option<String>,
    pub rust: Option<String>,
}

/// One parsed description file, items in file order.
pub struct SpecFile {
    /// File stem, e.g. `cashier`; becomes the module name.
    pub stem: String,
    pub doc: String,
    pub features: Vec<String>,
    pub apis: Vec<(String, ApiDef)>,
    pub objects: Vec<(String, ObjectDef)>,
    pub enums: Vec<(String, EnumDef)>,
    pub codes: Vec<(String, CodesDef)>,
}

fn items<T: serde::de::DeserializeOwned>(
    file: &str,
    kind: &str,
    table: Option<toml::Value>,
) -> Result<Vec<(String, T)>, String> {
    let Some(value) = table else {
        return Ok(Vec::new());
    };
    let toml::Value::Table(table) = value else {
        return Err(format!("{file}: `{kind}` must be a table of named {kind}s"));
    };
    table
        .into_iter()
        .map(|(name, v)| {
            v.try_into::<T>()
                .map(|def| (name.clone(), def))
                .map_err(|e| format!("{file}: {kind} `{name}`: {}", e.message()))
        })
        .collect()
}

pub fn load(path: &Path) -> Result<SpecFile, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))?;
    let mut table: toml::Table = text.parse().map_err(|e| format!("{file}: {e}"))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| format!("{file}: bad file name"))?
        .to_string();
    if !stem
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "{file}: file stem must be a lower-case module name"
        ));
    }
    let doc = match table.remove("doc") {
        Some(toml::Value::String(s)) => s,
        _ => return Err(format!("{file}: missing top-level `doc = \"...\"`")),
    };
    let features = match table.remove("features") {
        Some(v) => v
            .try_into::<Vec<String>>()
            .map_err(|e| format!("{file}: `features`: {}", e.message()))?,
        None => return Err(format!("{file}: missing top-level `features = [...]`")),
    };
    let apis = items(&file, "api", table.remove("api"))?;
    let objects = items(&file, "object", table.remove("object"))?;
    let enums = items(&file, "enum", table.remove("enum"))?;
    let codes = items(&file, "result_codes", table.remove("result_codes"))?;
    if let Some(key) = table.keys().next() {
        return Err(format!(
            "{file}: unknown top-level key `{key}` (expected doc, features, api, object, enum, result_codes)"
        ));
    }
    Ok(SpecFile {
        stem,
        doc,
        features,
        apis,
        objects,
        enums,
        codes,
    })
}
