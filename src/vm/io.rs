//! Handlers of the `io` opcodes.

use super::dispatch::{Cx, Flow, IoHandlers};
use super::value::Value;
use super::Vm;

impl IoHandlers for Vm<'_> {
    #[inline(always)]
    fn print(&mut self, cx: &mut Cx, a: u8) -> Flow {
        self.print_register(cx, a)
    }
}

impl Vm<'_> {
    /// Out of line: the text buffer's address escapes into the writer, which would keep
    /// the threaded handler from tail-calling the next one.
    #[inline(never)]
    fn print_register(&mut self, cx: &mut Cx, a: u8) -> Flow {
        let result = match cx.reg(a) {
            Value::Str(s) => {
                let s = s.clone();
                self.emit(s.as_str()).and_then(|()| self.emit("\n"))
            }
            value => match self.display(value) {
                Some(mut text) => {
                    text.push('\n');
                    self.emit(&text)
                }
                None => return self.fail_memory(cx),
            },
        };
        match result {
            Ok(()) => Flow::Next,
            Err(e) => self.fail(cx, format!("cannot write output: {e}")),
        }
    }
}
