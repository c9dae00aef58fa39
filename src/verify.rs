//! The bytecode verifier. Every function passes it before it runs; the VM's unchecked
//! operand reads and register accesses rely on exactly what it checks:
//! - every instruction decodes to an opcode and lies wholly within the code;
//! - register operands are below the function's `num_regs` (and `base[argc]` windows
//!   end within it); constant, global, function and native indices exist, and so do the
//!   functions and natives that function values in the constant pool name;
//! - jumps land on instruction starts, and the code ends with an instruction that
//!   cannot fall through (`jump`, `ret`, `ret_void`);
//! - direct calls pass the callee's arity; the line table has one entry per instruction.
//!
//! The VM runs only a [`VerifiedModule`], which only [`verify`] makes, so safe code cannot
//! hand the VM bytecode these facts do not hold for (a hand-built `Module` with a wild
//! jump, say):
//!
//! ```compile_fail,E0308
//! // A `Module` that was never verified (here the compiler's output, taken apart; it could
//! // as well be built by hand) is not something the VM runs.
//! use std::rc::Rc;
//! let verified = atlas::driver::compile_source("print(1);", Default::default()).unwrap();
//! let module: atlas::bytecode::Module = verified.module().clone();
//! let mut out = Vec::new();
//! let _ = atlas::vm::run_module(Rc::new(module), atlas::vm::Options::default(), &mut out);
//! ```
//!
//! ```compile_fail,E0451
//! // Nor can one be wrapped by hand: the field is private.
//! let verified = atlas::driver::compile_source("print(1);", Default::default()).unwrap();
//! let module: atlas::bytecode::Module = verified.module().clone();
//! let _ = atlas::verify::VerifiedModule { module };
//! ```
//!
//! The path that compiles goes through the verifier:
//!
//! ```
//! use std::rc::Rc;
//! let verified = atlas::driver::compile_source("print(\"one\");", Default::default()).unwrap();
//! let mut module: atlas::bytecode::Module = verified.module().clone();
//! module.functions[module.script as usize].consts[0] = atlas::vm::value::Value::str("three");
//! let module = atlas::verify::verify(module).expect("still verifies");
//! let mut out = Vec::new();
//! atlas::vm::run_module(Rc::new(module), atlas::vm::Options::default(), &mut out).unwrap();
//! assert_eq!(out, b"three\n");
//! ```

use std::ops::Deref;

use crate::bytecode::{Function, Module, Opcode, OperandKind, OperandValue};
use crate::vm::natives::NATIVES;
use crate::vm::value::Value;

/// A module the verifier accepted, and the only form of bytecode the VM runs: its field
/// is private and [`verify`] is its one constructor, so every `unsafe` operand read and
/// register access in `src/vm/` rests on the checks above. Reading the module is free
/// (`Deref`); changing it means `into_inner` and verifying again.
#[derive(Debug, Clone)]
pub struct VerifiedModule {
    module: Module,
}

impl VerifiedModule {
    /// The verified bytecode.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Gives the module back, to change it (it must be verified again to run).
    pub fn into_inner(self) -> Module {
        self.module
    }
}

impl Deref for VerifiedModule {
    type Target = Module;

    fn deref(&self) -> &Module {
        &self.module
    }
}

/// Checks a whole module and, when it passes, makes it runnable; the error names the
/// function and offset.
pub fn verify(module: Module) -> Result<VerifiedModule, String> {
    check(&module)?;
    Ok(VerifiedModule { module })
}

/// The checks of [`verify`], on a borrowed module.
fn check(module: &Module) -> Result<(), String> {
    if module.script as usize >= module.functions.len() {
        return Err(format!("script index {} out of range", module.script));
    }
    for function in &module.functions {
        verify_function(module, function).map_err(|e| format!("in '{}': {e}", function.name))?;
    }
    Ok(())
}

fn verify_function(module: &Module, function: &Function) -> Result<(), String> {
    let code = &function.code;
    let num_regs = function.num_regs as usize;
    if num_regs == 0 || num_regs > 256 || function.arity as usize > num_regs {
        return Err(format!("{num_regs} registers for arity {}", function.arity));
    }
    // `call_value` indexes the function and native tables with a function value.
    for (k, constant) in function.consts.iter().enumerate() {
        let (index, limit, what) = match constant {
            Value::Func(f) => (*f as usize, module.functions.len(), "function"),
            Value::Native(n) => (*n as usize, NATIVES.len(), "native"),
            _ => continue,
        };
        if index >= limit {
            return Err(format!(
                "constant {k} names {what} {index}, out of range ({limit} {what}s)"
            ));
        }
    }
    let mut starts = vec![false; code.len() + 1];
    let mut jumps = Vec::new();
    let mut at = 0;
    let mut last = None;
    while at < code.len() {
        let op = Opcode::from_u8(code[at])
            .ok_or_else(|| format!("offset {at}: invalid opcode byte {}", code[at]))?;
        let info = op.info();
        if at + info.size > code.len() {
            return Err(format!("offset {at}: {} is cut off", info.mnemonic));
        }
        starts[at] = true;
        let operand = |name: &str| -> i64 {
            info.operands
                .iter()
                .find(|o| o.name == name)
                .and_then(|o| o.read(code, at))
                .map_or(0, |v| match v {
                    OperandValue::Int(i) => i,
                    OperandValue::Num(_) => 0,
                })
        };
        for o in info.operands {
            let value = match o.read(code, at) {
                Some(OperandValue::Int(v)) => v,
                _ => continue,
            };
            let (limit, what) = match o.kind {
                OperandKind::Reg | OperandKind::Dst => (num_regs, "register"),
                OperandKind::Constant => (function.consts.len(), "constant"),
                OperandKind::Global => (module.globals.len(), "global"),
                OperandKind::Func => (module.functions.len(), "function"),
                OperandKind::Native => (NATIVES.len(), "native"),
                OperandKind::Jump => {
                    jumps.push((at, at as i64 + value));
                    continue;
                }
                OperandKind::U8 | OperandKind::U32 | OperandKind::U64 | OperandKind::F64 => {
                    continue
                }
            };
            if value < 0 || value as usize >= limit {
                return Err(format!(
                    "offset {at}: {} operand {} = {value} out of range ({limit} {what}s)",
                    info.mnemonic, o.name
                ));
            }
        }
        // Register windows `base[argc]`: the call's arguments (at least its result slot).
        for window in info.reads.iter().chain(info.writes) {
            if let Some((base, count)) = window.split_once('[') {
                let count = count.trim_end_matches(']');
                let end = operand(base) + operand(count).max(1);
                if end as usize > num_regs {
                    return Err(format!(
                        "offset {at}: {} argument window ends at register {end}, past {num_regs}",
                        info.mnemonic
                    ));
                }
            }
        }
        if op == Opcode::Call {
            let callee = &module.functions[operand("f") as usize];
            if callee.arity as i64 != operand("argc") {
                return Err(format!(
                    "offset {at}: CALL passes {} arguments to '{}' of arity {}",
                    operand("argc"),
                    callee.name,
                    callee.arity
                ));
            }
        }
        if op == Opcode::MakeClosure {
            // A call of the closure copies its cells into the registers after the
            // parameters: the function must have them.
            let callee = &module.functions[operand("f") as usize];
            if callee.arity as i64 + operand("count") > callee.num_regs as i64 {
                return Err(format!(
                    "offset {at}: MAKE_CLOSURE gives {} cells to '{}', which has registers for {}",
                    operand("count"),
                    callee.name,
                    callee.num_regs as i64 - callee.arity as i64
                ));
            }
        }
        last = Some(op);
        at += info.size;
    }
    for (from, target) in jumps {
        if target < 0 || target as usize >= code.len() || !starts[target as usize] {
            return Err(format!(
                "offset {from}: jump to {target}, not an instruction"
            ));
        }
    }
    if !matches!(last, Some(Opcode::Jump | Opcode::Ret | Opcode::RetVoid)) {
        return Err("the code can run past its end".to_string());
    }
    let line_starts: Vec<usize> = function.instruction_starts().collect();
    let code_starts: Vec<usize> = (0..code.len()).filter(|&i| starts[i]).collect();
    if line_starts != code_starts {
        return Err("the line table does not match the instructions".to_string());
    }
    Ok(())
}
