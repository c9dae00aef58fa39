//! Bytecode: the instruction set generated from `opcodes.toml`, compiled functions with
//! their constants and line tables, and the disassembler.

pub mod disasm;

use crate::span::Span;
use crate::vm::value::Value;

include!(concat!(env!("OUT_DIR"), "/opcodes.rs"));

/// How an operand is encoded and what it refers to (the `kind` of `opcodes.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    /// A register read (u8).
    Reg,
    /// A register written (u8).
    Dst,
    /// A small count (u8).
    U8,
    /// A count (u32).
    U32,
    /// A precomputed constant (u64).
    U64,
    /// An immediate number (f64).
    F64,
    /// A branch offset from the start of the instruction (i32).
    Jump,
    /// An index into the function's constant pool (u16).
    Constant,
    /// A global slot (u16).
    Global,
    /// A user function (u16).
    Func,
    /// A prelude function (u8).
    Native,
}

impl OperandKind {
    /// Encoded width in bytes.
    pub const fn width(self) -> usize {
        match self {
            OperandKind::Reg | OperandKind::Dst | OperandKind::U8 | OperandKind::Native => 1,
            OperandKind::Constant | OperandKind::Global | OperandKind::Func => 2,
            OperandKind::U32 | OperandKind::Jump => 4,
            OperandKind::F64 | OperandKind::U64 => 8,
        }
    }
}

/// One operand of an instruction.
#[derive(Debug, Clone, Copy)]
pub struct OperandInfo {
    pub name: &'static str,
    pub kind: OperandKind,
    /// Byte offset from the opcode byte.
    pub offset: usize,
}

/// The metadata of one opcode: its row of `opcodes.toml`.
#[derive(Debug)]
pub struct OpInfo {
    pub name: &'static str,
    /// Upper-case name shown by the disassembler.
    pub mnemonic: &'static str,
    /// Encoded size in bytes, opcode included.
    pub size: usize,
    pub operands: &'static [OperandInfo],
    /// Register effect, `"reads -- writes"`.
    pub effect: &'static str,
    pub reads: &'static [&'static str],
    pub writes: &'static [&'static str],
    pub category: Category,
    /// May branch.
    pub jumps: bool,
    /// Changes frames (call or return).
    pub calls: bool,
    /// May raise a runtime error.
    pub throws: bool,
    pub doc: &'static str,
}

/// A decoded operand value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OperandValue {
    Int(i64),
    Num(f64),
}

impl OperandInfo {
    /// Reads this operand of the instruction starting at `code[at]`; `None` when the
    /// code is too short.
    pub fn read(&self, code: &[u8], at: usize) -> Option<OperandValue> {
        let start = at + self.offset;
        let bytes = code.get(start..start + self.kind.width())?;
        Some(match self.kind {
            OperandKind::F64 => OperandValue::Num(f64::from_le_bytes(bytes.try_into().ok()?)),
            OperandKind::Jump => {
                OperandValue::Int(i32::from_le_bytes(bytes.try_into().ok()?) as i64)
            }
            OperandKind::U32 => {
                OperandValue::Int(u32::from_le_bytes(bytes.try_into().ok()?) as i64)
            }
            // Shown and compared as its bit pattern.
            OperandKind::U64 => {
                OperandValue::Int(u64::from_le_bytes(bytes.try_into().ok()?) as i64)
            }
            OperandKind::Constant | OperandKind::Global | OperandKind::Func => {
                OperandValue::Int(u16::from_le_bytes(bytes.try_into().ok()?) as i64)
            }
            OperandKind::Reg | OperandKind::Dst | OperandKind::U8 | OperandKind::Native => {
                OperandValue::Int(bytes[0] as i64)
            }
        })
    }
}

/// A compiled function (the top level is one too, named `<script>`).
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub arity: u8,
    /// Registers the frame needs (parameters, locals and temporaries).
    pub num_regs: u16,
    pub code: Vec<u8>,
    pub consts: Vec<Value>,
    /// For every instruction, its start offset and the source span it came from,
    /// in code order.
    pub lines: Vec<(u32, Span)>,
    /// Span of the declaration's name.
    pub span: Span,
}

impl Function {
    /// Source span of the instruction containing code offset `offset`.
    pub fn span_at(&self, offset: usize) -> Span {
        let i = self
            .lines
            .partition_point(|&(start, _)| start as usize <= offset);
        if i == 0 {
            self.span
        } else {
            self.lines[i - 1].1
        }
    }

    /// Start offsets of all instructions, in order.
    pub fn instruction_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.lines.iter().map(|&(start, _)| start as usize)
    }
}

/// A compiled program: functions (the script is the last one) and global slot names.
#[derive(Debug, Clone)]
pub struct Module {
    pub functions: Vec<Function>,
    pub globals: Vec<String>,
    /// Index of the top-level function.
    pub script: u16,
}
