//! `compile`: arbitrary bytes through the parser, the checker and the compiler, both
//! optimized and unoptimized, as `atlas run` and `atlas disasm` do.
//!
//! Checks: no panic, hang or crash; every module the compiler produces passes the
//! bytecode verifier (the VM's unchecked accesses rely on it, and the driver would report
//! a failure as "internal error: bad bytecode"); the disassembler lists every module;
//! every diagnostic renders.

#![no_main]

use atlas::compile::{self, CompileOptions};
use atlas::driver::{self, SourceFile, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.at", source);
    let (program, info) = match driver::check_source(source) {
        Ok(checked) => checked,
        Err(errors) => {
            assert!(!errors.is_empty(), "a failed check reports no error");
            for error in &errors {
                file.render_compile_error(error, Style::PLAIN);
            }
            return;
        }
    };
    for optimize in [false, true] {
        match compile::compile(&program, &info, CompileOptions { optimize }) {
            Ok(module) => {
                if let Err(e) = atlas::verify::verify(module.clone()) {
                    panic!("the verifier rejects the compiler's code (optimize: {optimize}): {e}");
                }
                atlas::bytecode::disasm::disassemble(&module, source);
            }
            Err(error) => {
                file.render_compile_error(&error, Style::PLAIN);
            }
        }
    }
});
