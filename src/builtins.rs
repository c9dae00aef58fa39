//! The prelude: functions always in scope (LANGUAGE.md, "Prelude").
//!
//! Generic ones (`print`, `len`, `map`, ...) are typed by special rules in the checker and
//! can only be called; the others have a fixed signature and are also values.

use crate::types::Type;

macro_rules! builtins {
    ($($variant:ident = $name:literal,)*) => {
        /// A prelude function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Builtin { $($variant,)* }

        impl Builtin {
            pub const ALL: &'static [Builtin] = &[$(Builtin::$variant,)*];

            /// The name scripts call it by.
            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name,)* }
            }
        }
    };
}

builtins! {
    Print = "print",
    Str = "str",
    Len = "len",
    Push = "push",
    Pop = "pop",
    Map = "map",
    Filter = "filter",
    Reduce = "reduce",
    Sort = "sort",
    Slice = "slice",
    Concat = "concat",
    Join = "join",
    Split = "split",
    Substring = "substring",
    CharAt = "charAt",
    IndexOf = "indexOf",
    Includes = "includes",
    StartsWith = "startsWith",
    EndsWith = "endsWith",
    ToUpperCase = "toUpperCase",
    ToLowerCase = "toLowerCase",
    Trim = "trim",
    ParseNumber = "parseNumber",
    Sqrt = "sqrt",
    Abs = "abs",
    Floor = "floor",
    Ceil = "ceil",
    Round = "round",
    Min = "min",
    Max = "max",
    Pow = "pow",
    Clock = "clock",
    Replace = "replace",
    Repeat = "repeat",
    PadStart = "padStart",
    PadEnd = "padEnd",
    LastIndexOf = "lastIndexOf",
    CharCode = "charCode",
    FromCharCode = "fromCharCode",
    ToFixed = "toFixed",
    Random = "random",
    Args = "args",
    ReadLine = "readLine",
    Eof = "eof",
    ReadAll = "readAll",
    ReadFile = "readFile",
    WriteFile = "writeFile",
    Has = "has",
    Get = "get",
    Remove = "remove",
    Keys = "keys",
    Values = "values",
}

impl Builtin {
    /// Whether it reads standard input: what was printed is flushed first, so that a
    /// prompt shows before the script waits.
    pub fn reads_input(self) -> bool {
        matches!(self, Builtin::ReadLine | Builtin::Eof | Builtin::ReadAll)
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// The signature of a prelude function with a fixed one (these are also values);
    /// `None` for the generic ones, which the checker types by their own rules.
    pub fn signature(self) -> Option<Type> {
        use Builtin::*;
        use Type::{Bool, Number as N, String as S};
        let (params, ret) = match self {
            Print | Str | Len | Push | Pop | Map | Filter | Reduce | Sort | Slice | Concat
            | Has | Get | Remove | Keys | Values => return None,
            Join => (vec![Type::array(S), S], S),
            Split => (vec![S, S], Type::array(S)),
            Substring => (vec![S, N, N], S),
            CharAt => (vec![S, N], S),
            IndexOf | LastIndexOf => (vec![S, S], N),
            Replace => (vec![S, S, S], S),
            Repeat => (vec![S, N], S),
            PadStart | PadEnd => (vec![S, N, S], S),
            CharCode => (vec![S, N], N),
            FromCharCode => (vec![N], S),
            ToFixed => (vec![N, N], S),
            Includes | StartsWith | EndsWith => (vec![S, S], Bool),
            ToUpperCase | ToLowerCase | Trim => (vec![S], S),
            ParseNumber => (vec![S], N),
            Sqrt | Abs | Floor | Ceil | Round => (vec![N], N),
            Min | Max | Pow => (vec![N, N], N),
            Clock | Random => (vec![], N),
            Args => (vec![], Type::array(S)),
            ReadLine | ReadAll => (vec![], S),
            Eof => (vec![], Bool),
            ReadFile => (vec![S], S),
            WriteFile => (vec![S, S], Type::Void),
        };
        Some(Type::func(params, ret))
    }
}
