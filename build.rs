//! Generates the opcode enum, metadata, handler trait, stubs and dispatch loops from
//! `opcodes.toml` (see `codegen/mod.rs`) into `OUT_DIR`.

#[path = "codegen/mod.rs"]
mod codegen;

use std::{env, fs, path::PathBuf};

/// Whether the build adds instrumentation (coverage for fuzzing, a sanitizer, coverage
/// measurement) that defeats the tail calls of the threaded handlers.
fn instrumented() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    env::var_os("CARGO_CFG_SANITIZE").is_some()
        || env::var_os("CARGO_CFG_FUZZING").is_some()
        || ["sancov", "sanitizer", "instrument-coverage"]
            .iter()
            .any(|flag| flags.contains(flag))
}

fn main() {
    println!("cargo:rerun-if-changed=opcodes.toml");
    println!("cargo:rerun-if-changed=codegen/mod.rs");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(atlas_tail_calls)");

    // Threaded dispatch relies on LLVM turning each handler's final call into a jump,
    // which it only does when optimizing; unoptimized builds would overflow the stack.
    // So do instrumented builds: the sanitizer coverage of `cargo fuzz` (and sanitizers,
    // and -C instrument-coverage) keep the final calls calls, one stack frame per
    // instruction executed, and the fuzz targets crashed on the first recursive program.
    let opt_level = env::var("OPT_LEVEL").unwrap_or_default();
    if (opt_level == "2" || opt_level == "3") && !instrumented() {
        println!("cargo:rustc-cfg=atlas_tail_calls");
    }

    let text = fs::read_to_string("opcodes.toml")
        .unwrap_or_else(|e| panic!("cannot read opcodes.toml: {e}"));
    let ops = codegen::parse_spec(&text).unwrap_or_else(|e| panic!("{e}"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (file, tokens) in [
        ("opcodes.rs", codegen::generate_opcodes(&ops)),
        ("dispatch.rs", codegen::generate_dispatch(&ops)),
    ] {
        let code = codegen::render(tokens).unwrap_or_else(|e| panic!("{e}"));
        fs::write(out.join(file), code).unwrap_or_else(|e| panic!("cannot write {file}: {e}"));
    }
}
