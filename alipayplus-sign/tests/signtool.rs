//! signtool's output matches the vectors for every case, with every key file form. Runs the
//! example's own command-line code (included below), with real files.

#[path = "../examples/signtool/cli.rs"]
mod cli;

use serde_json::Value;
use std::path::PathBuf;

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// Runs signtool; returns (exit code, stdout, stderr).
fn signtool(args: &[&str]) -> (i32, Vec<u8>, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run(&args, &mut out, &mut err);
    (code, out, String::from_utf8(err).unwrap())
}

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key].as_str().unwrap()
}

fn cases() -> Vec<Value> {
    let json: Value = serde_json::from_slice(&std::fs::read(data("cases.json")).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 32);
    cases
}

fn common<'a>(case: &'a Value, body_file: &'a str) -> Vec<&'a str> {
    vec![
        "--method",
        s(case, "method"),
        "--uri",
        s(case, "uri"),
        "--client-id",
        s(case, "client_id"),
        "--time",
        s(case, "time"),
        "--body-file",
        body_file,
    ]
}

#[test]
fn sign_prints_the_vector_header_for_every_case_and_key_form() {
    for key in [
        "private_pkcs8.pem",
        "private_pkcs1.pem",
        "private_pkcs8.b64",
        "private_pkcs1.der",
    ] {
        let key = data(key);
        for case in cases() {
            let body = data(s(&case, "body_file"));
            let mut args = vec!["sign", "--key", &key];
            args.extend(common(&case, &body));
            args.extend(["--key-version", s(&case, "key_version")]);
            let (code, out, err) = signtool(&args);
            assert_eq!(code, cli::OK, "case {} {key}: {err}", case["id"]);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("{}\n", s(&case, "header_value")),
                "case {} {key}",
                case["id"]
            );
        }
    }
}

#[test]
fn sign_defaults_to_key_version_1() {
    let case = &cases()[0];
    let (key, body) = (data("private_pkcs8.pem"), data(s(case, "body_file")));
    let mut args = vec!["sign", "--key", &key];
    args.extend(common(case, &body));
    let (code, out, _) = signtool(&args);
    assert_eq!(code, cli::OK);
    assert_eq!(out, format!("{}\n", s(case, "header_value")).into_bytes());
}

#[test]
fn content_writes_the_exact_bytes_for_every_case() {
    for case in cases() {
        let body = data(s(&case, "body_file"));
        let mut args = vec!["content"];
        args.extend(common(&case, &body));
        let (code, out, err) = signtool(&args);
        assert_eq!(code, cli::OK, "{err}");
        assert_eq!(
            out,
            s(&case, "content_to_be_signed").as_bytes(),
            "case {}",
            case["id"]
        );
    }
}

#[test]
fn verify_says_valid_for_every_case_and_key_form() {
    for key in [
        "public_spki.pem",
        "public_pkcs1.pem",
        "public_spki.b64",
        "public_pkcs1.der",
    ] {
        let key = data(key);
        for case in cases() {
            let body = data(s(&case, "body_file"));
            let mut args = vec![
                "verify",
                "--key",
                &key,
                "--header",
                s(&case, "header_value"),
            ];
            args.extend(common(&case, &body));
            let (code, out, err) = signtool(&args);
            assert_eq!(
                (code, out),
                (cli::OK, b"valid\n".to_vec()),
                "case {} {key}: {err}",
                case["id"]
            );
        }
    }
    // A pasted header line works too.
    let case = &cases()[0];
    let (key, body) = (data("public_spki.pem"), data(s(case, "body_file")));
    let line = format!("Signature: {}", s(case, "header_value"));
    let mut args = vec!["verify", "--key", &key, "--header", &line];
    args.extend(common(case, &body));
    assert_eq!(signtool(&args).0, cli::OK);
}

#[test]
fn verify_gives_each_tamper_case_its_expected_result() {
    let json: Value =
        serde_json::from_slice(&std::fs::read(data("tamper_cases.json")).unwrap()).unwrap();
    let key = data("public_spki.pem");
    for (i, case) in json.as_array().unwrap().iter().enumerate() {
        let body = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tamper_{i}.bin"));
        std::fs::write(&body, s(case, "body")).unwrap();
        let body = body.to_str().unwrap().to_owned();
        let mut args = vec!["verify", "--key", &key, "--header", s(case, "header_value")];
        args.extend(common(case, &body));
        let (code, out, _) = signtool(&args);
        let out = String::from_utf8(out).unwrap();
        if case["expect_valid"].as_bool().unwrap() {
            assert_eq!(
                (code, out.as_str()),
                (cli::OK, "valid\n"),
                "{}",
                s(case, "description")
            );
        } else {
            assert_eq!(code, cli::FAILED, "{}", s(case, "description"));
            assert!(
                out.starts_with("invalid: signature verification failed"),
                "{out}"
            );
        }
    }
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let body = data("bodies/case_000.bin");
    let key = data("private_pkcs8.pem");
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["sign", "--key", &key],
        vec!["content", "--method", "POST", "--method", "POST"],
        vec!["content", "--key", &key, "--method", "POST"],
        vec!["content", "--method"],
        vec![
            "sign",
            "--key",
            &key,
            "--method",
            "POST",
            "--uri",
            "/",
            "--client-id",
            "c",
            "--time",
            "t",
            "--body-file",
            &body,
            "--key-version",
            "-1",
        ],
        vec![
            "verify",
            "--key",
            &key,
            "--method",
            "POST",
            "--uri",
            "/",
            "--client-id",
            "c",
            "--time",
            "t",
            "--body-file",
            &body,
        ],
    ] {
        let (code, out, err) = signtool(&args);
        assert_eq!(code, cli::USAGE, "{args:?}");
        assert!(out.is_empty());
        assert!(err.contains("usage:"), "{err}");
    }
    // Unreadable files are failures that name the file, not panics.
    let (code, _, err) = signtool(&[
        "content",
        "--method",
        "POST",
        "--uri",
        "/",
        "--client-id",
        "c",
        "--time",
        "t",
        "--body-file",
        "/nonexistent/body.bin",
    ]);
    assert_eq!(code, cli::FAILED);
    assert!(err.contains("/nonexistent/body.bin"), "{err}");
}

/// `--features aws-lc` switches signtool to the aws-lc backend (the vector tests above then run
/// on it), and `--help` says which backend the build uses.
#[test]
fn help_names_the_backend_of_the_build() {
    let (code, out, _) = signtool(&["--help"]);
    assert_eq!(code, cli::OK);
    let out = String::from_utf8(out).unwrap();
    let expected = if cfg!(feature = "aws-lc") {
        "Signing backend of this build: aws-lc (aws-lc-rs)."
    } else {
        "Signing backend of this build: rsa (pure Rust, the default)."
    };
    assert!(out.contains(expected), "{out}");
    assert_eq!(cli::BACKEND, &expected[31..expected.len() - 1]);
}
