//! Rust code emission. Output is deterministic: files in name order, items in file order.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::model::{ApiDef, CodeDef, DirectionDef, EnumDef, FieldDef, ObjectDef};
use super::{ACTIONS, Kind, Req, Spec, SpecFile, Ty, features_of};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "unsafe", "use", "where", "while", "yield",
];

/// `merchantMCC` → `merchant_mcc`, `clientIp` → `client_ip`, `type` → `type_`.
pub fn field_name(json: &str, rust: Option<&str>) -> String {
    if let Some(r) = rust {
        return r.to_string();
    }
    let chars: Vec<char> = json.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some('_') => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// `MINI_APP` → `MiniApp`, `IOS` → `Ios`, `PaymentCode` → `PaymentCode`.
pub fn variant_name(value: &str, rust: Option<&str>) -> Result<String, String> {
    if let Some(r) = rust {
        return Ok(r.to_string());
    }
    let mut out = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mixed = part.chars().any(|c| c.is_ascii_lowercase())
            && part.chars().any(|c| c.is_ascii_uppercase());
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if mixed {
                out.extend(chars);
            } else {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            }
        }
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        Ok(out)
    } else {
        Err(format!(
            "cannot derive a Rust variant name from `{value}`; set `rust`"
        ))
    }
}

fn doc(out: &mut String, text: &str) {
    for line in text.trim().lines() {
        let line = line.trim();
        if line.is_empty() {
            out.push_str("///\n");
        } else {
            let _ = writeln!(out, "/// {line}");
        }
    }
}

fn notes(out: &mut String, uncertain: &Option<String>, evidence: &Option<String>) {
    if let Some(u) = uncertain {
        out.push_str("///\n");
        doc(out, &format!("**Uncertain:** {u}"));
    }
    if let Some(e) = evidence {
        out.push_str("///\n");
        doc(out, &format!("Evidence: {e}."));
    }
}

fn cfg(features: &[String]) -> String {
    if features.is_empty() {
        return String::new();
    }
    let list: Vec<String> = features
        .iter()
        .map(|f| format!("feature = \"{f}\""))
        .collect();
    match list.as_slice() {
        [one] => format!("#[cfg({one})]\n"),
        _ => format!("#[cfg(any({}))]\n", list.join(", ")),
    }
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn rust_ty(ty: &Ty) -> String {
    match ty {
        Ty::Str => "String".into(),
        Ty::Secret => "Secret".into(),
        Ty::Int => "StrInt".into(),
        Ty::Bool => "StrBool".into(),
        Ty::Decimal => "StrDecimal".into(),
        Ty::DateTime => "DateTime".into(),
        Ty::Currency => "Currency".into(),
        Ty::Amount => "Amount".into(),
        Ty::Json => "serde_json::Value".into(),
        Ty::Result(c) => format!("ApiResult<{c}>"),
        Ty::Array(t) => format!("Vec<{}>", rust_ty(t)),
        Ty::Named(n) => n.clone(),
    }
}

/// Whether `Check::check` of this type can report anything (skip the call otherwise).
fn checks_something(spec: &Spec, ty: &Ty, f: &FieldDef) -> bool {
    match ty {
        Ty::Str | Ty::Secret | Ty::Currency | Ty::Amount => true,
        Ty::Int => f.min.is_some(),
        Ty::Array(t) => checks_something(spec, t, f),
        Ty::Named(n) => spec.defs.get(n).is_some_and(|d| d.kind == Kind::Object),
        _ => false,
    }
}

fn field_header(f: &FieldDef) -> String {
    let mut parts = vec![match f.req {
        Req::Required => "required".to_string(),
        Req::Optional => "optional".to_string(),
        Req::Conditional => format!("conditional: {}", f.condition.as_deref().unwrap_or("")),
    }];
    if let Some(m) = f.max_len {
        parts.push(format!("at most {m} characters"));
    }
    if let Some(c) = &f.currency {
        parts.push(format!("currency {c} only"));
    }
    match (f.min_items, f.max_items) {
        (Some(lo), Some(hi)) => parts.push(format!("{lo} to {hi} elements")),
        (Some(lo), None) => parts.push(format!("at least {lo} elements")),
        (None, Some(hi)) => parts.push(format!("at most {hi} elements")),
        (None, None) => {}
    }
    if let Some(m) = f.min {
        parts.push(format!("minimum {m}"));
    } else if f.ty.trim() == "Amount" {
        parts.push("positive".into());
    }
    if f.format.as_deref() == Some("region") {
        parts.push("ISO 3166-1 alpha-2".into());
    }
    if let Some(why) = &f.uncertain_rule {
        parts.push(format!(
            "these rules are uncertain ({why}; `validate()` flags their problems `uncertain`)"
        ));
    }
    format!("`{}`: {}.", f.name, parts.join(", "))
}

fn emit_object(
    spec: &Spec,
    out: &mut String,
    name: &str,
    obj: &ObjectDef,
    features: &[String],
    api: Option<(&str, &ApiDef)>,
    response_of: Option<&str>,
) -> Result<(), String> {
    let cfg = cfg(features);
    doc(out, &obj.doc);
    if let Some((api_name, api)) = api {
        out.push_str("///\n");
        doc(out, &api.doc);
        let dir = match api.direction {
            DirectionDef::Outbound => "ACQP → Alipay+",
            DirectionDef::Inbound => "Alipay+ → ACQP",
        };
        out.push_str("///\n");
        doc(
            out,
            &format!(
                "Request of the `{api_name}` API: `POST {}` ({dir}); answered with [`{}`].",
                api.path, api.response
            ),
        );
        let idem = if api.idempotency.is_empty() {
            "none".to_string()
        } else {
            api.idempotency
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        out.push_str("///\n");
        doc(
            out,
            &format!(
                "Idempotency key: {idem}. {}",
                api.idempotency_doc.as_deref().unwrap_or("")
            ),
        );
        notes(out, &api.uncertain, &api.evidence);
    }
    if let Some(api_name) = response_of {
        out.push_str("///\n");
        doc(out, &format!("Response of the `{api_name}` API."));
    }
    notes(out, &obj.uncertain, &obj.evidence);
    let default = spec.object_has_default(name, &mut Vec::new());
    out.push_str(&cfg);
    let _ = writeln!(
        out,
        "#[derive(Clone, Debug, PartialEq, Serialize, Deserialize{})]\npub struct {name} {{",
        if default { ", Default" } else { "" }
    );
    let mut required = Vec::new();
    let mut optional = Vec::new();
    for f in &obj.fields {
        let ty = Ty::parse(&f.ty)?;
        let rname = field_name(&f.name, f.rust.as_deref());
        doc(out, &field_header(f));
        out.push_str("///\n");
        doc(out, &f.doc);
        notes(out, &f.uncertain, &f.evidence);
        let base = rust_ty(&ty);
        if f.is_plain() {
            let _ = writeln!(
                out,
                "#[serde(rename = {})]\npub {rname}: {base},",
                lit(&f.name)
            );
            required.push((rname, base, false));
        } else if f.req == Req::Required {
            // Uncertain requiredness: parsed when absent, reported by validate().
            let _ = writeln!(
                out,
                "#[serde(rename = {}, default, skip_serializing_if = \"Option::is_none\")]\npub {rname}: Option<{base}>,",
                lit(&f.name)
            );
            required.push((rname, base, true));
        } else {
            let _ = writeln!(
                out,
                "#[serde(rename = {}, default, skip_serializing_if = \"Option::is_none\")]\npub {rname}: Option<{base}>,",
                lit(&f.name)
            );
            optional.push(rname);
        }
    }
    out.push_str("/// Unknown JSON fields, kept as received and sent back unchanged.\n#[serde(flatten)]\npub extra: Extra,\n}\n\n");

    // Constructor and validate().
    out.push_str(&cfg);
    let _ = writeln!(out, "impl {name} {{");
    out.push_str("/// Builds the object from its required fields (in wire order); optional fields start as `None`.\n");
    if required.len() > 7 {
        out.push_str("#[allow(clippy::too_many_arguments)]\n");
    }
    let args: Vec<String> = required
        .iter()
        .map(|(n, t, _)| format!("{n}: {t}"))
        .collect();
    let _ = writeln!(out, "pub fn new({}) -> Self {{\n{name} {{", args.join(", "));
    for (n, _, wrapped) in &required {
        if *wrapped {
            let _ = writeln!(out, "{n}: Some({n}),");
        } else {
            let _ = writeln!(out, "{n},");
        }
    }
    for n in &optional {
        let _ = writeln!(out, "{n}: None,");
    }
    out.push_str("extra: Extra::new(),\n}\n}\n\n");
    out.push_str("/// Checks the object against the description (lengths, empty strings, amounts, currencies,\n/// conditions), reporting every problem at once.\n");
    let rules = api.and_then(|(_, a)| a.rules.as_deref());
    if let Some(f) = rules {
        let _ = writeln!(
            out,
            "/// Then the product rules of the API the description cannot express (hand-written:\n/// `rules::{f}`)."
        );
    }
    out.push_str("pub fn validate(&self) -> Result<(), ValidationErrors> {\nlet mut errs = ValidationErrors::new();\nCheck::check(self, &Path::ROOT, &Rules::NONE, &mut errs);\n");
    if let Some(f) = rules {
        let _ = writeln!(out, "crate::rules::{f}(self, &mut errs);");
    }
    out.push_str("errs.into_result()\n}\n}\n\n");

    // Check impl.
    out.push_str(&cfg);
    let mut body = String::new();
    for f in &obj.fields {
        let ty = Ty::parse(&f.ty)?;
        let rname = field_name(&f.name, f.rust.as_deref());
        // `own`: this field's rules (marked uncertain as a whole with `uncertain_rule`);
        // `nested`: the checks of a nested object, which its own description governs.
        let mut own = String::new();
        let mut nested = String::new();
        if f.req == Req::Required && !f.is_plain() {
            let _ = writeln!(
                own,
                "if self.{rname}.is_none() {{\nerrs.push(&path.field({}), Problem::Missing {{ condition: \"always\" }});\n}}",
                lit(&f.name)
            );
        }
        if checks_something(spec, &ty, f) {
            let rules = if f.max_len.is_none() && f.min.is_none() && f.format.is_none() {
                "Rules::NONE".to_string()
            } else {
                format!(
                    "Rules {{ max_len: {}, min: {}, region: {} }}",
                    f.max_len.map_or("None".into(), |m| format!("Some({m})")),
                    f.min.map_or("None".into(), |m| format!("Some({m})")),
                    f.format.as_deref() == Some("region")
                )
            };
            let is_object = matches!(ty.element(), Ty::Named(n) if spec.defs.get(n).is_some_and(|d| d.kind == Kind::Object));
            let _ = writeln!(
                if is_object { &mut nested } else { &mut own },
                "self.{rname}.check(&path.field({}), &{rules}, errs);",
                lit(&f.name)
            );
        }
        if f.min_items.is_some() || f.max_items.is_some() {
            let lo = f.min_items.unwrap_or(0);
            let mut out_of_range = Vec::new();
            match lo {
                0 => {}
                1 => out_of_range.push("list.is_empty()".to_string()),
                n => out_of_range.push(format!("list.len() < {n}")),
            }
            if let Some(m) = f.max_items {
                out_of_range.push(format!("list.len() > {m}"));
            }
            if !out_of_range.is_empty() {
                let (open, close) = if f.is_plain() {
                    (format!("{{\nlet list = &self.{rname};"), "}")
                } else {
                    (format!("if let Some(list) = &self.{rname} {{"), "}")
                };
                let _ = writeln!(
                    own,
                    "{open}\nif {} {{\nerrs.push(&path.field({}), Problem::ItemCount {{ min: {lo}, max: {}, actual: list.len() }});\n}}\n{close}",
                    out_of_range.join(" || "),
                    lit(&f.name),
                    f.max_items.map_or("None".into(), |m| format!("Some({m})")),
                );
            }
        }
        if let Some(c) = &f.currency {
            let amount = if f.is_plain() {
                format!("Some(&self.{rname})")
            } else {
                format!("self.{rname}.as_ref()")
            };
            let _ = writeln!(
                own,
                "if let Some(a) = {amount}.filter(|a| a.currency.as_str() != {c}) {{\nerrs.push(&path.field({}).field(\"currency\"), Problem::WrongCurrency {{ expected: {c}, actual: a.currency }});\n}}",
                lit(&f.name),
                c = lit(c),
            );
        }
        if let Some(rw) = &f.required_when {
            let sib = obj
                .fields
                .iter()
                .find(|s| s.name == rw.field)
                .ok_or("required_when")?;
            let sname = field_name(&sib.name, sib.rust.as_deref());
            let pats: Vec<String> = rw.values.iter().map(|v| lit(v)).collect();
            let _ = writeln!(
                own,
                "if self.{rname}.is_none() && matches!(self.{sname}.wire_str(), Some({})) {{\nerrs.push(&path.field({}), Problem::Missing {{ condition: {} }});\n}}",
                pats.join(" | "),
                lit(&f.name),
                lit(f.condition.as_deref().unwrap_or(""))
            );
        }
        if f.uncertain_rule.is_some() && !own.is_empty() {
            let _ = write!(
                body,
                "{{\nlet mark = errs.len();\n{own}errs.mark_uncertain_from(mark);\n}}\n"
            );
        } else {
            body.push_str(&own);
        }
        body.push_str(&nested);
    }
    for rule in &obj.required_if {
        let target = super::walk(spec, obj, &rule.path)?;
        let when = super::walk(spec, obj, &rule.when)?;
        let pats: Vec<String> = rule.values.iter().map(|v| lit(v)).collect();
        // An array `when` (e.g. productCodes) fires when it contains one of the values.
        let is_array = when
            .last()
            .is_some_and(|f| matches!(Ty::parse(&f.ty), Ok(Ty::Array(_))));
        let fires = if is_array {
            format!(
                "{}.is_some_and(|v| v.iter().any(|x| matches!(x.wire_str(), Some({}))))",
                access(&when),
                pats.join(" | ")
            )
        } else {
            format!(
                "matches!({}.and_then(|v| v.wire_str()), Some({}))",
                access(&when),
                pats.join(" | ")
            )
        };
        let _ = writeln!(
            body,
            "if {}.is_none() && {fires} {{\nerrs.push(&{}, Problem::Missing {{ condition: {} }});\n}}",
            access(&target),
            path_expr(&rule.path),
            lit(&rule.condition)
        );
    }
    for group in &obj.at_least_one_of {
        let conds: Vec<String> = group
            .iter()
            .map(|n| {
                let f = obj.fields.iter().find(|f| &f.name == n);
                let r = f
                    .map(|f| field_name(&f.name, f.rust.as_deref()))
                    .unwrap_or_default();
                format!("self.{r}.is_none()")
            })
            .collect();
        let names: Vec<String> = group.iter().map(|n| lit(n)).collect();
        let _ = writeln!(
            body,
            "if {} {{\nerrs.push(path, Problem::MissingOneOf(&[{}]));\n}}",
            conds.join(" && "),
            names.join(", ")
        );
    }
    if body.is_empty() {
        let _ = writeln!(out, "impl Check for {name} {{}}\n");
    } else {
        let _ = writeln!(
            out,
            "impl Check for {name} {{\nfn check(&self, path: &Path<'_>, _rules: &Rules, errs: &mut ValidationErrors) {{\n{body}}}\n}}\n"
        );
    }
    Ok(())
}

/// An `Option<&T>` expression reaching the last field of `fields` from `self` (`None` when it or
/// an object on the way is absent).
fn access(fields: &[&FieldDef]) -> String {
    let mut e = "Some(self)".to_string();
    for f in fields {
        let r = field_name(&f.name, f.rust.as_deref());
        if f.is_plain() {
            e.push_str(&format!(".map(|x| &x.{r})"));
        } else {
            e.push_str(&format!(".and_then(|x| x.{r}.as_ref())"));
        }
    }
    e
}

/// `path.field("a").field("b")` for the dotted JSON path `a.b` (as nested bindings).
fn path_expr(dotted: &str) -> String {
    let mut e = "path".to_string();
    for seg in dotted.split('.') {
        e = format!("{e}.field({})", lit(seg));
    }
    e
}

struct Variant<'a> {
    name: String,
    value: &'a str,
    doc: String,
}

fn emit_open_enum(out: &mut String, name: &str, cfg: &str, variants: &[Variant<'_>], what: &str) {
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "#[derive(Clone, Debug, PartialEq, Eq, Hash)]\npub enum {name} {{"
    );
    for v in variants {
        doc(out, &v.doc);
        let _ = writeln!(out, "{},", v.name);
    }
    let _ = writeln!(
        out,
        "/// A {what} this version does not list, kept as received (sent back unchanged).\nUnrecognized(String),\n}}\n"
    );
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "impl {name} {{\n/// The wire value.\npub fn as_str(&self) -> &str {{\nmatch self {{"
    );
    for v in variants {
        let _ = writeln!(out, "{name}::{} => {},", v.name, lit(v.value));
    }
    let _ = writeln!(
        out,
        "{name}::Unrecognized(s) => s,\n}}\n}}\n\n/// Whether the description lists this {what}.\npub fn is_known(&self) -> bool {{\n!matches!(self, {name}::Unrecognized(_))\n}}\n}}\n"
    );
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "impl From<&str> for {name} {{\nfn from(s: &str) -> Self {{\nmatch s {{"
    );
    for v in variants {
        let _ = writeln!(out, "{} => {name}::{},", lit(v.value), v.name);
    }
    let _ = writeln!(
        out,
        "other => {name}::Unrecognized(other.into()),\n}}\n}}\n}}\n"
    );
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "impl core::fmt::Display for {name} {{\nfn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {{\nf.write_str(self.as_str())\n}}\n}}\n"
    );
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "impl Serialize for {name} {{\nfn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{\ns.serialize_str(self.as_str())\n}}\n}}\n"
    );
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "impl<'de> Deserialize<'de> for {name} {{\nfn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{\ncrate::scalar::deserialize_open(d)\n}}\n}}\n"
    );
    out.push_str(cfg);
    let _ = writeln!(out, "impl Check for {name} {{}}\n");
    out.push_str(cfg);
    let _ = writeln!(
        out,
        "impl WireStr for {name} {{\nfn wire_str(&self) -> Option<&str> {{\nSome(self.as_str())\n}}\n}}\n"
    );
}

fn emit_enum(out: &mut String, name: &str, e: &EnumDef, features: &[String]) -> Result<(), String> {
    let cfg = cfg(features);
    doc(out, &e.doc);
    out.push_str("///\n/// Open set: an unlisted value parses as `Unrecognized` and is kept.\n");
    notes(out, &e.uncertain, &e.evidence);
    let mut variants = Vec::new();
    for v in &e.values {
        let mut d = format!("`{}`: {}", v.value, v.doc);
        if let Some(u) = &v.uncertain {
            d.push_str(&format!("\n\n**Uncertain:** {u}"));
        }
        variants.push(Variant {
            name: variant_name(&v.value, v.rust.as_deref())?,
            value: &v.value,
            doc: d,
        });
    }
    emit_open_enum(out, name, &cfg, &variants, "value");
    Ok(())
}

fn action_variant(word: &str) -> Result<&'static str, String> {
    ACTIONS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("unknown action `{word}`"))
}

fn emit_codes(
    spec: &Spec,
    out: &mut String,
    name: &str,
    features: &[String],
) -> Result<(), String> {
    let set = spec.codes(name).ok_or("codes")?;
    let codes: Vec<CodeDef> = spec.merged_codes(name)?;
    let cfg = cfg(features);
    doc(out, &set.doc);
    out.push_str("///\n/// Open set: an unlisted code parses as `Unrecognized` and is kept; act on `resultStatus` then\n/// (see [`ApiResult::action`]).\n");
    if !set.include.is_empty() {
        let incl: Vec<String> = set.include.iter().map(|i| format!("[`{i}`]")).collect();
        out.push_str("///\n");
        doc(out, &format!("Includes the codes of {}.", incl.join(", ")));
    }
    notes(out, &set.uncertain, &set.evidence);
    let mut variants = Vec::new();
    for c in &codes {
        let mut d = format!(
            "`{}` ({}): {}",
            c.code,
            c.status.as_deref().unwrap_or("status undocumented"),
            c.meaning
        );
        if let Some(a) = &c.action_doc {
            d.push_str(&format!("\n\nAction: {a}"));
        }
        if let Some(u) = &c.uncertain {
            d.push_str(&format!("\n\n**Uncertain:** {u}"));
        }
        if let Some(e) = &c.evidence {
            d.push_str(&format!("\n\nEvidence: {e}."));
        }
        variants.push(Variant {
            name: variant_name(&c.code, c.rust.as_deref())?,
            value: &c.code,
            doc: d,
        });
    }
    emit_open_enum(out, name, &cfg, &variants, "code");
    out.push_str(&cfg);
    let _ = writeln!(
        out,
        "impl ResultCode for {name} {{\nfn as_str(&self) -> &str {{\n{name}::as_str(self)\n}}\n\nfn is_known(&self) -> bool {{\n{name}::is_known(self)\n}}\n"
    );
    let _ = writeln!(
        out,
        "fn documented_status(&self) -> Option<ResultStatus> {{\nmatch self {{"
    );
    for (c, v) in codes.iter().zip(&variants) {
        let s = match c.status.as_deref() {
            Some("S") => "Some(ResultStatus::Success)",
            Some("F") => "Some(ResultStatus::Failure)",
            Some("U") => "Some(ResultStatus::Unknown)",
            _ => "None",
        };
        let _ = writeln!(out, "{name}::{} => {s},", v.name);
    }
    let _ = writeln!(
        out,
        "{name}::Unrecognized(_) => None,\n}}\n}}\n\nfn action(&self) -> Option<Action> {{\nmatch self {{"
    );
    for (c, v) in codes.iter().zip(&variants) {
        let _ = writeln!(
            out,
            "{name}::{} => Some(Action::{}),",
            v.name,
            action_variant(&c.action)?
        );
    }
    let _ = writeln!(
        out,
        "{name}::Unrecognized(_) => None,\n}}\n}}\n\nfn action_doc(&self) -> &'static str {{\nmatch self {{"
    );
    for (c, v) in codes.iter().zip(&variants) {
        match &c.action_doc {
            Some(a) => {
                let _ = writeln!(out, "{name}::{} => {},", v.name, lit(a));
            }
            None => {
                let _ = writeln!(
                    out,
                    "{name}::{} => Action::{}.doc(),",
                    v.name,
                    action_variant(&c.action)?
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "{name}::Unrecognized(_) => \"\",\n}}\n}}\n\nfn meaning(&self) -> &'static str {{\nmatch self {{"
    );
    for (c, v) in codes.iter().zip(&variants) {
        let _ = writeln!(out, "{name}::{} => {},", v.name, lit(&c.meaning));
    }
    let _ = writeln!(
        out,
        "{name}::Unrecognized(_) => \"\",\n}}\n}}\n\nfn about(&self) -> CodeAbout {{\nmatch self {{"
    );
    for (c, v) in codes.iter().zip(&variants) {
        // Unmarked codes say nothing about the subject (the careful reading).
        let about = match c.about.as_deref() {
            Some("subject") => "Subject",
            _ => "Request",
        };
        let _ = writeln!(out, "{name}::{} => CodeAbout::{about},", v.name);
    }
    let _ = writeln!(
        out,
        "{name}::Unrecognized(_) => CodeAbout::Request,\n}}\n}}\n}}\n"
    );
    Ok(())
}

fn emit_api(out: &mut String, name: &str, api: &ApiDef, features: &[String]) {
    let cfg = cfg(features);
    let dir = match api.direction {
        DirectionDef::Outbound => "Outbound",
        DirectionDef::Inbound => "Inbound",
    };
    let idem: Vec<String> = api.idempotency.iter().map(|k| lit(k)).collect();
    out.push_str(&cfg);
    let _ = writeln!(
        out,
        "impl Api for {req} {{\nconst NAME: &'static str = {n};\nconst PATH: &'static str = {p};\nconst DIRECTION: Direction = Direction::{dir};\nconst IDEMPOTENCY_FIELDS: &'static [&'static str] = &[{i}];\ntype Response = {resp};\n\nfn validate(&self) -> Result<(), ValidationErrors> {{\n{req}::validate(self)\n}}\n}}\n",
        req = api.request,
        n = lit(name),
        p = lit(&api.path),
        i = idem.join(", "),
        resp = api.response,
    );
    out.push_str(&cfg);
    let _ = writeln!(
        out,
        "impl HasResult for {resp} {{\ntype Code = {c};\n\nfn result(&self) -> &ApiResult<{c}> {{\n&self.result\n}}\n}}\n",
        resp = api.response,
        c = api.result_codes
    );
}

fn module_features(spec: &Spec, file: &SpecFile) -> Vec<String> {
    let mut all = BTreeSet::new();
    let lists = file
        .apis
        .iter()
        .map(|(_, a)| features_of(file, &a.features))
        .chain(
            file.objects
                .iter()
                .map(|(n, _)| spec.defs[n].features.clone()),
        )
        .chain(
            file.enums
                .iter()
                .map(|(n, _)| spec.defs[n].features.clone()),
        )
        .chain(
            file.codes
                .iter()
                .map(|(n, _)| spec.defs[n].features.clone()),
        );
    for l in lists {
        if l.is_empty() {
            return Vec::new();
        }
        all.extend(l);
    }
    all.into_iter().collect()
}

const HEADER: &str = "// @generated by `cargo xtask codegen` from spec/api/*.toml. DO NOT EDIT BY HAND:\n// change the description and run `cargo xtask codegen` (CI runs `cargo xtask codegen --check`).\n";

pub fn emit(spec: &Spec) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    let mut module = String::from(HEADER);
    module.push_str("\n//! Generated types, one module per description file (all re-exported at the crate root).\n\n");
    for file in &spec.files {
        let mf = module_features(spec, file);
        let _ = write!(
            module,
            "{}pub mod {};\n{}pub use {}::*;\n",
            cfg(&mf),
            file.stem,
            cfg(&mf),
            file.stem
        );

        let mut out = String::from(HEADER);
        let _ = writeln!(out, "\n//! From `spec/api/{}.toml`.\n//!", file.stem);
        for line in file.doc.trim().lines() {
            let _ = writeln!(out, "//! {}", line.trim());
        }
        out.push_str("\n#![allow(unused_imports)]\n\nuse alloc::string::String;\nuse alloc::vec::Vec;\n\nuse serde::{Deserialize, Serialize};\n\nuse super::*;\nuse crate::validate::{Check, Path, Problem, Rules, ValidationErrors, WireStr};\nuse crate::{Action, Amount, Api, ApiResult, CodeAbout, Currency, DateTime, Direction, Extra, HasResult, ResultCode, ResultStatus, Secret, StrBool, StrDecimal, StrInt};\n\n");
        for (name, c) in &file.codes {
            let _ = c;
            emit_codes(spec, &mut out, name, &spec.defs[name].features)?;
        }
        for (name, e) in &file.enums {
            emit_enum(&mut out, name, e, &spec.defs[name].features)?;
        }
        for (name, obj) in &file.objects {
            let api = spec
                .files
                .iter()
                .flat_map(|f| f.apis.iter())
                .find(|(_, a)| &a.request == name)
                .map(|(n, a)| (n.as_str(), a));
            let response_of = spec
                .files
                .iter()
                .flat_map(|f| f.apis.iter())
                .find(|(_, a)| &a.response == name)
                .map(|(n, _)| n.as_str());
            emit_object(
                spec,
                &mut out,
                name,
                obj,
                &spec.defs[name].features,
                api,
                response_of,
            )?;
        }
        for (name, api) in &file.apis {
            emit_api(&mut out, name, api, &features_of(file, &api.features));
        }
        files.push((format!("{}.rs", file.stem), out));
    }
    files.push(("mod.rs".to_string(), module));
    Ok(files)
}
