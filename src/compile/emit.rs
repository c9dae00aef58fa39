//! Encoding instructions: the operand types and the typed emitters.
//!
//! `build.rs` generates one emitter per row of `opcodes.toml` (`FnState::emit_add_num_k(dst,
//! a, k, span)`, see `codegen/emit.rs`), taking each operand as the Rust type of its kind:
//! passing a constant index where a register belongs does not compile. The index types
//! can only be made through a constructor that checks the operand's range, so an index
//! too large for its field is a compile error of the program (`too many ...`), never a
//! silently truncated operand. Jump emitters write a placeholder offset and return the
//! [`JumpSite`] to [`patch`](FnState::patch), which checks that the offset fits.

use super::FnState;
use crate::bytecode::Opcode;
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::FnId;

/// User functions a program may declare: function operands are two bytes, and the
/// script takes the index after the last function.
pub(super) const MAX_FUNCTIONS: u32 = u16::MAX as u32;

/// A register of the current frame, read or written (`reg` and `dst` operands). Made
/// by `FnState::alloc`, which enforces the register limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reg(u8);

impl Reg {
    /// The register numbered `index`; `None` beyond the 256 a byte can name.
    pub(super) fn new(index: u16) -> Option<Reg> {
        u8::try_from(index).ok().map(Reg)
    }

    pub(super) fn index(self) -> u16 {
        self.0 as u16
    }
}

/// An index into the function's constant pool (`const` operands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ConstIdx(u16);

impl ConstIdx {
    pub(super) fn new(index: usize, span: Span) -> Result<ConstIdx, CompileError> {
        u16::try_from(index)
            .map(ConstIdx)
            .map_err(|_| CompileError::new("too many string constants in one function", span))
    }
}

/// A global variable's slot (`global` operands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GlobalSlot(u16);

impl GlobalSlot {
    pub(super) fn new(index: usize, span: Span) -> Result<GlobalSlot, CompileError> {
        u16::try_from(index)
            .map(GlobalSlot)
            .map_err(|_| CompileError::new("too many global variables", span))
    }
}

/// A user function (`func` operands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FuncIdx(u16);

impl FuncIdx {
    pub(super) fn new(id: FnId, span: Span) -> Result<FuncIdx, CompileError> {
        if id >= MAX_FUNCTIONS {
            return Err(CompileError::new(
                format!("too many functions (limit {MAX_FUNCTIONS})"),
                span,
            ));
        }
        Ok(FuncIdx(id as u16))
    }

    pub(super) fn id(self) -> FnId {
        self.0 as FnId
    }
}

/// A prelude function's index in the native table (`native` operands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NativeIdx(u8);

impl NativeIdx {
    pub(super) fn new(index: u8) -> NativeIdx {
        NativeIdx(index)
    }
}

/// The jump operand of an emitted instruction, to be set by [`FnState::patch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a jump must be patched"]
pub(super) struct JumpSite {
    /// Where the instruction starts: offsets count from there.
    at: usize,
    /// Where its jump operand starts.
    operand: usize,
}

/// An operand written into the code, little endian, in the width of its kind.
trait Encode {
    fn encode(self, code: &mut Vec<u8>);
}

macro_rules! encode_as_bytes {
    ($($ty:ty => |$v:ident| $bytes:expr),* $(,)?) => {
        $(impl Encode for $ty {
            fn encode(self, code: &mut Vec<u8>) {
                let $v = self;
                code.extend_from_slice(&$bytes);
            }
        })*
    };
}

encode_as_bytes! {
    u8 => |v| [v],
    u32 => |v| v.to_le_bytes(),
    u64 => |v| v.to_le_bytes(),
    f64 => |v| v.to_le_bytes(),
    i32 => |v| v.to_le_bytes(),
    Reg => |v| [v.0],
    ConstIdx => |v| v.0.to_le_bytes(),
    GlobalSlot => |v| v.0.to_le_bytes(),
    FuncIdx => |v| v.0.to_le_bytes(),
    NativeIdx => |v| [v.0],
}

impl FnState {
    /// Starts an instruction: records its span and writes the opcode byte; returns its
    /// offset.
    fn start(&mut self, op: Opcode, span: Span) -> usize {
        let at = self.code.len();
        self.lines.push((at as u32, span));
        self.code.push(op.discriminant());
        at
    }

    /// Sets the jump at `site` to land on `target`.
    pub(super) fn patch(&mut self, site: JumpSite, target: usize) -> Result<(), CompileError> {
        let offset = i32::try_from(target as i64 - site.at as i64).map_err(|_| {
            CompileError::new(
                format!(
                    "'{}' is too large: a jump would span more than 2 GiB of code",
                    self.name
                ),
                self.span,
            )
        })?;
        self.code[site.operand..site.operand + 4].copy_from_slice(&offset.to_le_bytes());
        Ok(())
    }

    pub(super) fn patch_all(
        &mut self,
        sites: Vec<JumpSite>,
        target: usize,
    ) -> Result<(), CompileError> {
        sites
            .into_iter()
            .try_for_each(|site| self.patch(site, target))
    }
}

include!(concat!(env!("OUT_DIR"), "/emit.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> FnState {
        FnState::new("f".to_string(), Span::default())
    }

    #[test]
    fn emitters_encode_their_operands_in_row_order() {
        let mut f = state();
        let dst = f.alloc(Span::default()).unwrap();
        let a = f.alloc(Span::default()).unwrap();
        f.emit_add_num_k(dst, a, 2.5, Span::default());
        let mut expected = vec![Opcode::AddNumK.discriminant(), 0, 1];
        expected.extend_from_slice(&2.5f64.to_le_bytes());
        assert_eq!(f.code, expected);
        assert_eq!(f.lines.len(), 1);
    }

    #[test]
    fn a_jump_is_patched_relative_to_its_instruction() {
        let mut f = state();
        f.emit_ret_void(Span::default());
        let site = f.emit_jump(Span::default());
        assert_eq!(site.at, 1);
        f.patch(site, 0).unwrap();
        assert_eq!(f.code[2..6], (-1i32).to_le_bytes());
    }

    #[test]
    fn a_jump_beyond_the_i32_range_is_a_compile_error() {
        let mut f = state();
        let site = f.emit_jump(Span::default());
        let error = f.patch(site, i32::MAX as usize + 1).unwrap_err();
        assert!(error.message.contains("too large"), "{}", error.message);
        // Backwards too.
        let far = JumpSite {
            at: i32::MAX as usize + 2,
            operand: 1,
        };
        assert!(f.patch(far, 0).is_err());
        assert!(f.patch(site, i32::MAX as usize).is_ok());
    }

    #[test]
    fn indices_beyond_their_operand_are_compile_errors() {
        let span = Span::default();
        assert!(ConstIdx::new(65_535, span).is_ok());
        assert_eq!(
            ConstIdx::new(65_536, span).unwrap_err().message,
            "too many string constants in one function"
        );
        assert!(GlobalSlot::new(65_535, span).is_ok());
        assert_eq!(
            GlobalSlot::new(65_536, span).unwrap_err().message,
            "too many global variables"
        );
        assert!(FuncIdx::new(MAX_FUNCTIONS - 1, span).is_ok());
        assert_eq!(
            FuncIdx::new(MAX_FUNCTIONS, span).unwrap_err().message,
            "too many functions (limit 65535)"
        );
        assert_eq!(Reg::new(255).map(Reg::index), Some(255));
        assert_eq!(Reg::new(256), None);
    }
}
