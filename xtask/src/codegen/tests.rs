//! Generator checks: clear errors for broken descriptions; deterministic output; the real
//! description loads.

use std::path::PathBuf;

use super::*;

/// A fresh directory holding the given description files.
fn spec_dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-codegen-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn load_err(test: &str, files: &[(&str, &str)]) -> String {
    match load_all(&spec_dir(test, files)) {
        Ok(_) => panic!("{test}: expected an error"),
        Err(e) => e,
    }
}

const COMMON: &str = r#"
doc = "Shared."
features = []

[result_codes.CommonResultCode]
doc = "Common."
codes = [ { code = "SUCCESS", status = "S", meaning = "ok", action = "proceed" } ]

[object.Thing]
doc = "A thing."
fields = [ { name = "thingId", type = "string", req = "required", max_len = 8, doc = "Id." } ]
"#;

const GROUP: &str = r#"
doc = "Group."
features = ["customs"]

[api.doThing]
doc = "Does it."
path = "/aps/api/v1/things/doThing"
direction = "outbound"
request = "DoThingRequest"
response = "DoThingResponse"
result_codes = "DoThingResultCode"
idempotency = ["thingId"]

[object.DoThingRequest]
doc = "Req."
fields = [ { name = "thingId", type = "string", req = "required", doc = "Id." },
           { name = "thing", type = "Thing", req = "optional", doc = "The thing." } ]

[object.DoThingResponse]
doc = "Resp."
fields = [ { name = "result", type = "Result<DoThingResultCode>", req = "required", doc = "Outcome." } ]

[result_codes.DoThingResultCode]
doc = "Codes."
include = ["CommonResultCode"]
codes = []
"#;

#[test]
fn a_valid_description_loads_and_emits_deterministically() {
    let dir = spec_dir("valid", &[("common.toml", COMMON), ("things.toml", GROUP)]);
    let spec = load_all(&dir).unwrap();
    let a = emit::emit(&spec).unwrap();
    let b = emit::emit(&load_all(&dir).unwrap()).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["common.rs", "things.rs", "mod.rs"]);
    let things = &a[1].1;
    assert!(things.contains("impl Api for DoThingRequest"));
    assert!(things.contains("#[cfg(feature = \"customs\")]"));
    assert!(things.contains("const IDEMPOTENCY_FIELDS: &'static [&'static str] = &[\"thingId\"];"));
}

#[test]
fn a_name_defined_twice_names_both_files() {
    let dup = GROUP.replace(
        "[object.DoThingResponse]",
        "[object.Thing]\ndoc = \"again\"\nfields = []\n\n[object.DoThingResponse]",
    );
    let e = load_err("dup", &[("common.toml", COMMON), ("things.toml", &dup)]);
    assert!(
        e.contains(
            "duplicate name `Thing`: defined in spec/api/common.toml and spec/api/things.toml"
        ),
        "{e}"
    );
}

#[test]
fn an_unknown_reference_is_named() {
    let bad = GROUP.replace("type = \"Thing\"", "type = \"Thingy\"");
    let e = load_err("unknown", &[("common.toml", COMMON), ("things.toml", &bad)]);
    assert!(
        e.contains("object `DoThingRequest`: field `thing`: unknown name `Thingy`"),
        "{e}"
    );
}

#[test]
fn referencing_an_item_of_another_feature_is_refused() {
    let other = r#"
doc = "Other."
features = ["dispute"]
[object.Elsewhere]
doc = "x"
fields = [ { name = "a", type = "string", req = "optional", doc = "a" } ]
"#;
    let bad = GROUP.replace("type = \"Thing\"", "type = \"Elsewhere\"");
    let e = load_err(
        "feature",
        &[
            ("common.toml", COMMON),
            ("other.toml", other),
            ("things.toml", &bad),
        ],
    );
    assert!(e.contains("references `Elsewhere`"), "{e}");
    assert!(e.contains("not compiled whenever this item is"), "{e}");
}

#[test]
fn description_mistakes_are_reported_together() {
    let bad = GROUP
        .replace(
            "req = \"optional\", doc = \"The thing.\"",
            "req = \"conditional\", doc = \"The thing.\"",
        )
        .replace("idempotency = [\"thingId\"]", "idempotency = [\"nope\"]")
        .replace(
            "type = \"Result<DoThingResultCode>\"",
            "type = \"Result<CommonResultCode>\"",
        );
    let e = load_err("many", &[("common.toml", COMMON), ("things.toml", &bad)]);
    assert!(e.contains("needs `condition`"), "{e}");
    assert!(e.contains("idempotency field `nope`"), "{e}");
    assert!(
        e.contains("field `result` must be `type = \"Result<DoThingResultCode>\"`"),
        "{e}"
    );
    assert!(e.starts_with("3 problem(s)"), "{e}");
}

#[test]
fn required_if_on_an_array_needs_strings_or_enums() {
    let rule = |when: &str| {
        GROUP.replace(
            "[object.DoThingRequest]\ndoc = \"Req.\"\n",
            &format!(
                "[object.DoThingRequest]\ndoc = \"Req.\"\nrequired_if = [ {{ path = \"thing\", when = \"{when}\", values = [\"A\"], condition = \"c\" }} ]\n"
            ),
        )
    };
    let arrays = |group: &str| {
        group.replace(
            "{ name = \"thing\", type = \"Thing\"",
            "{ name = \"codes\", type = \"[string]\", req = \"optional\", doc = \"Codes.\" },\n           { name = \"things\", type = \"[Thing]\", req = \"optional\", doc = \"Things.\" },\n           { name = \"thing\", type = \"Thing\"",
        )
    };
    let ok = arrays(&rule("codes"));
    assert!(
        load_all(&spec_dir(
            "array-when",
            &[("common.toml", COMMON), ("things.toml", &ok)]
        ))
        .is_ok()
    );
    let bad = arrays(&rule("things"));
    let e = load_err(
        "object-array-when",
        &[("common.toml", COMMON), ("things.toml", &bad)],
    );
    assert!(e.contains("required_if when `things` must be"), "{e}");
}

#[test]
fn element_counts_and_currencies_go_on_the_right_types() {
    let bad = COMMON.replace("max_len = 8,", "max_len = 8, min_items = 1,");
    let e = load_err("items-on-string", &[("common.toml", &bad)]);
    assert!(e.contains("apply to arrays only"), "{e}");
    let bad = COMMON.replace("max_len = 8,", "max_len = 8, currency = \"usd\",");
    let e = load_err("currency-on-string", &[("common.toml", &bad)]);
    assert!(e.contains("applies to Amount fields only"), "{e}");
    assert!(e.contains("`usd` is not an ISO 4217 code"), "{e}");
}

#[test]
fn typos_in_keys_are_errors() {
    let bad = COMMON.replace("max_len = 8", "maxlen = 8");
    let e = load_err("typo", &[("common.toml", &bad)]);
    assert!(e.contains("object `Thing`") && e.contains("maxlen"), "{e}");
}

#[test]
fn variant_and_field_names() {
    assert_eq!(emit::field_name("merchantMCC", None), "merchant_mcc");
    assert_eq!(emit::field_name("clientIp", None), "client_ip");
    assert_eq!(emit::field_name("MCCCode", None), "mcc_code");
    assert_eq!(emit::field_name("type", None), "type_");
    assert_eq!(emit::variant_name("MINI_APP", None).unwrap(), "MiniApp");
    assert_eq!(
        emit::variant_name("PaymentCode", None).unwrap(),
        "PaymentCode"
    );
    assert!(emit::variant_name("3DS", None).is_err());
}

#[test]
fn the_repository_description_is_valid() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = load_all(&root.join("spec/api")).unwrap();
    let apis: usize = spec.files.iter().map(|f| f.apis.len()).sum();
    assert!(apis >= 6, "{apis}");
}

#[test]
fn an_uncertain_rule_is_optional_on_the_wire_and_flagged_by_validate() {
    let marked = COMMON.replace(
        "max_len = 8, doc = \"Id.\"",
        "max_len = 8, doc = \"Id.\", uncertain_rule = \"the spec gives no requiredness\"",
    );
    let dir = spec_dir("uncertain-rule", &[("common.toml", &marked)]);
    let files = emit::emit(&load_all(&dir).unwrap()).unwrap();
    let common = &files.iter().find(|(n, _)| n == "common.rs").unwrap().1;
    let flat: String = common.split_whitespace().collect();
    // Parsed when absent, still required by new() and by validate() (flagged uncertain).
    assert!(flat.contains("pubthing_id:Option<String>,"), "{common}");
    assert!(flat.contains("thing_id:Some(thing_id),"), "{common}");
    assert!(
        flat.contains("Problem::Missing{condition:\"always\"}"),
        "{common}"
    );
    assert!(flat.contains("letmark=errs.len();"), "{common}");
    assert!(flat.contains("errs.mark_uncertain_from(mark);"), "{common}");
    // Without the marker nothing of it is generated.
    let plain =
        emit::emit(&load_all(&spec_dir("certain-rule", &[("common.toml", COMMON)])).unwrap())
            .unwrap();
    let plain = &plain.iter().find(|(n, _)| n == "common.rs").unwrap().1;
    assert!(!plain.contains("mark_uncertain_from"), "{plain}");

    let empty = COMMON.replace("doc = \"Id.\"", "doc = \"Id.\", uncertain_rule = \" \"");
    let e = load_err("uncertain-rule-empty", &[("common.toml", &empty)]);
    assert!(e.contains("`uncertain_rule` needs the reason"), "{e}");
}

#[test]
fn about_says_which_codes_speak_about_the_subject() {
    let group = GROUP.replace(
        "codes = []",
        "codes = [ { code = \"THING_GONE\", status = \"F\", meaning = \"gone\", action = \"report_failure\", about = \"subject\" },\n          { code = \"BAD_FORM\", status = \"F\", meaning = \"bad\", action = \"fix_request_then_new_id\", about = \"request\" },\n          { code = \"UNSAID\", status = \"F\", meaning = \"?\", action = \"contact_support\" } ]",
    );
    let dir = spec_dir("about", &[("common.toml", COMMON), ("things.toml", &group)]);
    let out = emit::emit(&load_all(&dir).unwrap()).unwrap();
    let things = &out[1].1;
    assert!(things.contains("fn about(&self) -> CodeAbout"), "{things}");
    assert!(things.contains("DoThingResultCode::ThingGone => CodeAbout::Subject,"));
    assert!(things.contains("DoThingResultCode::BadForm => CodeAbout::Request,"));
    // Unmarked and unknown codes prove nothing about the subject.
    assert!(things.contains("DoThingResultCode::Unsaid => CodeAbout::Request,"));
    assert!(things.contains("DoThingResultCode::Unrecognized(_) => CodeAbout::Request,"));
    let bad = group.replace("about = \"subject\"", "about = \"payment\"");
    let e = load_err(
        "about-bad",
        &[("common.toml", COMMON), ("things.toml", &bad)],
    );
    assert!(
        e.contains("`about` must be \"subject\" or \"request\""),
        "{e}"
    );
}
