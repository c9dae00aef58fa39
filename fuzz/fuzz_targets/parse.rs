//! `parse`: arbitrary bytes through the lexer and the parser, the way `atlas check`
//! reads a file, and the rendering of the resulting diagnostic.
//!
//! Checks: no panic, no hang, no crash, whatever the input. Input that is not UTF-8 is
//! rejected before the lexer sees it, as the command line does (exit 65).

#![no_main]

use atlas::driver::{SourceFile, Style};
use atlas::syntax::parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = parser::parse(source) {
        let file = SourceFile::new("fuzz.at", source);
        let text = file.render_compile_error(&error, Style::PLAIN);
        assert!(text.contains("error:"), "odd diagnostic: {text}");
    }
});
