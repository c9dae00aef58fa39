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

/// Whether the binary is linked by LLD, which understands `--symbol-ordering-file`:
/// rustc links x86_64 Linux (GNU) targets with its own `rust-lld` since 1.90.
fn links_with_lld() -> bool {
    let target = env::var("TARGET").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let minor = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|minor| minor >= 90)
}

/// Whether the C library this build links against reads packed relative relocations
/// (DT_RELR, glibc 2.36 and later); only known for a native build.
fn libc_reads_relr() -> bool {
    if env::var("TARGET").ok() != env::var("HOST").ok() {
        return false;
    }
    // "ldd (Debian GLIBC 2.36-9+deb12u13) 2.36"
    let version = std::process::Command::new("ldd")
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let release = version
        .lines()
        .next()
        .filter(|line| line.contains("GLIBC") || line.contains("GNU libc"))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    release.is_some_and(|release| release >= (2, 36))
}

fn main() {
    println!("cargo:rerun-if-changed=opcodes.toml");
    println!("cargo:rerun-if-changed=link/atlas.order");
    println!("cargo:rerun-if-env-changed=ATLAS_NO_LINK_ORDER");
    println!("cargo:rerun-if-changed=codegen/mod.rs");
    println!("cargo:rerun-if-changed=codegen/emit.rs");
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

    // Function layout: the functions that runs execute (start-up, compiler, VM; listed
    // by `benches/link_order.py` from callgrind runs) are placed together at the start
    // of the code. Otherwise they lie scattered over the whole 1.4 MB text, and since
    // the kernel maps file pages in 64 KiB blocks around each page fault, every run
    // mapped about 1.2 MB of it: with the order, 0.55 MB, which cuts the peak RSS of a
    // small program by a fifth (PERFORMANCE_REPORT.md). A stale list only places fewer
    // functions; `ATLAS_NO_LINK_ORDER=1` turns this and the packed relocations off.
    if links_with_lld() && env::var_os("ATLAS_NO_LINK_ORDER").is_none() {
        let order = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
            .join("link/atlas.order");
        if order.exists() {
            println!(
                "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
                order.display()
            );
            println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        }
        // Packed relative relocations: the 60 KB table of position-independent
        // relocations shrinks to 2 KB, one less 64 KiB block for every run to map
        // (about 70 KB of peak RSS).
        if libc_reads_relr() {
            println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        }
    }

    let text = fs::read_to_string("opcodes.toml")
        .unwrap_or_else(|e| panic!("cannot read opcodes.toml: {e}"));
    let ops = codegen::parse_spec(&text).unwrap_or_else(|e| panic!("{e}"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (file, tokens) in [
        ("opcodes.rs", codegen::generate_opcodes(&ops)),
        ("dispatch.rs", codegen::generate_dispatch(&ops)),
        ("emit.rs", codegen::generate_emitters(&ops)),
    ] {
        let code = codegen::render(tokens).unwrap_or_else(|e| panic!("{e}"));
        fs::write(out.join(file), code).unwrap_or_else(|e| panic!("cannot write {file}: {e}"));
    }
}
