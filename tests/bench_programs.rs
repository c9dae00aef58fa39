//! Every program of `../shared/bench` prints exactly its expected output, in both
//! dispatch modes.

use std::path::PathBuf;
use std::process::Command;

use rstest::rstest;

#[rstest]
fn bench_program_output(
    #[files("../shared/bench/*.at")] path: PathBuf,
    #[values("table", "match")] dispatch: &str,
) {
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
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected, "{name}");
}
