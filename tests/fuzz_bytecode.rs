//! Regression tests for what the `verify` fuzz target (fuzz/fuzz_targets/verify.rs)
//! found: modules that pass the bytecode verifier must run without panicking, crashing
//! or aborting, however meaningless their code. Each test assembles a small module by
//! hand, checks that the verifier accepts it, and runs it with limits.

use std::rc::Rc;

use atlas::bytecode::{Function, Module, Opcode, OperandKind};
use atlas::diag::RuntimeError;
use atlas::span::Span;
use atlas::vm::value::Value;
use atlas::vm::{self, Dispatch, Options};

/// Encodes `(opcode, operands)` pairs; operands are given in encoding order as integers
/// (f64 operands as numbers), and the line table gets one entry per instruction.
fn function(name: &str, arity: u8, num_regs: u16, code: &[(Opcode, &[f64])]) -> Function {
    let mut bytes = Vec::new();
    let mut lines = Vec::new();
    for (op, operands) in code {
        let at = bytes.len() as u32;
        lines.push((at, Span::new(at, at + 1)));
        bytes.push(op.discriminant());
        let info = op.info();
        assert_eq!(info.operands.len(), operands.len(), "{}", info.mnemonic);
        for (operand, &value) in info.operands.iter().zip(operands.iter()) {
            let encoded = match operand.kind {
                OperandKind::F64 => value.to_le_bytes().to_vec(),
                OperandKind::Jump => (value as i32).to_le_bytes().to_vec(),
                kind => (value as u64).to_le_bytes()[..kind.width()].to_vec(),
            };
            bytes.extend_from_slice(&encoded);
        }
    }
    Function {
        name: name.to_string(),
        arity,
        num_regs,
        code: bytes,
        consts: Vec::new(),
        lines,
        span: Span::default(),
    }
}

/// Verifies `module`, runs it on every dispatch loop (metered and not) and returns what
/// the metered run printed and how it ended.
fn run(module: Module) -> (String, Result<(), RuntimeError>) {
    let module = Rc::new(atlas::verify::verify(module).expect("the verifier accepts the module"));
    let options = Options {
        max_frames: 32,
        max_instructions: Some(10_000),
        ..Options::default()
    };
    for dispatch in [Dispatch::Match, Dispatch::Table] {
        let mut out = Vec::new();
        let _ = vm::run_module(
            Rc::clone(&module),
            Options {
                dispatch,
                max_instructions: None,
                ..options
            },
            &mut out,
        );
    }
    let mut out = Vec::new();
    let result = vm::run_module(module, options, &mut out);
    (String::from_utf8(out).expect("UTF-8 output"), result)
}

fn script(num_regs: u16, code: &[(Opcode, &[f64])]) -> Module {
    Module {
        functions: vec![function("<script>", 0, num_regs, code)],
        globals: Vec::new(),
        script: 0,
    }
}

/// `new_array` with a capacity of u32::MAX elements (64 GiB) aborted the process on the
/// failed allocation; the capacity is only a hint now.
#[test]
fn new_array_with_a_huge_capacity() {
    let (output, result) = run(script(
        1,
        &[
            (Opcode::NewArray, &[0.0, u32::MAX as f64]),
            (Opcode::Print, &[0.0]),
            (Opcode::RetVoid, &[]),
        ],
    ));
    result.expect("runs");
    assert_eq!(output, "[]\n");
}

/// A script whose constant pool is `consts`.
fn script_with(num_regs: u16, consts: Vec<Value>, code: &[(Opcode, &[f64])]) -> Module {
    let mut module = script(num_regs, code);
    module.functions[0].consts = consts;
    module
}

/// Function values in the constant pool must name existing functions: `call_value` on
/// `Value::Func(1000)` (or a native 1000) indexed past the function table and panicked.
#[test]
fn constants_name_existing_functions() {
    let call = [
        (Opcode::LoadConst, &[0.0, 0.0][..]),
        (Opcode::CallValue, &[0.0, 1.0, 0.0][..]),
        (Opcode::RetVoid, &[][..]),
    ];
    for bad in [Value::Func(1000), Value::Native(1000)] {
        let module = script_with(2, vec![bad.clone()], &call);
        let error = atlas::verify::verify(module).expect_err("a bad function constant");
        assert!(error.contains("constant 0"), "{bad:?}: {error}");
    }
    // In range they run (a native called with the wrong arguments computes a default).
    let sqrt = atlas::vm::natives::index_of(atlas::builtins::Builtin::Sqrt).expect("sqrt");
    let (output, result) = run(script_with(
        2,
        vec![Value::Native(sqrt as u32)],
        &[
            (Opcode::LoadConst, &[0.0, 0.0]),
            (Opcode::CallValue, &[0.0, 1.0, 0.0]),
            (Opcode::Print, &[1.0]),
            (Opcode::RetVoid, &[]),
        ],
    ));
    result.expect("runs");
    assert_eq!(output, "NaN\n");
}

/// `concat` of 255 registers that all hold the same 4 MiB string builds 1 GiB in one
/// instruction: under a memory limit of 8 MiB that must fail before allocating, not
/// after (the fuzzer's module spent seconds copying 4 GB under a 32 MiB limit).
#[test]
fn concat_checks_the_memory_limit_before_allocating() {
    let mut code: Vec<(Opcode, &[f64])> = Vec::new();
    let registers: Vec<[f64; 2]> = (0..255).map(|r| [r as f64, 0.0]).collect();
    for operands in &registers {
        code.push((Opcode::LoadConst, operands));
    }
    code.push((Opcode::Concat, &[0.0, 0.0, 255.0]));
    code.push((Opcode::RetVoid, &[]));
    let module = script_with(255, vec![Value::str("x".repeat(4 << 20))], &code);
    let module = atlas::verify::verify(module).expect("the verifier accepts the module");
    let options = Options {
        max_instructions: Some(10_000),
        max_memory: Some(8 << 20),
        ..Options::default()
    };
    let mut out = Vec::new();
    let error = vm::run_module(Rc::new(module), options, &mut out).expect_err("over the limit");
    assert_eq!(error.message, "memory limit of 8388608 bytes reached");
}

/// Only ill-typed bytecode can push an array into itself; printing it recursed until
/// the stack overflowed (a crash found by the verify fuzz target). A recurring array
/// prints as `[...]`, and so does one nested deeper than the printer follows.
#[test]
fn arrays_that_contain_themselves_print() {
    let (output, result) = run(script(
        2,
        &[
            (Opcode::NewArray, &[0.0, 0.0]),
            (Opcode::Push, &[0.0, 0.0]),
            (Opcode::Push, &[0.0, 0.0]),
            (Opcode::Print, &[0.0]),
            (Opcode::ToStr, &[1.0, 0.0]),
            (Opcode::Print, &[1.0]),
            (Opcode::Concat, &[1.0, 0.0, 1.0]),
            (Opcode::Print, &[1.0]),
            (Opcode::RetVoid, &[]),
        ],
    ));
    result.expect("runs");
    assert_eq!(output, "[[...], [...]]\n".repeat(3));

    // 2000 arrays, each holding the previous one.
    let depth = atlas::vm::value::MAX_PRINT_DEPTH;
    let (output, result) = run(script(
        3,
        &[
            (Opcode::NewArray, &[0.0, 0.0]),
            (Opcode::LoadNum, &[2.0, 0.0]),
            (Opcode::NewArray, &[1.0, 0.0]),
            (Opcode::Push, &[1.0, 0.0]),
            (Opcode::Mov, &[0.0, 1.0]),
            (Opcode::LoopLtK, &[2.0, 1.0, 2000.0, -12.0]),
            (Opcode::Print, &[0.0]),
            (Opcode::RetVoid, &[]),
        ],
    ));
    result.expect("runs");
    let expected = format!("{}[...]{}\n", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(output, expected);
}

/// Verified bytecode can nest arrays 100 000 deep (each holding the previous one);
/// dropping the chain recursed once per level and overflowed the stack (found while
/// checking the verify target's deep-nesting findings; its budget keeps it shallower).
#[test]
fn deeply_nested_arrays_drop() {
    let module = script(
        3,
        &[
            (Opcode::NewArray, &[0.0, 0.0]),
            (Opcode::LoadNum, &[2.0, 0.0]),
            (Opcode::NewArray, &[1.0, 0.0]),
            (Opcode::Push, &[1.0, 0.0]),
            (Opcode::Mov, &[0.0, 1.0]),
            (Opcode::LoopLtK, &[2.0, 1.0, 100_000.0, -12.0]),
            (Opcode::ArrayLen, &[1.0, 0.0]),
            (Opcode::Print, &[1.0]),
            (Opcode::RetVoid, &[]),
        ],
    );
    let module = atlas::verify::verify(module).expect("the verifier accepts the module");
    let mut out = Vec::new();
    vm::run_module(Rc::new(module), Options::default(), &mut out).expect("runs");
    assert_eq!(out, b"1\n");
}

/// The metered loop read the clock every 4096 instructions; when each one builds 16 MB
/// (a `concat` of 255 registers holding 64 KiB each) that is 64 GB between two reads,
/// and a 0.1 s time limit stopped the run after seconds (a timeout of the verify fuzz
/// target, with smaller strings under ASan). The clock is also read after every
/// megabyte built.
#[test]
fn time_limit_holds_when_each_instruction_builds_megabytes() {
    let mut code: Vec<(Opcode, &[f64])> = Vec::new();
    let registers: Vec<[f64; 2]> = (0..255).map(|r| [r as f64, 0.0]).collect();
    for operands in &registers {
        code.push((Opcode::LoadConst, operands));
    }
    code.push((Opcode::Concat, &[255.0, 0.0, 255.0]));
    code.push((Opcode::Jump, &[-4.0]));
    let module = script_with(256, vec![Value::str("x".repeat(64 << 10))], &code);
    let module = atlas::verify::verify(module).expect("the verifier accepts the module");
    let options = Options {
        max_instructions: Some(u64::MAX),
        timeout: Some(std::time::Duration::from_millis(100)),
        ..Options::default()
    };
    let start = std::time::Instant::now();
    let mut out = Vec::new();
    let error = vm::run_module(Rc::new(module), options, &mut out).expect_err("times out");
    assert_eq!(error.message, "time limit of 0.1 s reached");
    let elapsed = start.elapsed();
    assert!(elapsed.as_secs_f64() < 2.0, "stopped after {elapsed:?}");
}
