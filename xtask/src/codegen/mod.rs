//! `cargo xtask codegen`: spec/api/*.toml → alipayplus-types/src/generated/*.rs.
//!
//! Loads every description file, checks it (duplicates, unknown references, feature rules,
//! API/response shape), then emits one Rust module per file, formatted by rustfmt.

mod emit;
mod model;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub use model::*;

pub const FEATURES: &[&str] = &["cashier", "autodebit", "registration", "dispute", "customs"];

/// Names the generated code defines by hand; the description may not reuse them.
const RESERVED: &[&str] = &[
    "Amount",
    "Currency",
    "MinorUnits",
    "ApiResult",
    "ResultStatus",
    "ResultCode",
    "DateTime",
    "StrInt",
    "StrBool",
    "StrDecimal",
    "Secret",
    "Action",
    "Direction",
    "Api",
    "HasResult",
    "ValidationErrors",
    "ValidationError",
    "Problem",
    "Extra",
    "Error",
    "Result",
    "Option",
    "String",
    "Vec",
];

const ACTIONS: &[(&str, &str)] = &[
    ("proceed", "Proceed"),
    ("inquire_later", "InquireLater"),
    ("retry_same_request", "RetrySameRequest"),
    ("fix_request_then_new_id", "FixRequestThenNewId"),
    ("report_failure", "ReportFailure"),
    ("fix_configuration", "FixConfiguration"),
    ("renew_authorization", "RenewAuthorization"),
    ("register_merchant", "RegisterMerchant"),
    ("contact_support", "ContactSupport"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Enum,
    Codes,
}

/// Where a name is defined and which features compile it (empty = always).
pub struct Def {
    pub kind: Kind,
    pub file: String,
    pub features: Vec<String>,
}

/// A parsed type expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Secret,
    Int,
    Bool,
    Decimal,
    DateTime,
    Currency,
    Amount,
    Json,
    Result(String),
    Array(Box<Ty>),
    Named(String),
}

impl Ty {
    pub fn parse(s: &str) -> Result<Ty, String> {
        let s = s.trim();
        Ok(match s {
            "string" => Ty::Str,
            "secret" => Ty::Secret,
            "int" => Ty::Int,
            "bool" => Ty::Bool,
            "decimal" => Ty::Decimal,
            "datetime" => Ty::DateTime,
            "currency" => Ty::Currency,
            "Amount" => Ty::Amount,
            "json" => Ty::Json,
            _ => {
                if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                    let inner = Ty::parse(inner)?;
                    if matches!(inner, Ty::Array(_)) {
                        return Err(format!("type `{s}`: arrays of arrays are not supported"));
                    }
                    Ty::Array(Box::new(inner))
                } else if let Some(code) =
                    s.strip_prefix("Result<").and_then(|r| r.strip_suffix('>'))
                {
                    Ty::Result(code.trim().to_string())
                } else if is_type_name(s) {
                    Ty::Named(s.to_string())
                } else {
                    return Err(format!(
                        "unknown type expression `{s}` (see spec/api/FORMAT.md §3)"
                    ));
                }
            }
        })
    }

    /// The element type of an array, or the type itself.
    pub fn element(&self) -> &Ty {
        match self {
            Ty::Array(t) => t,
            t => t,
        }
    }

    /// Names this type refers to.
    fn refs(&self) -> Vec<(&str, Option<Kind>)> {
        match self {
            Ty::Result(c) => vec![(c.as_str(), Some(Kind::Codes))],
            Ty::Named(n) => vec![(n.as_str(), None)],
            Ty::Array(t) => t.refs(),
            _ => vec![],
        }
    }
}

fn is_type_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// All description files plus the name index.
pub struct Spec {
    pub files: Vec<SpecFile>,
    pub defs: BTreeMap<String, Def>,
}

impl Spec {
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.files
            .iter()
            .flat_map(|f| f.objects.iter())
            .find(|(n, _)| n == name)
            .map(|(_, o)| o)
    }

    pub fn codes(&self, name: &str) -> Option<&CodesDef> {
        self.files
            .iter()
            .flat_map(|f| f.codes.iter())
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }

    /// Codes of a set with its includes merged (included first; own entries override).
    pub fn merged_codes(&self, name: &str) -> Result<Vec<CodeDef>, String> {
        self.merged_codes_inner(name, &mut Vec::new())
    }

    fn merged_codes_inner(
        &self,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Result<Vec<CodeDef>, String> {
        if stack.iter().any(|s| s == name) {
            return Err(format!(
                "result_codes include cycle: {} -> {name}",
                stack.join(" -> ")
            ));
        }
        let set = self
            .codes(name)
            .ok_or_else(|| format!("unknown result_codes `{name}`"))?;
        stack.push(name.to_string());
        let mut out: Vec<CodeDef> = Vec::new();
        for inc in &set.include {
            for c in self.merged_codes_inner(inc, stack)? {
                if !out.iter().any(|o| o.code == c.code) {
                    out.push(c);
                }
            }
        }
        stack.pop();
        for c in &set.codes {
            match out.iter_mut().find(|o| o.code == c.code) {
                Some(slot) => *slot = c.clone(),
                None => out.push(c.clone()),
            }
        }
        Ok(out)
    }

    /// Whether a value of this type has a `Default` (for deriving it on objects).
    pub fn has_default(&self, ty: &Ty, seen: &mut Vec<String>) -> bool {
        match ty {
            Ty::Str | Ty::Secret | Ty::Int | Ty::Bool | Ty::Json | Ty::Array(_) => true,
            Ty::Decimal | Ty::DateTime | Ty::Currency | Ty::Amount | Ty::Result(_) => false,
            Ty::Named(n) => match self.defs.get(n).map(|d| d.kind) {
                Some(Kind::Object) => self.object_has_default(n, seen),
                _ => false,
            },
        }
    }

    pub fn object_has_default(&self, name: &str, seen: &mut Vec<String>) -> bool {
        if seen.iter().any(|s| s == name) {
            return false;
        }
        let Some(obj) = self.object(name) else {
            return false;
        };
        seen.push(name.to_string());
        let ok = obj
            .fields
            .iter()
            .all(|f| !f.is_plain() || Ty::parse(&f.ty).is_ok_and(|t| self.has_default(&t, seen)));
        seen.pop();
        ok
    }
}

/// Item features: its own list, else the file's.
pub fn features_of(file: &SpecFile, own: &Option<Vec<String>>) -> Vec<String> {
    let mut f = own.clone().unwrap_or_else(|| file.features.clone());
    f.sort();
    f.dedup();
    f
}

pub fn load_all(dir: &Path) -> Result<Spec, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(format!(
            "{}: no *.toml API description files",
            dir.display()
        ));
    }
    let mut files = Vec::new();
    for p in &paths {
        files.push(load(p)?);
    }
    let mut defs: BTreeMap<String, Def> = BTreeMap::new();
    let mut errors = Vec::new();
    for file in &files {
        let fname = format!("spec/api/{}.toml", file.stem);
        for f in &file.features {
            if !FEATURES.contains(&f.as_str()) {
                errors.push(format!(
                    "{fname}: unknown feature `{f}` (allowed: {})",
                    FEATURES.join(", ")
                ));
            }
        }
        let named = file
            .objects
            .iter()
            .map(|(n, o)| (n, Kind::Object, &o.features))
            .chain(file.enums.iter().map(|(n, e)| (n, Kind::Enum, &e.features)))
            .chain(
                file.codes
                    .iter()
                    .map(|(n, c)| (n, Kind::Codes, &c.features)),
            );
        for (name, kind, feats) in named {
            if !is_type_name(name) {
                errors.push(format!(
                    "{fname}: `{name}` is not an UpperCamelCase type name"
                ));
            }
            if RESERVED.contains(&name.as_str()) {
                errors.push(format!(
                    "{fname}: `{name}` is a reserved (hand-written) name"
                ));
            }
            for f in feats.iter().flatten() {
                if !FEATURES.contains(&f.as_str()) {
                    errors.push(format!("{fname}: `{name}`: unknown feature `{f}`"));
                }
            }
            if let Some(prev) = defs.get(name) {
                errors.push(format!(
                    "duplicate name `{name}`: defined in spec/api/{}.toml and {fname}",
                    prev.file
                ));
                continue;
            }
            defs.insert(
                name.clone(),
                Def {
                    kind,
                    file: file.stem.clone(),
                    features: features_of(file, feats),
                },
            );
        }
    }
    let spec = Spec { files, defs };
    check(&spec, &mut errors);
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(format!(
            "{} problem(s) in spec/api:\n  {}",
            errors.len(),
            errors.join("\n  ")
        ))
    }
}

/// `user` (features `uf`) may reference `target` only if the target is always compiled or
/// compiled whenever the user is.
fn check_ref(
    spec: &Spec,
    at: &str,
    uf: &[String],
    target: &str,
    want: Option<Kind>,
    errors: &mut Vec<String>,
) {
    let Some(def) = spec.defs.get(target) else {
        errors.push(format!("{at}: unknown name `{target}`"));
        return;
    };
    if let Some(k) = want {
        if def.kind != k {
            errors.push(format!(
                "{at}: `{target}` is a {:?}, expected {k:?}",
                def.kind
            ));
        }
    } else if def.kind == Kind::Codes {
        errors.push(format!(
            "{at}: `{target}` is a result-code set; use `Result<{target}>`"
        ));
    }
    let ok =
        def.features.is_empty() || (!uf.is_empty() && uf.iter().all(|f| def.features.contains(f)));
    if !ok {
        errors.push(format!(
            "{at}: references `{target}` (features {:?} in spec/api/{}.toml) which is not compiled whenever this item is (features {uf:?}); move it to common.toml or widen its features",
            def.features, def.file
        ));
    }
}

fn check(spec: &Spec, errors: &mut Vec<String>) {
    let mut request_of: BTreeMap<&str, &str> = BTreeMap::new();
    let mut api_names = BTreeSet::new();
    for file in &spec.files {
        let fname = format!("spec/api/{}.toml", file.stem);
        for (name, obj) in &file.objects {
            let at = format!("{fname}: object `{name}`");
            let uf = features_of(file, &obj.features);
            check_object(spec, &at, &uf, obj, errors);
        }
        for (name, e) in &file.enums {
            let at = format!("{fname}: enum `{name}`");
            let mut seen = BTreeSet::new();
            let mut variants = BTreeSet::new();
            if e.values.is_empty() {
                errors.push(format!("{at}: no values"));
            }
            for v in &e.values {
                if !seen.insert(v.value.as_str()) {
                    errors.push(format!("{at}: duplicate value `{}`", v.value));
                }
                match emit::variant_name(&v.value, v.rust.as_deref()) {
                    Ok(var) if var == "Unrecognized" => errors.push(format!(
                        "{at}: value `{}` maps to the reserved variant `Unrecognized`; set `rust`",
                        v.value
                    )),
                    Ok(var) => {
                        if !variants.insert(var.clone()) {
                            errors.push(format!(
                                "{at}: two values map to variant `{var}`; set `rust`"
                            ));
                        }
                    }
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
        }
        for (name, c) in &file.codes {
            let at = format!("{fname}: result_codes `{name}`");
            let uf = features_of(file, &c.features);
            for inc in &c.include {
                check_ref(spec, &at, &uf, inc, Some(Kind::Codes), errors);
            }
            let mut seen = BTreeSet::new();
            for code in &c.codes {
                if !seen.insert(code.code.as_str()) {
                    errors.push(format!("{at}: duplicate code `{}`", code.code));
                }
                if let Some(s) = code
                    .status
                    .as_ref()
                    .filter(|s| !["S", "F", "U"].contains(&s.as_str()))
                {
                    errors.push(format!(
                        "{at}: code `{}`: status `{s}` is not S, F or U",
                        code.code
                    ));
                }
                if let Some(a) = code
                    .about
                    .as_ref()
                    .filter(|a| !["subject", "request"].contains(&a.as_str()))
                {
                    errors.push(format!(
                        "{at}: code `{}`: `about` must be \"subject\" or \"request\", not `{a}`",
                        code.code
                    ));
                }
                if !ACTIONS.iter().any(|(w, _)| *w == code.action) {
                    errors.push(format!(
                        "{at}: code `{}`: unknown action `{}` (allowed: {})",
                        code.code,
                        code.action,
                        ACTIONS
                            .iter()
                            .map(|(w, _)| *w)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            match spec.merged_codes(name) {
                Ok(all) => {
                    let mut variants = BTreeSet::new();
                    for code in &all {
                        match emit::variant_name(&code.code, code.rust.as_deref()) {
                            Ok(v) if v == "Unrecognized" => errors.push(format!("{at}: code `{}` maps to the reserved variant `Unrecognized`; set `rust`", code.code)),
                            Ok(v) => {
                                if !variants.insert(v.clone()) {
                                    errors.push(format!("{at}: two codes map to variant `{v}`; set `rust`"));
                                }
                            }
                            Err(e) => errors.push(format!("{at}: {e}")),
                        }
                    }
                }
                Err(e) => errors.push(format!("{at}: {e}")),
            }
        }
        for (name, api) in &file.apis {
            let at = format!("{fname}: api `{name}`");
            if !api_names.insert(name.clone()) {
                errors.push(format!("{at}: API defined twice"));
            }
            let uf = features_of(file, &api.features);
            if uf.is_empty() {
                errors.push(format!("{at}: an API needs at least one feature"));
            }
            for f in &uf {
                if !FEATURES.contains(&f.as_str()) {
                    errors.push(format!("{at}: unknown feature `{f}`"));
                }
            }
            if !api.path.starts_with("/aps/api/") {
                errors.push(format!(
                    "{at}: path `{}` must start with /aps/api/",
                    api.path
                ));
            }
            if !name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                errors.push(format!(
                    "{at}: API names are lowerCamelCase as Alipay+ spells them"
                ));
            }
            check_ref(spec, &at, &uf, &api.request, Some(Kind::Object), errors);
            check_ref(spec, &at, &uf, &api.response, Some(Kind::Object), errors);
            check_ref(spec, &at, &uf, &api.result_codes, Some(Kind::Codes), errors);
            if let Some(prev) = request_of.insert(api.request.as_str(), name.as_str()) {
                errors.push(format!(
                    "{at}: `{}` is already the request of `{prev}`",
                    api.request
                ));
            }
            if let Some(req) = spec.object(&api.request) {
                for key in &api.idempotency {
                    if !req.fields.iter().any(|f| &f.name == key) {
                        errors.push(format!(
                            "{at}: idempotency field `{key}` is not a field of `{}`",
                            api.request
                        ));
                    }
                }
            }
            if let Some(resp) = spec.object(&api.response) {
                let want = format!("Result<{}>", api.result_codes);
                match resp.fields.iter().find(|f| f.name == "result") {
                    Some(f) if f.ty.replace(' ', "") == want && f.is_plain() => {}
                    Some(_) => errors.push(format!(
                        "{at}: response `{}` field `result` must be `type = \"{want}\"`, `req = \"required\"`",
                        api.response
                    )),
                    None => errors.push(format!("{at}: response `{}` has no `result` field", api.response)),
                }
            }
        }
    }
}

fn check_object(spec: &Spec, at: &str, uf: &[String], obj: &ObjectDef, errors: &mut Vec<String>) {
    let mut json = BTreeSet::new();
    let mut rust = BTreeSet::new();
    if obj.fields.is_empty() {
        errors.push(format!("{at}: no fields"));
    }
    for f in &obj.fields {
        let fat = format!("{at}: field `{}`", f.name);
        if !json.insert(f.name.as_str()) {
            errors.push(format!("{fat}: duplicate JSON name"));
        }
        let rname = emit::field_name(&f.name, f.rust.as_deref());
        if rname == "extra" || !rust.insert(rname.clone()) {
            errors.push(format!(
                "{fat}: Rust name `{rname}` collides (with `extra` or another field); set `rust`"
            ));
        }
        let ty = match Ty::parse(&f.ty) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{fat}: {e}"));
                continue;
            }
        };
        for (target, want) in ty.refs() {
            check_ref(spec, &fat, uf, target, want, errors);
        }
        match (f.req, &f.condition) {
            (Req::Conditional, None) => {
                errors.push(format!("{fat}: `req = \"conditional\"` needs `condition`"))
            }
            (Req::Required | Req::Optional, Some(_)) => errors.push(format!(
                "{fat}: `condition` is only for `req = \"conditional\"`"
            )),
            _ => {}
        }
        if f.uncertain_rule
            .as_deref()
            .is_some_and(|w| w.trim().is_empty())
        {
            errors.push(format!("{fat}: `uncertain_rule` needs the reason"));
        }
        if let Some(rw) = &f.required_when {
            if f.req == Req::Required {
                errors.push(format!("{fat}: `required_when` on a required field"));
            }
            match obj.fields.iter().find(|s| s.name == rw.field) {
                None => errors.push(format!(
                    "{fat}: required_when.field `{}` is not a field of this object",
                    rw.field
                )),
                Some(s) => match Ty::parse(&s.ty) {
                    Ok(Ty::Str | Ty::Bool) => {}
                    Ok(Ty::Named(n)) if spec.defs.get(&n).is_some_and(|d| d.kind == Kind::Enum) => {
                    }
                    _ => errors.push(format!(
                        "{fat}: required_when.field `{}` must be a string, bool or enum",
                        rw.field
                    )),
                },
            }
            if rw.values.is_empty() {
                errors.push(format!("{fat}: required_when.values is empty"));
            }
        }
        let elem = match &ty {
            Ty::Array(t) => t.as_ref(),
            t => t,
        };
        if f.max_len.is_some() && !matches!(elem, Ty::Str | Ty::Secret) {
            errors.push(format!(
                "{fat}: `max_len` applies to string/secret fields only"
            ));
        }
        if (f.min_items.is_some() || f.max_items.is_some()) && !matches!(ty, Ty::Array(_)) {
            errors.push(format!(
                "{fat}: `min_items`/`max_items` apply to arrays only"
            ));
        }
        if let (Some(lo), Some(hi)) = (f.min_items, f.max_items)
            && lo > hi
        {
            errors.push(format!("{fat}: `min_items` {lo} is above `max_items` {hi}"));
        }
        if let Some(c) = &f.currency {
            if !matches!(ty, Ty::Amount) {
                errors.push(format!("{fat}: `currency` applies to Amount fields only"));
            }
            if !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())) {
                errors.push(format!("{fat}: `currency` `{c}` is not an ISO 4217 code"));
            }
        }
        if f.min.is_some() && !matches!(elem, Ty::Amount | Ty::Int) {
            errors.push(format!("{fat}: `min` applies to Amount/int fields only"));
        }
        match f.format.as_deref() {
            None => {}
            Some("region") if matches!(elem, Ty::Str) => {}
            Some(other) => errors.push(format!(
                "{fat}: unknown or misplaced format `{other}` (only `region` on strings)"
            )),
        }
    }
    for rule in &obj.required_if {
        match walk(spec, obj, &rule.path) {
            Ok(fields) if fields.last().is_some_and(|f| f.req == Req::Required) => errors.push(
                format!("{at}: required_if path `{}` is required anyway", rule.path),
            ),
            Ok(_) => {}
            Err(e) => errors.push(format!("{at}: required_if: {e}")),
        }
        match walk(spec, obj, &rule.when) {
            // An array of strings / enums: the rule fires when it contains one of the values.
            Ok(fields) => match fields.last().map(|f| Ty::parse(&f.ty)) {
                Some(Ok(Ty::Str | Ty::Bool)) => {}
                Some(Ok(Ty::Array(t))) if matches!(*t, Ty::Str) => {}
                Some(Ok(Ty::Array(t)))
                    if matches!(&*t, Ty::Named(n)
                        if spec.defs.get(n).is_some_and(|d| d.kind == Kind::Enum)) => {}
                Some(Ok(Ty::Named(n)))
                    if spec.defs.get(&n).is_some_and(|d| d.kind == Kind::Enum) => {}
                _ => errors.push(format!(
                    "{at}: required_if when `{}` must be a string, bool or enum, or an array of strings or enums",
                    rule.when
                )),
            },
            Err(e) => errors.push(format!("{at}: required_if: {e}")),
        }
        if rule.values.is_empty() {
            errors.push(format!("{at}: required_if values is empty"));
        }
    }
    for group in &obj.at_least_one_of {
        if group.len() < 2 {
            errors.push(format!(
                "{at}: at_least_one_of group {group:?} needs two or more fields"
            ));
        }
        for name in group {
            match obj.fields.iter().find(|f| &f.name == name) {
                None => errors.push(format!(
                    "{at}: at_least_one_of names unknown field `{name}`"
                )),
                Some(f) if f.req == Req::Required => errors.push(format!(
                    "{at}: at_least_one_of field `{name}` is required anyway"
                )),
                _ => {}
            }
        }
    }
}

/// Follows a dotted JSON path from `obj`: the fields met on the way (last = the target).
pub fn walk<'s>(
    spec: &'s Spec,
    obj: &'s ObjectDef,
    path: &str,
) -> Result<Vec<&'s FieldDef>, String> {
    let mut out = Vec::new();
    let mut cur = obj;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let f = cur
            .fields
            .iter()
            .find(|f| f.name == *seg)
            .ok_or_else(|| format!("path `{path}`: no field `{seg}`"))?;
        out.push(f);
        if i + 1 < segments.len() {
            match Ty::parse(&f.ty)? {
                Ty::Named(n) => {
                    cur = spec
                        .object(&n)
                        .ok_or_else(|| format!("path `{path}`: `{seg}` is not an object"))?
                }
                _ => return Err(format!("path `{path}`: `{seg}` is not an object")),
            }
        }
    }
    Ok(out)
}

fn rustfmt(code: &str) -> Result<String, String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run rustfmt ({e}); install it with `rustup component add rustfmt`")
        })?;
    child
        .stdin
        .take()
        .ok_or("rustfmt stdin")?
        .write_all(code.as_bytes())
        .map_err(|e| format!("rustfmt: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt rejected the generated code (a generator bug):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt output: {e}"))
}

pub fn run(root: &Path, check_only: bool) -> Result<String, String> {
    let spec = load_all(&root.join("spec/api"))?;
    let out_dir = root.join("alipayplus-types/src/generated");
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    for (name, code) in emit::emit(&spec)? {
        outputs.insert(name, rustfmt(&code)?);
    }
    let existing: BTreeSet<String> = std::fs::read_dir(&out_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".rs"))
                .collect()
        })
        .unwrap_or_default();
    let mut stale = Vec::new();
    for (name, code) in &outputs {
        let path = out_dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(code.as_str()) {
            stale.push(name.clone());
        }
    }
    let extra: Vec<&String> = existing
        .iter()
        .filter(|n| !outputs.contains_key(*n))
        .collect();
    for n in &extra {
        stale.push(format!("{n} (no longer generated)"));
    }
    if check_only {
        return if stale.is_empty() {
            Ok(format!(
                "generated code is current ({} files)",
                outputs.len()
            ))
        } else {
            Err(format!(
                "generated code is stale: {}; run `cargo xtask codegen` and commit the result",
                stale.join(", ")
            ))
        };
    }
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for (name, code) in &outputs {
        let path = out_dir.join(name);
        std::fs::write(&path, code).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for n in extra {
        let path = out_dir.join(n);
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(format!(
        "wrote {} files to alipayplus-types/src/generated ({} changed)",
        outputs.len(),
        stale.len()
    ))
}
