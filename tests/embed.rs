//! The embedding API (`atlas::Engine`): evaluation with typed results, conversions and
//! their errors, compile once / run many, calls by name, globals, host functions (typed
//! signatures, errors, panics, the `call_host` opcode under both dispatch loops and on a
//! small stack), output redirection, limits, error rendering identical to the command
//! line's, and the `examples/embed_*.rs` programs.

use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;

use atlas::vm::Dispatch;
use atlas::{Dynamic, Engine, ErrorKind, Limits, OutputBuffer, Type};

#[path = "../examples/embed_call.rs"]
mod embed_call;
#[path = "../examples/embed_eval.rs"]
mod embed_eval;
#[path = "../examples/embed_natives.rs"]
mod embed_natives;

/// An engine printing into a buffer.
fn engine() -> (Engine, OutputBuffer) {
    let out = OutputBuffer::new();
    let mut engine = Engine::new();
    engine.set_output(out.clone());
    (engine, out)
}

#[test]
fn examples_run() {
    embed_eval::main();
    embed_natives::main();
    embed_call::main();
}

#[test]
fn eval_converts_results() {
    let (mut e, out) = engine();
    assert_eq!(e.eval::<f64>("0.1 + 0.2").unwrap(), 0.1 + 0.2);
    assert_eq!(e.eval::<i64>("-7 % 3").unwrap(), -1);
    assert_eq!(e.eval::<i32>("2 * 3;").unwrap(), 6);
    assert_eq!(e.eval::<u32>("4000000000").unwrap(), 4_000_000_000);
    assert_eq!(e.eval::<usize>("len(\"héllo\")").unwrap(), 5);
    assert!(e.eval::<bool>("1 < 2 && !false").unwrap());
    assert_eq!(e.eval::<String>("\"a\" + str(1)").unwrap(), "a1");
    assert_eq!(
        e.eval::<Vec<Vec<i64>>>("[[1, 2], [], [3]]").unwrap(),
        vec![vec![1, 2], vec![], vec![3]]
    );
    assert_eq!(
        e.eval::<Vec<bool>>("let xs = [true, false]; xs;").unwrap(),
        [true, false]
    );
    // `()` takes any result, or none.
    e.eval::<()>("1 + 1").unwrap();
    e.eval::<()>("let x = 1;").unwrap();
    // The value of the last statement, when it is an expression statement; trailing
    // function declarations do not count.
    assert_eq!(
        e.eval::<f64>("print(1); twice(21); fn twice(x: number) -> number { return 2 * x; }")
            .unwrap(),
        42.0
    );
    assert_eq!(out.take(), "1\n");
    assert_eq!(e.eval::<Dynamic>("let x = 1;").unwrap(), Dynamic::Null);
    assert_eq!(e.eval::<Dynamic>("null").unwrap(), Dynamic::Null);
    let nested = e.eval::<Dynamic>("[[\"a\"], [\"b\", \"c\"]]").unwrap();
    assert_eq!(nested.to_string(), "[[\"a\"], [\"b\", \"c\"]]");
    assert_eq!(
        nested.atlas_type(),
        Some(Type::array(Type::array(Type::String)))
    );
    match e.eval::<Dynamic>("sqrt").unwrap() {
        Dynamic::Function(f) => assert_eq!(f.name(), "sqrt"),
        other => panic!("not a function: {other:?}"),
    }
    assert_eq!(
        e.eval::<Dynamic>("1 / 3").unwrap().to_string(),
        "0.3333333333333333"
    );
}

#[test]
fn conversion_errors_are_clear() {
    let (mut e, out) = engine();
    type Case = (
        &'static str,
        Box<dyn Fn(&mut Engine) -> atlas::Error>,
        &'static str,
    );
    let cases: &[Case] = &[
        (
            "string into f64",
            Box::new(|e| e.eval::<f64>("\"1\"").unwrap_err()),
            "the result has type string, not number",
        ),
        (
            "fraction into i64",
            Box::new(|e| e.eval::<i64>("2.5").unwrap_err()),
            "the result: expected an integer for i64, found the number 2.5",
        ),
        (
            "negative into u32",
            Box::new(|e| e.eval::<u32>("-1").unwrap_err()),
            "the result: -1 is out of the range of u32",
        ),
        (
            "huge into i32",
            Box::new(|e| e.eval::<i32>("1e10").unwrap_err()),
            "the result: 10000000000 is out of the range of i32",
        ),
        (
            "NaN into i64",
            Box::new(|e| e.eval::<i64>("sqrt(-1)").unwrap_err()),
            "the result: expected an integer for i64, found the number NaN",
        ),
        (
            "element of an array",
            Box::new(|e| e.eval::<Vec<i64>>("[1, 1.5]").unwrap_err()),
            "the result: element 1: expected an integer for i64, found the number 1.5",
        ),
        (
            "void into a number",
            Box::new(|e| e.eval::<f64>("print(1);").unwrap_err()),
            "the result has type void, not number",
        ),
        (
            "array into a number",
            Box::new(|e| e.eval::<f64>("[1]").unwrap_err()),
            "the result has type number[], not number",
        ),
        (
            "too large for a number",
            Box::new(|e| {
                e.eval::<()>("var big = 0;").unwrap();
                e.set_global("big", i64::MAX).unwrap_err()
            }),
            "the global 'big': the integer 9223372036854775807 is too large for a number (f64 holds integers exactly up to 2^53)",
        ),
    ];
    for (what, run, message) in cases {
        let error = run(&mut e);
        assert_eq!(error.kind(), ErrorKind::Conversion, "{what}");
        assert_eq!(error.message(), *message, "{what}");
        assert_eq!(error.to_string(), format!("error: {message}"), "{what}");
        assert!(error.location().is_none(), "{what}");
    }
    // A result type that cannot fit is found before the program runs.
    let error = e.eval::<String>("print(\"ran\"); 1;").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
    assert_eq!(out.contents(), "");
    assert_eq!(e.eval::<i64>(&format!("{}", 1u64 << 53)).unwrap(), 1 << 53);
}

#[test]
fn a_script_compiles_once_and_runs_many_times() {
    let (mut e, out) = engine();
    let script = e
        .compile("var runs = 0; runs++; print(\"run \" + str(runs)); clock() < 60;")
        .unwrap();
    for _ in 0..3 {
        e.run(&script).unwrap();
        assert!(e.eval_script::<bool>(&script).unwrap());
    }
    assert_eq!(out.contents(), "run 1\n".repeat(6));
    assert_eq!(script.result_type(), &Type::Bool);
    assert_eq!(script.name(), "<source>");
    assert_eq!(script.global_names().collect::<Vec<_>>(), ["runs"]);
    assert_eq!(script.global_type("runs"), Some(&Type::Number));
    assert!(script.disassemble().contains("== <script>"));
    assert!(format!("{script:?}").contains("runs"));
}

#[test]
fn calls_functions_by_name() {
    let (mut e, out) = engine();
    let error = e.call::<f64>("f", ()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    e.eval::<()>(
        r#"
        var calls = 0;
        fn add(a: number, b: number) -> number { calls++; return a + b; }
        fn greet(names: string[], loud: bool) -> string {
            let text = "hi " + join(names, " and ");
            if (loud) { return toUpperCase(text); }
            return text;
        }
        fn note(s: string) -> void { print(s); }
        fn pick(f: (number) -> number, x: number) -> number { return f(x); }
        fn fail(n: number) -> number { return [1, 2][n]; }
        { fn hidden() -> void {} }
        "#,
    )
    .unwrap();
    assert_eq!(e.call::<f64>("add", (1, 2)).unwrap(), 3.0);
    assert_eq!(e.call::<i64>("add", (1.5, 1.5f32)).unwrap(), 3);
    assert_eq!(e.global::<i64>("calls").unwrap(), 2);
    assert_eq!(
        e.call::<String>("greet", (vec!["ann", "bob"], true))
            .unwrap(),
        "HI ANN AND BOB"
    );
    let names: &[&str] = &["x"];
    assert_eq!(e.call::<String>("greet", (names, false)).unwrap(), "hi x");
    e.call::<()>("note", ("printed",)).unwrap();
    assert_eq!(out.take(), "printed\n");
    // Dynamic arguments are checked against the parameter types when converted.
    let args = vec![Dynamic::Number(2.0), Dynamic::Number(3.0)];
    assert_eq!(e.call::<f64>("add", args).unwrap(), 5.0);
    let args = vec![Dynamic::Number(2.0), Dynamic::String("3".into())];
    let error = e.call::<f64>("add", args).unwrap_err();
    assert_eq!(
        error.message(),
        "argument 2 of 'add': expected a value of type number, found the string \"3\""
    );
    // Function values go back into the script that made them.
    let sqrt = e.eval::<Dynamic>("fn id(x: number) -> number { return x; } id;");
    let Dynamic::Function(id) = sqrt.unwrap() else {
        panic!("a function")
    };
    assert_eq!(id.name(), "id");
    e.eval::<()>("fn pick(f: (number) -> number, x: number) -> number { return f(x); } fn id(x: number) -> number { return x; }").unwrap();
    let error = e
        .call::<f64>(
            "pick",
            vec![Dynamic::Function(id.clone()), Dynamic::Number(1.0)],
        )
        .unwrap_err();
    assert_eq!(
        error.message(),
        "argument 1 of 'pick': the function 'id' belongs to another script"
    );
    let native = e.eval::<Dynamic>("sqrt").unwrap();
    e.eval::<()>("fn pick(f: (number) -> number, x: number) -> number { return f(x); }")
        .unwrap();
    assert_eq!(
        e.call::<f64>("pick", vec![native, Dynamic::Number(16.0)])
            .unwrap(),
        4.0
    );

    // Mistakes, found before running.
    e.eval::<()>(
        "fn add(a: number, b: number) -> number { return a + b; } fn fail(n: number) -> number { return [1, 2][n]; }",
    )
    .unwrap();
    let mistakes: Vec<(atlas::Error, ErrorKind, &str)> = vec![
        (
            e.call::<f64>("add", (1,)).unwrap_err(),
            ErrorKind::Conversion,
            "wrong number of arguments: 'add' expects 2, found 1",
        ),
        (
            e.call::<f64>("add", (1, "2")).unwrap_err(),
            ErrorKind::Conversion,
            "argument 2 of 'add': expected number, found string",
        ),
        (
            e.call::<String>("add", (1, 2)).unwrap_err(),
            ErrorKind::Conversion,
            "'add' returns number, not string",
        ),
        (
            e.call::<f64>("nope", ()).unwrap_err(),
            ErrorKind::NotFound,
            "the script has no function 'nope'",
        ),
    ];
    for (error, kind, message) in mistakes {
        assert_eq!((error.kind(), error.message()), (kind, message));
    }
    // A runtime error in a called function: the trace ends at that function.
    let error = e.call::<f64>("fail", (5,)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(
        error.message(),
        "index 5 out of bounds for array of length 2"
    );
    assert_eq!(error.trace().len(), 1);
    assert_eq!(error.trace()[0].function, "fail");
    assert_eq!(error.location().unwrap().to_string(), "<source>:1:96");
    // The engine is still usable afterwards.
    assert_eq!(e.call::<f64>("add", (2, 2)).unwrap(), 4.0);
}

#[test]
fn calls_are_cheap_and_keep_state() {
    let (mut e, _) = engine();
    e.eval::<()>("var n = 0; fn step(k: number) -> number { n += k; return n; }")
        .unwrap();
    let mut last = 0.0;
    for _ in 0..100_000 {
        last = e.call::<f64>("step", (1,)).unwrap();
    }
    assert_eq!(last, 100_000.0);
}

#[test]
fn globals_read_and_set() {
    let (mut e, _) = engine();
    assert_eq!(
        e.global::<f64>("x").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    e.eval::<()>(
        "var count = 1; let name = \"atlas\"; var xs: number[] = []; fn bump() -> number { count++; return count; } fn early() -> number { return late; } let late = early();",
    )
    .unwrap_err();
    // `late` was read before its declaration ran: a runtime error; the script is current.
    assert_eq!(e.global::<f64>("count").unwrap(), 1.0);
    let error = e.global::<f64>("late").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(
        error.message(),
        "the global 'late' has no value yet (its declaration has not run)"
    );
    assert_eq!(e.global::<String>("name").unwrap(), "atlas");
    assert_eq!(e.global::<Dynamic>("name").unwrap(), Dynamic::from("atlas"));
    e.set_global("count", 41).unwrap();
    assert_eq!(e.call::<f64>("bump", ()).unwrap(), 42.0);
    e.set_global("xs", vec![1.0, 2.0]).unwrap();
    e.set_global("xs", Dynamic::from(vec![3.0])).unwrap();
    assert_eq!(e.global::<Vec<f64>>("xs").unwrap(), [3.0]);
    let errors = [
        (e.set_global("name", "x").unwrap_err(), ErrorKind::Usage),
        (
            e.set_global("count", "x").unwrap_err(),
            ErrorKind::Conversion,
        ),
        (
            e.set_global("xs", vec!["a"]).unwrap_err(),
            ErrorKind::Conversion,
        ),
        (e.set_global("nope", 1).unwrap_err(), ErrorKind::NotFound),
        (
            e.global::<String>("count").unwrap_err(),
            ErrorKind::Conversion,
        ),
    ];
    for (error, kind) in errors {
        assert_eq!(error.kind(), kind, "{error}");
    }
}

#[test]
fn host_globals_persist_across_runs_and_scripts() {
    let (mut e, out) = engine();
    e.define_global("visits", 0)
        .unwrap()
        .define_global("tags", vec!["a".to_string()])
        .unwrap()
        .define_global("mixed", Dynamic::from(vec![1.0, 2.0]))
        .unwrap();
    let script = e
        .compile("visits++; push(tags, \"v\" + str(visits)); print(len(mixed));")
        .unwrap();
    e.run(&script).unwrap();
    e.run(&script).unwrap();
    assert_eq!(e.global::<i64>("visits").unwrap(), 2);
    assert_eq!(e.global::<Vec<String>>("tags").unwrap(), ["a", "v1", "v2"]);
    // Another script sees the same values.
    assert_eq!(e.eval::<f64>("visits * 10").unwrap(), 20.0);
    // Set from the host while no script uses it, and while one does.
    e.set_global("visits", 100).unwrap();
    assert_eq!(e.eval::<f64>("visits").unwrap(), 100.0);
    e.define_global("visits", 7).unwrap();
    assert_eq!(e.eval::<f64>("visits").unwrap(), 7.0);
    assert_eq!(out.take(), "2\n2\n");
    // A script may not redeclare a host global.
    let error = e.eval::<()>("let visits = 1;").unwrap_err();
    assert_eq!(
        error.message(),
        "'visits' is already declared in this scope"
    );
    let errors = [
        e.define_global("visits", "seven").unwrap_err(),
        e.define_global("empty", Dynamic::Array(vec![]))
            .unwrap_err(),
        e.define_global("let", 1).unwrap_err(),
        e.define_global("print", 1).unwrap_err(),
        e.define_global("2x", 1).unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.kind(), ErrorKind::Usage, "{error}");
    }
}

#[test]
fn host_functions_are_typed_for_the_checker() {
    let (mut e, out) = engine();
    let calls = Rc::new(Cell::new(0));
    let counter = Rc::clone(&calls);
    e.register_fn("tick", move || counter.set(counter.get() + 1))
        .unwrap()
        .register_fn("scale", |xs: Vec<f64>, k: f64| -> Vec<f64> {
            xs.iter().map(|x| x * k).collect()
        })
        .unwrap()
        .register_fn("words", |s: String| -> Vec<String> {
            s.split_whitespace().map(str::to_string).collect()
        })
        .unwrap()
        .register_fn("both", |a: bool, b: bool| a && b)
        .unwrap();
    e.register_fn(
        "eight",
        |a: i32, b: i32, c: u32, d: i64, e: u64, f: usize, g: f32, h: f64| {
            a as f64 + b as f64 + c as f64 + d as f64 + e as f64 + f as f64 + g as f64 + h
        },
    )
    .unwrap();
    let result: Vec<f64> = e
        .eval("tick(); tick(); print(words(\" a  b \")); print(both(true, false)); scale([1, 2], eight(1, 1, 1, 1, 1, 1, 1, 1));")
        .unwrap();
    assert_eq!(result, [8.0, 16.0]);
    assert_eq!(calls.get(), 2);
    assert_eq!(out.take(), "[\"a\", \"b\"]\nfalse\n");

    // The checker sees the signatures.
    let wrong = [
        (
            "tick(1);",
            "wrong number of arguments: 'tick' expects 0, found 1",
        ),
        (
            "scale([\"a\"], 1);",
            "type mismatch in argument 1 of 'scale': expected number[], found string[]",
        ),
        (
            "let n: number = words(\"a\");",
            "type mismatch in declaration of 'n': expected number, found string[]",
        ),
        ("let t = tick();", "void value cannot be used"),
        ("let f = scale;", "'scale' can only be called"),
        ("map([1], tick);", "'tick' can only be called"),
        ("tick = 1;", "cannot assign to function 'tick'"),
    ];
    for (source, message) in wrong {
        let error = e.eval::<()>(source).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Compile, "{source}");
        assert_eq!(error.message(), message, "{source}");
    }
    // Scripts may shadow a host function.
    assert_eq!(
        e.eval::<f64>("fn tick() -> number { return 5; } tick();")
            .unwrap(),
        5.0
    );
    assert_eq!(
        e.eval::<f64>("fn f() -> number { let scale = 2; return scale; } f();")
            .unwrap(),
        2.0
    );
    assert_eq!(calls.get(), 2);
    // Host functions reach functions nested anywhere.
    assert_eq!(
        e.eval::<f64>("fn outer() -> number { fn inner() -> number { tick(); return 1; } return inner(); } outer();")
            .unwrap(),
        1.0
    );
    assert_eq!(calls.get(), 3);
}

#[test]
fn invalid_host_functions_are_refused() {
    let mut e = Engine::new();
    let errors = [
        e.register_fn("print", |x: f64| x).unwrap_err(),
        e.register_fn("while", |x: f64| x).unwrap_err(),
        e.register_fn("a-b", |x: f64| x).unwrap_err(),
        e.register_fn("", |x: f64| x).unwrap_err(),
        e.register_fn("any", |x: Dynamic| x.to_string())
            .unwrap_err(),
        e.register_fn("anyOut", |x: f64| Dynamic::Number(x))
            .unwrap_err(),
        e.register_fn("unit", |_: ()| 1.0).unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.kind(), ErrorKind::Usage, "{error}");
    }
    e.define_global("taken", 1).unwrap();
    assert_eq!(
        e.register_fn("taken", |x: f64| x).unwrap_err().message(),
        "'taken' is already a host global"
    );
    // Registering again replaces the function for later compilations.
    e.register_fn("f", |x: f64| x + 1.0).unwrap();
    let old = e.compile("f(1);").unwrap();
    e.register_fn("f", |x: f64| x + 100.0).unwrap();
    assert_eq!(e.eval::<f64>("f(1)").unwrap(), 101.0);
    assert_eq!(e.eval_script::<f64>(&old).unwrap(), 2.0);
}

#[test]
fn host_function_errors_become_runtime_errors() {
    let (mut e, out) = engine();
    e.register_fn("parse", |s: String| s.trim().parse::<f64>())
        .unwrap()
        .register_fn("boom", |n: f64| -> f64 {
            if n > 1.0 {
                panic!("boom at {n}");
            }
            n
        })
        .unwrap()
        .register_fn("index", |n: usize| n)
        .unwrap();
    assert_eq!(e.eval::<f64>("parse(\" 2.5 \")").unwrap(), 2.5);
    let source =
        "print(\"before\");\nfn read(s: string) -> number {\n    return parse(s);\n}\nread(\"x\");";
    let error = e.eval::<f64>(source).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(error.message(), "invalid float literal");
    let frames: Vec<String> = error
        .trace()
        .iter()
        .map(|f| format!("{} {}", f.function, f.location))
        .collect();
    assert_eq!(frames, ["read <source>:3:12", "<script> <source>:5:1"]);
    assert_eq!(out.take(), "before\n");

    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let error = e.eval::<f64>("boom(1) + boom(2)").unwrap_err();
    std::panic::set_hook(previous);
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(error.message(), "host function 'boom' panicked: boom at 2");

    // Arguments that do not fit the Rust type are runtime errors at the call.
    let error = e.eval::<f64>("index(-1)").unwrap_err();
    assert_eq!(
        error.message(),
        "argument 1 of 'index': -1 is out of the range of usize"
    );
    assert_eq!(error.location().unwrap().column, 1);
    // The engine goes on working.
    assert_eq!(e.eval::<f64>("boom(1)").unwrap(), 1.0);
}

/// `call_host` in a loop: both dispatch loops agree, and the threaded one runs on a
/// small stack (its handler must tail-call like every other one).
#[test]
fn call_host_runs_under_both_dispatch_loops() {
    fn run(dispatch: Dispatch) -> f64 {
        let (mut e, _) = engine();
        e.set_dispatch(dispatch);
        e.register_fn("inc", |x: f64| x + 1.0).unwrap();
        e.eval("var x = 0; for (var i = 0; i < 200000; i++) { x = inc(x); } x;")
            .unwrap()
    }
    assert_eq!(run(Dispatch::Table), 200_000.0);
    assert_eq!(run(Dispatch::Match), 200_000.0);
    let small = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| run(Dispatch::Table))
        .unwrap();
    assert_eq!(small.join().expect("no stack overflow"), 200_000.0);
    let script = {
        let mut e = Engine::new();
        e.register_fn("inc", |x: f64| x + 1.0).unwrap();
        e.compile("inc(1);").unwrap()
    };
    assert!(
        script.disassemble().contains("CALL_HOST"),
        "{}",
        script.disassemble()
    );
}

#[test]
fn output_goes_where_it_is_sent() {
    let (mut e, out) = engine();
    e.eval::<()>("fn say(s: string) -> void { print(s); } print(\"top\");")
        .unwrap();
    e.call::<()>("say", ("called",)).unwrap();
    let big = "x".repeat(100_000);
    e.call::<()>("say", (big.as_str(),)).unwrap();
    assert_eq!(out.take(), format!("top\ncalled\n{big}\n"));
    let other = OutputBuffer::new();
    e.set_output(other.clone());
    e.eval::<()>("print(1);").unwrap();
    assert_eq!(
        (out.contents(), other.contents()),
        (String::new(), "1\n".to_string())
    );
    // A writer that fails: a runtime error, not a panic.
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    e.set_output(Broken);
    let error = e.eval::<()>("print(1);").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(error.message(), "cannot write output: disk full");
}

#[test]
fn limits_stop_runaway_recursion() {
    let (mut e, _) = engine();
    assert_eq!(e.limits(), Limits::default());
    assert_eq!(Limits::default().max_frames, 100_000);
    let source = "fn down(n: number) -> number { if (n == 0) { return 0; } return down(n - 1); }";
    e.eval::<()>(source).unwrap();
    assert_eq!(e.call::<f64>("down", (50_000,)).unwrap(), 0.0);
    e.set_limits(Limits::default().with_max_frames(100));
    assert_eq!(e.call::<f64>("down", (98,)).unwrap(), 0.0);
    let error = e.call::<f64>("down", (99,)).unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    let error = e.eval::<f64>(&format!("{source} down(1000);")).unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    // The value stack limit.
    e.set_limits(Limits::default().with_max_stack(1000));
    let error = e.eval::<f64>(&format!("{source} down(1000);")).unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    // Limits below the minimums are raised to them.
    e.set_limits(Limits::default().with_max_frames(0).with_max_stack(0));
    assert_eq!(e.limits().max_frames, 2);
    assert_eq!(e.eval::<f64>("1 + 1").unwrap(), 2.0);
    assert_eq!(
        e.call::<f64>("down", (0,)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    e.eval::<()>(source).unwrap();
    assert_eq!(e.call::<f64>("down", (0,)).unwrap(), 0.0);
    assert_eq!(
        e.call::<f64>("down", (1,)).unwrap_err().message(),
        "stack overflow"
    );
}

#[test]
fn unoptimized_compilation_gives_the_same_results() {
    let (mut e, _) = engine();
    e.set_optimize(false);
    assert_eq!(
        e.eval::<f64>("var t = 0; for (var i = 0; i < 10; i++) { t += i % 3; } t;")
            .unwrap(),
        9.0
    );
}

/// Runs the binary on `source` saved as a file; returns its standard error.
fn cli_stderr(name: &str, source: &str) -> String {
    let dir = std::env::temp_dir().join(format!("atlas-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_atlas"))
        .arg("run")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn errors_render_like_the_command_line() {
    let programs = [
        ("compile.at", "let a = 1;\nlet b: string = a;\nprint(undefined);\n"),
        ("runtime.at", "fn f(xs: number[]) -> number {\n\treturn xs[3];\n}\nfn g() -> number { return f([1]); }\nprint(\"x\");\ng();\n"),
        ("deep.at", "fn r(n: number) -> number { return r(n + 1) + 1; }\nr(0);\n"),
        ("syntax.at", "let x = (1 + ;\n"),
    ];
    for (name, source) in programs {
        let cli = cli_stderr(name, source);
        let mut e = Engine::new();
        e.set_output(std::io::sink());
        let path = std::env::temp_dir()
            .join(format!("atlas-embed-{}", std::process::id()))
            .join(name);
        let error = e
            .compile_named(&path.to_string_lossy(), source)
            .and_then(|script| e.run(&script))
            .unwrap_err();
        assert_eq!(format!("{error}\n"), cli, "{name}");
        assert_eq!(error.render(false), cli, "{name}");
        assert!(error.render(true).contains("\x1b["), "{name}");
    }
    // All compile errors are kept, sorted.
    let error = Engine::new()
        .compile("let a: number = \"x\";\nprint(nope);")
        .unwrap_err();
    let found: Vec<String> = error
        .diagnostics()
        .iter()
        .map(|d| format!("{} {}", d.location, d.message))
        .collect();
    assert_eq!(
        found,
        [
            "<source>:1:17 type mismatch in declaration of 'a': expected number, found string",
            "<source>:2:7 undefined name 'nope'"
        ]
    );
    assert_eq!(error.span(), Some(atlas::Span::new(16, 19)));
}

/// An engine reaches nothing outside unless the host allows it (LANGUAGE.md version 2:
/// "standard input, files and `args()` are off unless the host turns them on").
#[test]
fn arguments_input_and_files_are_off_until_the_host_turns_them_on() {
    let (mut engine, _) = engine();
    let path = std::env::temp_dir().join(format!("atlas-embed-io-{}.txt", std::process::id()));
    let path_text = path.to_string_lossy().replace('\\', "\\\\");
    for source in [
        "args()".to_string(),
        "readLine()".to_string(),
        "eof()".to_string(),
        "readAll()".to_string(),
        format!("readFile(\"{path_text}\")"),
        format!("writeFile(\"{path_text}\", \"x\")"),
    ] {
        let error = engine.eval::<Dynamic>(&source).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Runtime, "{source}");
        assert!(
            error.message().contains("is not available here")
                || error.message().contains("are not available here"),
            "{source}: {}",
            error.message()
        );
    }
    assert!(!path.exists(), "writeFile wrote nothing");

    engine.set_io(atlas::vm::HostIo {
        args: Some(vec!["a".into(), "b c".into()]),
        stdin: Some(Box::new(std::io::Cursor::new("one\r\ntwo"))),
        files: true,
        ..Default::default()
    });
    assert_eq!(engine.eval::<Vec<String>>("args()").unwrap(), ["a", "b c"]);
    assert_eq!(engine.eval::<String>("readLine()").unwrap(), "one");
    assert!(!engine.eval::<bool>("eof()").unwrap());
    assert_eq!(engine.eval::<String>("readAll()").unwrap(), "two");
    assert!(engine.eval::<bool>("eof()").unwrap());
    let error = engine.eval::<String>("readLine()").unwrap_err();
    assert_eq!(error.message(), "end of input");
    engine
        .eval::<()>(&format!("writeFile(\"{path_text}\", \"héllo\");"))
        .unwrap();
    assert_eq!(
        engine
            .eval::<String>(&format!("readFile(\"{path_text}\")"))
            .unwrap(),
        "héllo"
    );
    let _ = std::fs::remove_file(&path);
}

/// What was printed reaches the writer before the script waits for input.
#[test]
fn output_is_flushed_before_reading_input() {
    struct Probe {
        printed: Rc<Cell<usize>>,
    }
    impl std::io::Read for Probe {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            assert_eq!(self.printed.get(), "prompt> \n".len(), "the prompt is out");
            buf[..3].copy_from_slice(b"ok\n");
            Ok(3)
        }
    }
    struct Counting(Rc<Cell<usize>>);
    impl std::io::Write for Counting {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.set(self.0.get() + buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let printed = Rc::new(Cell::new(0));
    let mut engine = Engine::new();
    engine.set_output(Counting(Rc::clone(&printed)));
    engine.set_io(atlas::vm::HostIo {
        stdin: Some(Box::new(std::io::BufReader::new(Probe {
            printed: Rc::clone(&printed),
        }))),
        ..Default::default()
    });
    assert_eq!(
        engine
            .eval::<String>("print(\"prompt> \"); readLine()")
            .unwrap(),
        "ok"
    );
}

// ----- maps ----------------------------------------------------------------------------

#[test]
fn maps_convert_to_rust_maps_in_order() {
    use std::collections::{BTreeMap, HashMap};
    let (mut e, _) = engine();
    let source = r#"({"b": 2, "a": 1, "c": 3})"#;
    let ordered: atlas::IndexMap<String, i64> = e.eval(source).unwrap();
    assert_eq!(
        ordered.into_iter().collect::<Vec<_>>(),
        [
            ("b".to_string(), 2),
            ("a".to_string(), 1),
            ("c".to_string(), 3)
        ]
    );
    let hashed: HashMap<String, f64> = e.eval(source).unwrap();
    assert_eq!(hashed["c"], 3.0);
    let sorted: BTreeMap<bool, Vec<String>> = e.eval(r#"({true: ["t"], false: []})"#).unwrap();
    assert_eq!(sorted[&false], Vec::<String>::new());
    let nested: HashMap<u32, HashMap<String, bool>> = e
        .eval(r#"let m: map<number, map<string, bool>> = {1: {"x": true}}; m"#)
        .unwrap();
    assert!(nested[&1]["x"]);
}

#[test]
fn maps_as_dynamic() {
    let (mut e, _) = engine();
    let value: Dynamic = e
        .eval(r#"let m: map<number, string> = {-0: "z", 2.5: "x"}; m"#)
        .unwrap();
    assert_eq!(
        value,
        Dynamic::Map(vec![(0.0.into(), "z".into()), (2.5.into(), "x".into())])
    );
    assert_eq!(value.to_string(), r#"{0: "z", 2.5: "x"}"#);
    assert_eq!(value.kind_name(), "map");
    assert_eq!(
        value.atlas_type(),
        Some(Type::map(Type::Number, Type::String))
    );
    let empty: Dynamic = e.eval("let m: map<string, number> = {}; m").unwrap();
    assert_eq!(empty, Dynamic::Map(Vec::new()));
    assert_eq!(empty.atlas_type(), None);
}

#[test]
fn map_conversion_errors_are_clear() {
    let (mut e, _) = engine();
    let error = e
        .eval::<std::collections::HashMap<String, u32>>(r#"({"a": 1.5})"#)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
    assert!(
        error.message().contains("expected an integer for u32"),
        "{}",
        error.message()
    );
    let error = e
        .eval::<std::collections::HashMap<String, f64>>("[1]")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
}

#[test]
fn host_functions_take_and_return_maps() {
    use std::collections::{BTreeMap, HashMap};
    let (mut e, out) = engine();
    e.register_fn("total", |m: HashMap<String, f64>| m.values().sum::<f64>())
        .unwrap()
        .register_fn("squares", |n: u32| {
            (1..=n).map(|i| (i, i * i)).collect::<BTreeMap<u32, u32>>()
        })
        .unwrap()
        .register_fn("tally", |words: Vec<String>| {
            let mut counts = atlas::IndexMap::<String, u32>::new();
            for w in words {
                *counts.entry(w).or_default() += 1;
            }
            counts
        })
        .unwrap();
    e.eval::<()>(
        r#"
        print(total({"x": 1.5, "y": 2}));
        let sq = squares(3);
        sq[10] = 100;
        print(sq);
        let t = tally(split("b a b c b", " "));
        t["a"] += 10;
        print(t);
        "#,
    )
    .unwrap();
    assert_eq!(
        out.contents(),
        "3.5\n{1: 1, 2: 4, 3: 9, 10: 100}\n{\"b\": 3, \"a\": 11, \"c\": 1}\n"
    );
    // The checker knows the signature.
    let error = e.eval::<()>(r#"total({1: 2});"#).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Compile);
    assert_eq!(
        error.message(),
        "type mismatch in argument 1 of 'total': expected map<string, number>, found map<number, number>"
    );
}

#[test]
fn maps_pass_to_script_functions_and_nan_keys_are_refused() {
    let (mut e, _) = engine();
    e.eval::<()>("fn size(m: map<number, number>) -> number { return len(m); }")
        .unwrap();
    let two = Dynamic::Map(vec![(1.0.into(), 2.0.into()), (3.0.into(), 4.0.into())]);
    assert_eq!(e.call::<f64>("size", (two,)).unwrap(), 2.0);
    // -0 and 0 are one key on the way in too.
    let same = Dynamic::Map(vec![(0.0.into(), 1.0.into()), ((-0.0).into(), 2.0.into())]);
    assert_eq!(e.call::<f64>("size", (same,)).unwrap(), 1.0);
    let nan = Dynamic::Map(vec![(f64::NAN.into(), 1.0.into())]);
    let error = e.call::<f64>("size", (nan,)).unwrap_err();
    assert!(
        error.message().contains("NaN is not a valid map key"),
        "{}",
        error.message()
    );
    let wrong = Dynamic::Map(vec![("a".into(), 1.0.into())]);
    assert!(e.call::<f64>("size", (wrong,)).is_err());
}

/// Closures cross the host boundary (issue 13): a closure the script returns keeps its
/// captured variables, can be called later from the host, and can go back into the
/// script; a function of another script is refused.
#[test]
fn closures_returned_to_the_host_are_called_later() {
    let (mut e, out) = engine();
    e.eval::<()>(
        "fn counter(step: number) -> () -> number { var n = 0; return fn () -> number { n += step; return n; }; }
         fn twice(f: () -> number) -> number { f(); return f(); }
         fn adder(k: number) -> (number) -> number { return fn (x: number) -> number { print(x + k); return x + k; }; }",
    )
    .unwrap();
    let Dynamic::Function(next) = e.call::<Dynamic>("counter", (5,)).unwrap() else {
        panic!("a closure")
    };
    assert_eq!(next.name(), "<fn>");
    assert_eq!(e.call_function::<f64>(&next, ()).unwrap(), 5.0);
    assert_eq!(e.call_function::<f64>(&next, ()).unwrap(), 10.0);
    // Back into the script: the same captured `n`.
    let again = e
        .call::<f64>("twice", vec![Dynamic::Function(next.clone())])
        .unwrap();
    assert_eq!(again, 20.0);
    assert_eq!(e.call_function::<f64>(&next, ()).unwrap(), 25.0);
    let Dynamic::Function(add3) = e.call::<Dynamic>("adder", (3,)).unwrap() else {
        panic!("a closure")
    };
    assert_eq!(e.call_function::<f64>(&add3, (4,)).unwrap(), 7.0);
    assert_eq!(out.take(), "7\n");
    let error = e.call_function::<f64>(&add3, ("4",)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
    let error = e.call_function::<f64>(&add3, ()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
    // A new script: the closure belonged to the old one.
    e.eval::<()>("let unrelated = 1;").unwrap();
    let error = e.call_function::<f64>(&next, ()).unwrap_err();
    assert!(
        error
            .message()
            .contains("not a function of the current script"),
        "{}",
        error.message()
    );
}
