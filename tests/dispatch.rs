//! The dispatch backends: identical results, every opcode exercised, and threaded
//! handlers that really tail-call (a handler that stopped doing so would grow the host
//! stack with every instruction and overflow the small stack used here).

use std::collections::BTreeSet;
use std::rc::Rc;

use atlas::bytecode::Opcode;
use atlas::compile::CompileOptions;
use atlas::verify::VerifiedModule;
use atlas::vm::{self, Dispatch, Options};

const ALL_OPCODES: &str = include_str!("fixtures/all_opcodes.at");

fn compile(source: &str) -> Rc<VerifiedModule> {
    atlas::driver::compile_source(source, CompileOptions::default()).expect("compiles")
}

fn run(module: Rc<VerifiedModule>, dispatch: Dispatch) -> String {
    let mut out = Vec::new();
    let options = Options {
        dispatch,
        ..Options::default()
    };
    vm::run_module(module, options, &mut out).expect("runs");
    String::from_utf8(out).expect("utf-8 output")
}

#[test]
fn fixture_uses_every_opcode() {
    let module = compile(ALL_OPCODES);
    let mut used = BTreeSet::new();
    for f in &module.functions {
        let mut at = 0;
        while at < f.code.len() {
            let op = Opcode::from_u8(f.code[at]).expect("valid");
            used.insert(op.discriminant());
            at += op.size();
        }
    }
    // `call_host` needs functions of an embedder: tests/embed.rs runs it under both
    // dispatch loops and on a small stack.
    let missing: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| !used.contains(&op.discriminant()) && **op != Opcode::CallHost)
        .map(|op| op.info().name)
        .collect();
    assert!(
        missing.is_empty(),
        "tests/fixtures/all_opcodes.at never emits {missing:?}"
    );
}

#[test]
fn table_and_match_dispatch_agree() {
    let module = compile(ALL_OPCODES);
    let table = run(Rc::clone(&module), Dispatch::Table);
    let matched = run(module, Dispatch::Match);
    assert_eq!(table, matched);
    assert!(table.contains("20000\nfalse\n"), "{table}");
}

#[test]
fn threaded_dispatch_runs_in_a_small_stack() {
    // 256 KiB is far below what millions of nested handler calls would need.
    let handle = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| run(compile(ALL_OPCODES), Dispatch::Table))
        .expect("spawn");
    let output = handle.join().expect("no stack overflow");
    assert!(output.contains("20000"));
}
