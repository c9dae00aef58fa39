//! The examples of the documentation run.
//!
//! In `docs/language.md`, `docs/cli.md` and `docs/embedding.md`:
//! - a code block tagged `atlas` is a program that must compile and run without error;
//! - one tagged `atlas-error` must fail, to compile or at run time;
//! - either may be followed by a block tagged `output`, the exact standard output, and
//!   an `atlas-error` block by one tagged `error`, the exact diagnostics as `atlas run
//!   example.at` prints them.
//!
//! Programs run through the embedding API (`atlas::Engine`), which renders diagnostics
//! exactly as the command line does. (The Rust blocks of `docs/embedding.md` are doc
//! tests of `atlas::api::guide`.)

use atlas::{Engine, OutputBuffer};

const DOCS: &[(&str, &str)] = &[
    ("docs/language.md", include_str!("../docs/language.md")),
    ("docs/cli.md", include_str!("../docs/cli.md")),
    ("docs/embedding.md", include_str!("../docs/embedding.md")),
];

/// A fenced code block: its tag, text and first line (1-based).
struct Block {
    tag: String,
    text: String,
    line: usize,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(tag) = trimmed.strip_prefix("```") {
                    current = Some(Block {
                        tag: tag.trim().to_string(),
                        text: String::new(),
                        line: i + 1,
                    });
                }
            }
            Some(block) => {
                if trimmed == "```" {
                    found.extend(current.take());
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    found
}

#[test]
fn documented_programs_run_as_shown() {
    let mut checked = 0;
    for (file, markdown) in DOCS {
        let blocks = blocks(markdown);
        for (i, block) in blocks.iter().enumerate() {
            let fails = match block.tag.as_str() {
                "atlas" => false,
                "atlas-error" => true,
                _ => continue,
            };
            let at = format!("{file}:{}", block.line);
            let mut expected_out = None;
            let mut expected_err = None;
            for next in blocks[i + 1..].iter().take(2) {
                match next.tag.as_str() {
                    "output" if expected_out.is_none() => expected_out = Some(&next.text),
                    "error" if expected_err.is_none() => expected_err = Some(&next.text),
                    _ => break,
                }
            }
            let out = OutputBuffer::new();
            let mut engine = Engine::new();
            engine.set_output(out.clone());
            let result = engine
                .compile_named("example.at", &block.text)
                .and_then(|script| engine.run(&script));
            match (result, fails) {
                (Ok(()), false) => {}
                (Err(error), true) => {
                    if let Some(expected) = expected_err {
                        assert_eq!(&format!("{error}\n"), expected, "diagnostics of {at}");
                    }
                }
                (Ok(()), true) => panic!("{at}: the program should fail but ran"),
                (Err(error), false) => panic!("{at}: the program failed:\n{error}"),
            }
            if let Some(expected) = expected_out {
                assert_eq!(&out.contents(), expected, "output of {at}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} programs in the docs");
}
