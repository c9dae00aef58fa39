//! Evaluating Atlas from Rust: expressions and programs with typed results, and errors
//! rendered like the command line's.
//!
//! Run with `cargo run --example embed_eval`.

use atlas::{Dynamic, Engine, ErrorKind};

pub fn main() {
    let mut engine = Engine::new();

    // An expression (the final `;` may be left out) converted to a Rust type.
    let answer: i64 = engine.eval("6 * 7").expect("evaluates");
    println!("6 * 7 = {answer}");
    assert_eq!(answer, 42);

    // A program: the value of its last expression statement.
    let primes: Vec<u32> = engine
        .eval(
            r#"
            fn isPrime(n: number) -> bool {
                for (var d = 2; d * d <= n; d++) {
                    if (n % d == 0) {
                        return false;
                    }
                }
                return n >= 2;
            }
            let found: number[] = [];
            for (var n = 0; len(found) < 8; n++) {
                if (isPrime(n)) {
                    push(found, n);
                }
            }
            found;
            "#,
        )
        .expect("evaluates");
    println!("the first primes: {primes:?}");
    assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19]);

    // Any value, when the type is not known in advance.
    let value: Dynamic = engine
        .eval(r#"join(map(["a", "b"], toUpperCase), "-")"#)
        .expect("evaluates");
    println!("a Dynamic: {value} ({})", value.kind_name());
    assert_eq!(value, Dynamic::String("A-B".into()));

    // Mismatches are errors, never panics: a number is not a string...
    let error = engine.eval::<String>("1 + 2").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
    println!("{error}");
    // ... and 3.5 is not an integer.
    let error = engine.eval::<i64>("7 / 2").unwrap_err();
    println!("{error}");

    // Compile and runtime errors render like `atlas run` prints them.
    let error = engine.eval::<f64>("let x: number = \"one\";").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Compile);
    println!("{error}");
    let error = engine
        .eval::<f64>(
            "fn ratio(a: number, b: number) -> number {\n    return a / b;\n}\nratio(1, 0);",
        )
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Runtime);
    assert_eq!(error.trace().len(), 2);
    println!("{error}");
}
