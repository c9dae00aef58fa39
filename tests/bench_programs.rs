//! Every program of `../shared/bench` prints exactly its expected output, in both
//! dispatch modes.
//!
//! `../shared` sits beside the repository in CI but not in a clone of this repository
//! alone: the programs are listed at run time, and the test skips with a note when the
//! folder is absent (it must never stop the test suite from compiling).

use std::path::{Path, PathBuf};
use std::process::Command;

use rstest::rstest;

/// The `.at` programs of `../shared/bench`, sorted; `None` when the folder is absent.
fn bench_programs() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    let entries = std::fs::read_dir(&dir).ok()?;
    let mut programs: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "at"))
        .collect();
    programs.sort();
    Some(programs)
}

#[rstest]
fn bench_program_output(#[values("table", "match")] dispatch: &str) {
    let Some(programs) = bench_programs() else {
        eprintln!("note: ../shared/bench is absent; the benchmark programs were not run");
        return;
    };
    assert!(!programs.is_empty(), "../shared/bench holds no .at program");
    for path in programs {
        let name = path
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let expected_path = path.with_file_name("expected").join(format!("{name}.out"));
        let expected = std::fs::read_to_string(&expected_path).expect("expected output exists");
        let output = Command::new(env!("CARGO_BIN_EXE_atlas"))
            .args(["run", "--dispatch", dispatch])
            .arg(&path)
            .output()
            .expect("atlas runs");
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&output.stdout), expected, "{name}");
    }
}
