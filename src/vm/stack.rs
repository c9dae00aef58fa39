//! The value stack and the call frames.

use super::value::Value;

/// A call frame: which function runs, where its registers start on the value stack,
/// and where the caller resumes.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub func: u32,
    pub base: usize,
    pub ret_ip: *const u8,
}

/// Registers preallocated before the first run; the stack grows past this only for deep
/// recursion, geometrically, up to the configured limit.
pub const INITIAL_REGISTERS: usize = 1024;

/// Frames preallocated before the first run (24 bytes each).
pub const INITIAL_FRAMES: usize = 256;

pub struct Stack {
    values: Vec<Value>,
    /// Room for `INITIAL_FRAMES` at first, doubling as recursion deepens, up to
    /// `max_frames` (so a huge limit costs nothing until a program uses it).
    frames: Vec<Frame>,
    max_frames: usize,
    max_values: usize,
}

impl Stack {
    pub fn new(max_frames: usize, max_values: usize) -> Stack {
        Stack {
            values: vec![Value::Null; INITIAL_REGISTERS.min(max_values)],
            frames: Vec::with_capacity(max_frames.min(INITIAL_FRAMES)),
            max_frames,
            max_values,
        }
    }

    /// Drops every frame (and the values they held).
    pub fn reset(&mut self) {
        self.frames.clear();
        self.values.fill(Value::Null);
    }

    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    #[inline(always)]
    pub fn top(&self) -> &Frame {
        // The script frame stays until the program ends.
        self.frames.last().expect("a frame is active")
    }

    /// Pushes a frame whose `num_regs` registers start at `base`, growing the value stack
    /// if needed. Returns a pointer to its first register, or `None` on stack overflow
    /// (too many frames or registers).
    #[inline(always)]
    pub fn push_frame(
        &mut self,
        func: u32,
        base: usize,
        num_regs: usize,
        ret_ip: *const u8,
    ) -> Option<*mut Value> {
        if self.frames.len() == self.max_frames {
            return None;
        }
        if base + num_regs > self.values.len() {
            self.grow(base + num_regs)?;
        }
        self.frames.push(Frame { func, base, ret_ip });
        // SAFETY: base + num_regs <= values.len() was just ensured.
        Some(unsafe { self.values.as_mut_ptr().add(base) })
    }

    /// Pops the current frame; returns it and the caller's registers, or `None` when
    /// the popped frame was the last one.
    #[inline(always)]
    pub fn pop_frame(&mut self) -> (Frame, Option<*mut Value>) {
        let frame = self.frames.pop().expect("a frame is active");
        let caller = self.frames.last().map(|caller| {
            // SAFETY: the caller's base was in bounds when it was pushed, and the value
            // stack never shrinks.
            unsafe { self.values.as_mut_ptr().add(caller.base) }
        });
        (frame, caller)
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) -> Option<()> {
        if needed > self.max_values {
            return None;
        }
        let new_len = (self.values.len() * 2).max(needed).min(self.max_values);
        self.values.resize(new_len, Value::Null);
        Some(())
    }

    /// Register `index` of the whole value stack, counted from the bottom (an embedding
    /// hook: a call from the host leaves its result in register 0).
    pub fn value(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// Number of registers currently allocated (a test hook: the stack must not grow
    /// for programs within the preallocated depth).
    pub fn capacity(&self) -> usize {
        self.values.len()
    }
}
