//! `verify`: modules built from fuzzer data through the bytecode verifier, and every
//! module it accepts through the VM.
//!
//! The VM reads operands and registers without bounds checks (see the SAFETY comments of
//! `src/vm/dispatch.rs`); it relies on the verifier, and on handlers that tolerate values
//! of the wrong type (the verifier knows nothing of types). So verified bytecode, however
//! meaningless, must never panic, crash or touch memory it does not own, and must stop
//! at the instruction budget. Run with AddressSanitizer (cargo fuzz's default), this
//! checks exactly that.
//!
//! A module has one to four functions. Their code is either raw bytes (which mostly
//! exercise the verifier's rejections) or a list of instructions whose operands are
//! mostly reduced into range (registers below `num_regs`, jumps onto instruction starts,
//! direct calls with the callee's arity), so that much of it passes and runs.
//!
//! An accepted module runs metered, on a small instruction budget and memory limit; when
//! that run ends within them it runs again unmetered on the `match` loop and on the
//! threaded table, and all three must print the same and fail the same way (unless the
//! module can call `clock`). Then one of its functions is called the way an embedder
//! calls it (`Vm::call_function`), with null arguments.
//!
//! Ill-typed bytecode can build arrays that contain themselves, which leak (reference
//! counting) but are safe: run this target with `-detect_leaks=0` (`run.sh` does).

#![no_main]

use std::rc::Rc;

use arbitrary::Arbitrary;
use atlas::builtins::Builtin;
use atlas::bytecode::{Function, Module, Opcode, OperandKind, OperandValue};
use atlas::diag::RuntimeError;
use atlas::span::Span;
use atlas::vm::natives::{self, NATIVES};
use atlas::vm::value::Value;
use atlas::vm::{self, Dispatch, Options, Vm};
use libfuzzer_sys::fuzz_target;

/// Instructions a metered run may execute.
const BUDGET: u64 = 20_000;
const MAX_FRAMES: usize = 32;
/// Bytes of strings and arrays a metered run may hold. Small: one instruction can copy
/// that much (a `concat` of 255 registers), and the budget counts instructions.
const MAX_MEMORY: usize = 1 << 20;
/// Wall-clock limit of a metered run (the VM reads the clock every 4096 instructions and
/// after every megabyte built); outcomes that hit it are not compared.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Arbitrary)]
struct Input {
    functions: Vec<FunctionSpec>,
    globals: u8,
    script: u8,
    /// Which function `call_function` calls afterwards.
    called: u8,
}

#[derive(Debug, Arbitrary)]
struct FunctionSpec {
    arity: u8,
    num_regs: NumRegs,
    consts: Vec<ConstSpec>,
    code: CodeSpec,
}

#[derive(Debug, Arbitrary)]
enum NumRegs {
    Small(u8),
    Any(u16),
}

#[derive(Debug, Arbitrary)]
enum ConstSpec {
    Null,
    Bool(bool),
    Num(f64),
    Int(i16),
    Str(String),
    Func(u32),
    Native(u32),
    Uninit,
}

#[derive(Debug, Arbitrary)]
enum CodeSpec {
    /// Bytes as they are; the line table lists the instructions they decode to.
    Raw(Vec<u8>),
    /// Instructions with operands reduced into range, then an instruction that cannot
    /// fall through.
    Instructions(Vec<InstructionSpec>, Ending),
}

#[derive(Debug, Arbitrary)]
enum Ending {
    RetVoid,
    Ret(u8),
    None,
}

#[derive(Debug, Arbitrary)]
struct InstructionSpec {
    /// The opcode: the n-th valid one, modulo their number.
    op: u8,
    /// Operand values in encoding order (missing ones are 0).
    args: Vec<u64>,
    /// Encode the operands as given instead of reducing them into range.
    raw: bool,
}

/// The sizes the module's functions are reduced to.
struct Shape<'a> {
    functions: &'a [(u8, u16, usize)],
    globals: usize,
}

fn const_value(spec: &ConstSpec) -> Value {
    match spec {
        ConstSpec::Null => Value::Null,
        ConstSpec::Bool(b) => Value::Bool(*b),
        ConstSpec::Num(n) => Value::Num(*n),
        ConstSpec::Int(i) => Value::Num(*i as f64),
        ConstSpec::Str(s) => Value::str(s.as_str()),
        ConstSpec::Func(f) => Value::Func(*f),
        ConstSpec::Native(n) => Value::Native(*n),
        ConstSpec::Uninit => Value::Uninit,
    }
}

fn valid_opcodes() -> Vec<Opcode> {
    (0..=255u8).filter_map(Opcode::from_u8).collect()
}

/// Instruction starts of `code`, as far as it decodes.
fn decode_starts(code: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let Some(op) = Opcode::from_u8(code[at]) else {
            break;
        };
        starts.push(at);
        at += op.info().size;
    }
    starts
}

fn number_operand(arg: u64) -> f64 {
    if arg & 1 == 0 {
        // Mostly small integers: array indices, counts, loop bounds.
        ((arg >> 1) as i16 % 64) as f64
    } else {
        f64::from_bits(arg)
    }
}

/// Encodes the instructions of one function.
fn encode(
    specs: &[InstructionSpec],
    ending: &Ending,
    opcodes: &[Opcode],
    shape: &Shape,
    me: usize,
) -> Vec<u8> {
    let (_, num_regs, consts) = shape.functions[me];
    let regs = (num_regs as u64).clamp(1, 256);
    let mut ops: Vec<Opcode> = specs
        .iter()
        .map(|s| opcodes[s.op as usize % opcodes.len()])
        .collect();
    let ending_op = match ending {
        Ending::RetVoid => Some(Opcode::RetVoid),
        Ending::Ret(_) => Some(Opcode::Ret),
        Ending::None => None,
    };
    if let Some(op) = ending_op {
        ops.push(op);
    }
    let mut starts = Vec::with_capacity(ops.len());
    let mut size = 0;
    for op in &ops {
        starts.push(size);
        size += op.size();
    }
    let mut code = Vec::with_capacity(size);
    let empty = InstructionSpec {
        op: 0,
        args: match ending {
            Ending::Ret(r) => vec![*r as u64],
            _ => Vec::new(),
        },
        raw: false,
    };
    for (i, &opcode) in ops.iter().enumerate() {
        let spec = specs.get(i).unwrap_or(&empty);
        let info = opcode.info();
        code.push(opcode.discriminant());
        for (k, operand) in info.operands.iter().enumerate() {
            let arg = spec.args.get(k).copied().unwrap_or(0);
            let bytes: Vec<u8> = if spec.raw {
                arg.to_le_bytes()[..operand.kind.width()].to_vec()
            } else {
                match operand.kind {
                    OperandKind::Reg | OperandKind::Dst => vec![(arg % regs) as u8],
                    OperandKind::U8 => {
                        let argc = if opcode == Opcode::Call {
                            let callee = info
                                .operands
                                .iter()
                                .position(|o| o.kind == OperandKind::Func)
                                .and_then(|p| spec.args.get(p).copied())
                                .unwrap_or(0);
                            shape.functions[callee as usize % shape.functions.len()].0
                        } else {
                            arg as u8
                        };
                        vec![argc]
                    }
                    OperandKind::U32 => (arg as u32).to_le_bytes().to_vec(),
                    OperandKind::U64 => arg.to_le_bytes().to_vec(),
                    OperandKind::F64 => number_operand(arg).to_le_bytes().to_vec(),
                    OperandKind::Jump => {
                        let target = starts[arg as usize % starts.len()] as i64;
                        ((target - starts[i] as i64) as i32).to_le_bytes().to_vec()
                    }
                    OperandKind::Constant => {
                        ((arg % consts.max(1) as u64) as u16).to_le_bytes().to_vec()
                    }
                    OperandKind::Global => ((arg % shape.globals.max(1) as u64) as u16)
                        .to_le_bytes()
                        .to_vec(),
                    OperandKind::Func => ((arg % shape.functions.len() as u64) as u16)
                        .to_le_bytes()
                        .to_vec(),
                    OperandKind::Native => vec![(arg % NATIVES.len() as u64) as u8],
                }
            };
            code.extend_from_slice(&bytes);
        }
    }
    code
}

fn build(input: &Input) -> Option<Module> {
    let specs = &input.functions[..input.functions.len().min(4)];
    if specs.is_empty() {
        return None;
    }
    let opcodes = valid_opcodes();
    let sizes: Vec<(u8, u16, usize)> = specs
        .iter()
        .map(|f| {
            let num_regs = match f.num_regs {
                NumRegs::Small(n) => n as u16 % 32 + 1,
                NumRegs::Any(n) => n,
            };
            (f.arity, num_regs, f.consts.len().min(16))
        })
        .collect();
    let shape = Shape {
        functions: &sizes,
        globals: input.globals as usize % 8,
    };
    let functions = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let code = match &spec.code {
                CodeSpec::Raw(bytes) => bytes.clone(),
                CodeSpec::Instructions(instructions, ending) => {
                    let instructions = &instructions[..instructions.len().min(64)];
                    encode(instructions, ending, &opcodes, &shape, i)
                }
            };
            let lines = decode_starts(&code)
                .into_iter()
                .map(|at| (at as u32, Span::new(at as u32, at as u32 + 1)))
                .collect();
            Function {
                name: format!("f{i}"),
                arity: spec.arity,
                num_regs: sizes[i].1,
                code,
                consts: spec.consts.iter().take(16).map(const_value).collect(),
                lines,
                span: Span::default(),
            }
        })
        .collect::<Vec<_>>();
    let script = input.script as usize % (functions.len() + 1);
    Some(Module {
        functions,
        globals: (0..shape.globals).map(|g| format!("g{g}")).collect(),
        script: script as u16,
    })
}

/// Whether `module` can reach `clock`, whose result differs from run to run.
fn uses_clock(module: &Module) -> bool {
    let Some(clock) = natives::index_of(Builtin::Clock) else {
        return false;
    };
    module.functions.iter().any(|f| {
        let constant = f
            .consts
            .iter()
            .any(|c| matches!(c, Value::Native(n) if *n == clock as u32));
        let operand = decode_starts(&f.code).into_iter().any(|at| {
            let op = Opcode::from_u8(f.code[at]).expect("decoded");
            op.info().operands.iter().any(|o| {
                o.kind == OperandKind::Native
                    && o.read(&f.code, at) == Some(OperandValue::Int(clock as i64))
            })
        });
        constant || operand
    })
}

/// What a run printed and how it ended (the error's message and trace).
#[derive(Debug, PartialEq)]
struct Outcome {
    output: Vec<u8>,
    error: Option<(String, Vec<(String, Span)>)>,
}

fn outcome(output: Vec<u8>, result: Result<(), RuntimeError>) -> Outcome {
    Outcome {
        output,
        error: result.err().map(|e| {
            let trace = e.trace.into_iter().map(|f| (f.function, f.span)).collect();
            (e.message, trace)
        }),
    }
}

fn options(dispatch: Dispatch, metered: bool) -> Options {
    Options {
        dispatch,
        max_frames: MAX_FRAMES,
        max_stack: MAX_FRAMES * 256,
        max_instructions: metered.then_some(BUDGET),
        max_memory: metered.then_some(MAX_MEMORY),
        timeout: metered.then_some(TIMEOUT),
        ..Options::default()
    }
}

fuzz_target!(|input: Input| {
    let Some(module) = build(&input) else {
        return;
    };
    let Ok(module) = atlas::verify::verify(module) else {
        return;
    };
    let module = Rc::new(module);
    let mut output = Vec::new();
    let result = vm::run_module(
        Rc::clone(&module),
        options(Dispatch::Match, true),
        &mut output,
    );
    let metered = outcome(output, result);
    let out_of_budget = metered.error.as_ref().is_some_and(|(message, _)| {
        ["instruction limit of", "memory limit of", "time limit of"]
            .iter()
            .any(|limit| message.starts_with(limit))
    });
    if !out_of_budget && !uses_clock(&module) {
        for dispatch in [Dispatch::Match, Dispatch::Table] {
            let mut output = Vec::new();
            let result = vm::run_module(Rc::clone(&module), options(dispatch, false), &mut output);
            assert_eq!(
                metered,
                outcome(output, result),
                "the metered run and the {dispatch:?} loop disagree"
            );
        }
    }

    // A call from the host, with null arguments.
    let f = input.called as usize % module.functions.len();
    let args = vec![Value::Null; module.functions[f].arity as usize];
    let mut output = Vec::new();
    let mut vm = Vm::new(
        Rc::clone(&module),
        options(Dispatch::Match, true),
        &mut output,
    );
    let _ = vm.call_function(f as u32, &args);
});
