//! Replays the committed fuzz corpus and every regression case through the same harness
//! functions as the cargo-fuzz targets, on the stable toolchain without sanitizers: each past
//! finding and each input that reached new code is checked by `cargo test`.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Files of `fuzz/<kind>/<target>/`, per target folder.
fn folders(kind: &str) -> Vec<(String, Vec<PathBuf>)> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten().filter(|e| e.path().is_dir()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(entry.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.push((name, files));
    }
    out.sort();
    out
}

/// Runs every file of `fuzz/<kind>/`; returns how many ran.
fn replay(kind: &str) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for (target, files) in folders(kind) {
        let harness = fuzz_harness::target(&target).unwrap_or_else(|| {
            panic!("fuzz/{kind}/{target}: no such target in fuzz_harness::TARGETS")
        });
        for file in files {
            let data = std::fs::read(&file).expect("corpus file reads");
            count += 1;
            if std::panic::catch_unwind(|| harness(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "inputs that break an invariant:\n{}",
        failures.join("\n")
    );
    count
}

#[test]
fn corpus_replays_cleanly_and_covers_every_target() {
    let folders = folders("corpus");
    for (target, _) in fuzz_harness::TARGETS {
        let files = folders
            .iter()
            .find(|(name, _)| name == target)
            .map_or(0, |(_, f)| f.len());
        assert!(files > 0, "fuzz/corpus/{target} is empty or missing");
    }
    assert!(replay("corpus") > 0);
}

#[test]
fn every_past_finding_stays_fixed() {
    replay("regressions");
}

#[test]
fn every_target_has_a_cargo_fuzz_binary() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (target, _) in fuzz_harness::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {target}"
        );
        let source = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        assert!(source.is_file(), "{} is missing", source.display());
    }
}
