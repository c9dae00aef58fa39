//! Static types of the language.

use std::fmt;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Type {
    /// Not known: the parser's placeholder, and the checker's type for an expression that
    /// already produced an error (so one mistake does not cascade into many).
    #[default]
    Unknown,
    Number,
    String,
    Bool,
    Null,
    /// Return type only.
    Void,
    Array(Rc<Type>),
    /// `map<K, V>`: the key type (number, string or bool) and the value type.
    Map(Rc<(Type, Type)>),
    Func(Rc<FnType>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FnType {
    pub params: Vec<Type>,
    pub ret: Type,
}

impl Type {
    pub fn array(elem: Type) -> Type {
        Type::Array(Rc::new(elem))
    }

    pub fn map(key: Type, value: Type) -> Type {
        Type::Map(Rc::new((key, value)))
    }

    /// Whether values of this type can be map keys.
    pub fn is_map_key(&self) -> bool {
        matches!(self, Type::Number | Type::String | Type::Bool)
    }

    pub fn func(params: Vec<Type>, ret: Type) -> Type {
        Type::Func(Rc::new(FnType { params, ret }))
    }

    /// Element type of an array type.
    pub fn elem(&self) -> Option<&Type> {
        match self {
            Type::Array(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Unknown => f.write_str("unknown"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Bool => f.write_str("bool"),
            Type::Null => f.write_str("null"),
            Type::Void => f.write_str("void"),
            Type::Array(t) => match **t {
                Type::Func(_) => write!(f, "({t})[]"),
                _ => write!(f, "{t}[]"),
            },
            Type::Map(kv) => write!(f, "map<{}, {}>", kv.0, kv.1),
            Type::Func(ft) => {
                f.write_str("(")?;
                for (i, p) in ft.params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ") -> {}", ft.ret)
            }
        }
    }
}
