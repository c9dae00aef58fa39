//! What a script may reach outside the VM (LANGUAGE.md version 2, "Input, arguments and
//! files"): its arguments, standard input and files. All of it is off unless the host
//! turns it on ([`HostIo`]); the `atlas` command line turns everything on, an embedding
//! [`crate::api::Engine`] nothing by default.

use std::cell::RefCell;
use std::io::{BufRead, ErrorKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::value::{Value, STR_OVERHEAD};
use super::Runtime;

/// The outside world a run may use.
#[derive(Default)]
pub struct HostIo {
    /// What `args()` returns; `None`: `args()` is an error.
    pub args: Option<Vec<String>>,
    /// Where `readLine`, `eof` and `readAll` read; `None`: they are errors.
    pub stdin: Option<Box<dyn BufRead>>,
    /// Whether `readFile` and `writeFile` may touch the file system.
    pub files: bool,
    /// Set while a native waits for input (everything printed before is flushed by
    /// then), so that a Ctrl-C handler can end the process at once instead of waiting
    /// for the next instruction.
    pub waiting_for_input: Arc<AtomicBool>,
}

impl HostIo {
    /// Everything on, standard input being the process's: what `atlas run` uses.
    pub fn process(args: Vec<String>) -> HostIo {
        HostIo {
            args: Some(args),
            stdin: Some(Box::new(std::io::stdin().lock())),
            files: true,
            waiting_for_input: Arc::default(),
        }
    }
}

impl std::fmt::Debug for HostIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostIo")
            .field("args", &self.args)
            .field("stdin", &self.stdin.is_some())
            .field("files", &self.files)
            .finish()
    }
}

/// The reader behind `readLine`, `eof` and `readAll`, shared by the natives of one run.
pub(super) type Stdin = RefCell<Option<Box<dyn BufRead>>>;

const STDIN_OFF: &str = "standard input is not available here (the host did not turn it on)";

fn with_stdin<T>(
    rt: &Runtime,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T, String>,
) -> Result<T, String> {
    let mut stdin = rt.stdin.borrow_mut();
    let reader = stdin.as_mut().ok_or_else(|| STDIN_OFF.to_string())?;
    rt.waiting_for_input.store(true, Ordering::SeqCst);
    let result = read(reader.as_mut());
    rt.waiting_for_input.store(false, Ordering::SeqCst);
    result
}

/// Appends from `reader` to `bytes` up to and including the first `stop` byte (all of it
/// when `stop` is `None`), checking the memory limit chunk by chunk: a line of a
/// gigabyte (or `/dev/zero`) is the memory error, not an abort.
fn read_bounded(
    rt: &Runtime,
    reader: &mut dyn BufRead,
    stop: Option<u8>,
    bytes: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read standard input: {}", reason(&e))),
        };
        if chunk.is_empty() {
            return Ok(());
        }
        let (take, done) = match stop.and_then(|b| chunk.iter().position(|&c| c == b)) {
            Some(at) => (at + 1, true),
            None => (chunk.len(), false),
        };
        if rt.limits_memory() {
            rt.reserve(bytes.len() + take + STR_OVERHEAD)?;
        }
        bytes
            .try_reserve(take)
            .map_err(|_| "cannot read standard input: out of memory".to_string())?;
        bytes.extend_from_slice(&chunk[..take]);
        reader.consume(take);
        if done {
            return Ok(());
        }
    }
}

fn text(bytes: Vec<u8>, what: &str) -> Result<Value, String> {
    String::from_utf8(bytes)
        .map(Value::str)
        .map_err(|_| format!("{what} is not valid UTF-8"))
}

/// `readLine()`: the next line without its `\n` or `\r\n`; `end of input` after the last.
pub(super) fn read_line(rt: &Runtime, _: &[Value]) -> Result<Value, String> {
    with_stdin(rt, |reader| {
        let mut line = Vec::new();
        read_bounded(rt, reader, Some(b'\n'), &mut line)?;
        if line.is_empty() {
            return Err("end of input".to_string());
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        text(line, "the line read from standard input")
    })
}

/// `eof()`: whether standard input has nothing more (waits for input to know).
pub(super) fn eof(rt: &Runtime, _: &[Value]) -> Result<Value, String> {
    with_stdin(rt, |reader| loop {
        match reader.fill_buf() {
            Ok(chunk) => return Ok(Value::Bool(chunk.is_empty())),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read standard input: {e}")),
        }
    })
}

/// `readAll()`: the rest of standard input (`""` at its end).
pub(super) fn read_all(rt: &Runtime, _: &[Value]) -> Result<Value, String> {
    with_stdin(rt, |reader| {
        let mut all = Vec::new();
        read_bounded(rt, reader, None, &mut all)?;
        text(all, "standard input")
    })
}

/// `args()`: the words after the script on the command line.
pub(super) fn args(rt: &Runtime, _: &[Value]) -> Result<Value, String> {
    match &rt.args {
        Some(words) => Ok(Value::array(
            words.iter().map(|w| Value::str(w.as_str())).collect(),
        )),
        None => Err("args() is not available here (the host did not turn it on)".to_string()),
    }
}

const FILES_OFF: &str = "files are not available here (the host did not turn them on)";

fn path(args: &[Value]) -> &str {
    match args.first() {
        Some(Value::Str(s)) => s.as_str(),
        _ => "",
    }
}

/// The reason of an I/O error without Rust's " (os error N)" suffix.
fn reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// `readFile(path)`: the file's text; a missing file, a permission, a directory or bytes
/// that are not UTF-8 are errors naming the path and the reason.
pub(super) fn read_file(rt: &Runtime, args: &[Value]) -> Result<Value, String> {
    if !rt.files {
        return Err(FILES_OFF.to_string());
    }
    let path = path(args);
    let fail = |reason: String| format!("cannot read file \"{path}\": {reason}");
    let file = std::fs::File::open(path).map_err(|e| fail(reason(&e)))?;
    let mut reader = std::io::BufReader::new(file);
    let mut bytes = Vec::new();
    read_bounded(rt, &mut reader, None, &mut bytes).map_err(|e| {
        // `read_bounded` speaks of standard input; this is the file.
        fail(
            e.trim_start_matches("cannot read standard input: ")
                .to_string(),
        )
    })?;
    // A directory opens on some systems and fails at the first read.
    String::from_utf8(bytes)
        .map(Value::str)
        .map_err(|_| fail("it is not valid UTF-8".to_string()))
}

/// `writeFile(path, text)`: creates or replaces the file.
pub(super) fn write_file(rt: &Runtime, args: &[Value]) -> Result<Value, String> {
    if !rt.files {
        return Err(FILES_OFF.to_string());
    }
    let path = path(args);
    let text = match args.get(1) {
        Some(Value::Str(s)) => s.as_str(),
        _ => "",
    };
    std::fs::write(path, text)
        .map(|()| Value::Null)
        .map_err(|e| format!("cannot write file \"{path}\": {}", reason(&e)))
}
