//! The disassembler: a readable listing driven by the generated opcode metadata.

use std::fmt::Write;

use super::{Function, Module, Opcode, OperandKind, OperandValue};
use crate::span::LineIndex;
use crate::stdlib::number::format_number;
use crate::vm::natives::NATIVES;
use crate::vm::value::Value;

/// Lists every function of `module`: offset, source line, opcode, operands (constants,
/// globals, functions and jump targets resolved).
pub fn disassemble(module: &Module, source: &str) -> String {
    let lines = LineIndex::new(source);
    let mut out = String::new();
    // The script first, then functions in declaration order.
    let order = std::iter::once(module.script as usize)
        .chain((0..module.functions.len()).filter(|&i| i != module.script as usize));
    for index in order {
        disassemble_function(&mut out, module, &module.functions[index], &lines);
        out.push('\n');
    }
    out
}

/// Lists function `index` of `module` alone, as [`disassemble`] lists each function
/// (empty for an index out of range).
pub fn disassemble_one(module: &Module, index: usize, source: &str) -> String {
    let mut out = String::new();
    if let Some(f) = module.functions.get(index) {
        disassemble_function(&mut out, module, f, &LineIndex::new(source));
    }
    out
}

fn disassemble_function(out: &mut String, module: &Module, f: &Function, lines: &LineIndex) {
    let _ = writeln!(
        out,
        "== {} (arity {}, {} registers, {} bytes) ==",
        f.name,
        f.arity,
        f.num_regs,
        f.code.len()
    );
    let mut previous_line = None;
    for &(start, span) in &f.lines {
        let at = start as usize;
        let line = lines.line_of(span.start) + 1;
        let line_text = if previous_line == Some(line) {
            "   |".to_string()
        } else {
            format!("{line:4}")
        };
        previous_line = Some(line);
        let Some(op) = f.code.get(at).and_then(|&b| Opcode::from_u8(b)) else {
            let _ = writeln!(out, "{at:04} {line_text}  <invalid>");
            continue;
        };
        let operands: Vec<String> = op
            .info()
            .operands
            .iter()
            .map(|o| match o.read(&f.code, at) {
                Some(value) => operand_text(module, f, o.kind, value, at),
                None => "<cut off>".to_string(),
            })
            .collect();
        let _ = writeln!(
            out,
            "{at:04} {line_text}  {:<12} {}",
            op.info().mnemonic,
            operands.join(", ")
        );
    }
}

fn operand_text(
    module: &Module,
    f: &Function,
    kind: OperandKind,
    value: OperandValue,
    at: usize,
) -> String {
    let int = match value {
        OperandValue::Num(x) => return format_number(x),
        OperandValue::Int(i) => i,
    };
    let index = int as usize;
    match kind {
        OperandKind::Reg | OperandKind::Dst => format!("r{int}"),
        OperandKind::Jump => format!("-> {:04}", at as i64 + int),
        OperandKind::Constant => match f.consts.get(index) {
            Some(Value::Str(s)) => format!("k{int} {:?}", s.as_str()),
            Some(other) => format!("k{int} {other:?}"),
            None => format!("k{int} <missing>"),
        },
        OperandKind::Global => match module.globals.get(index) {
            Some(name) => format!("g{int} ({name})"),
            None => format!("g{int}"),
        },
        OperandKind::Func => match module.functions.get(index) {
            Some(callee) => format!("<fn {}>", callee.name),
            None => format!("f{int}"),
        },
        OperandKind::Native => match NATIVES.get(index) {
            Some((builtin, _)) => format!("<fn {}>", builtin.name()),
            None => format!("n{int}"),
        },
        OperandKind::U8 | OperandKind::U32 => int.to_string(),
        OperandKind::U64 => format!("{:#x}", int as u64),
        OperandKind::F64 => unreachable!("numbers returned above"),
    }
}
