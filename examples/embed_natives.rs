//! Host functions: Rust closures that scripts call, with signatures the type checker
//! sees, errors that become Atlas runtime errors, and output captured in a buffer.
//!
//! Run with `cargo run --example embed_natives`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use atlas::{Engine, ErrorKind, OutputBuffer};

pub fn main() {
    let mut engine = Engine::new();
    let out = OutputBuffer::new();
    engine.set_output(out.clone());

    // Plain functions of numbers, strings, bools and arrays.
    engine
        .register_fn("hypot", |a: f64, b: f64| a.hypot(b))
        .expect("a valid name")
        .register_fn("shout", |s: String| format!("{}!", s.to_uppercase()))
        .expect("a valid name")
        .register_fn("total", |xs: Vec<f64>| xs.iter().sum::<f64>())
        .expect("a valid name");

    // A function with state of the host: a key-value store.
    let store: Rc<RefCell<HashMap<String, String>>> = Rc::default();
    let writer = Rc::clone(&store);
    engine
        .register_fn("setting", move |key: String, value: String| {
            writer.borrow_mut().insert(key, value);
        })
        .expect("a valid name");

    // A function that can fail: `Err` becomes a runtime error with a stack trace.
    engine
        .register_fn("env", |name: String| match name.as_str() {
            "HOME" => Ok("/home/atlas".to_string()),
            _ => Err(format!("no variable {name}")),
        })
        .expect("a valid name");

    engine
        .eval::<()>(
            r#"
            print(hypot(3, 4));
            print(shout("hello"));
            print(total([1, 2, 3.5]));
            setting("theme", "dark");
            print(env("HOME"));
            "#,
        )
        .expect("runs");
    print!("{}", out.contents());
    assert_eq!(out.take(), "5\nHELLO!\n6.5\n/home/atlas\n");
    assert_eq!(store.borrow()["theme"], "dark");

    // The checker knows the signatures: a wrong call never runs.
    let error = engine.eval::<()>("print(hypot(3));").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Compile);
    println!("{error}");

    // A failing host function: the error names the Atlas functions that called it.
    let error = engine
        .eval::<()>("fn home() -> string {\n    return env(\"HOME2\");\n}\nprint(home());")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(error.message(), "no variable HOME2");
    assert_eq!(error.trace()[0].function, "home");
    println!("{error}");
}
