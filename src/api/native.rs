//! Rust closures as Atlas functions ([`HostFunction`]) and Rust tuples as argument lists
//! ([`IntoArgs`]).

use std::rc::Rc;

use super::convert::{to_dynamic, to_value, Dynamic, FromAtlas, IntoAtlas};
use crate::types::Type;
use crate::vm::host::{HostCx, HostFn};
use crate::vm::value::Value;

/// A Rust closure or function that scripts can call: `Fn(A1, ..., An) -> R` for up to
/// eight parameters, each [`FromAtlas`] with an Atlas type, and `R` [`IntoAtlas`] with
/// an Atlas type (`()` for `void`, `Result<T, E>` to fail with an Atlas runtime error).
///
/// Registered with [`Engine::register_fn`](crate::Engine::register_fn); implemented for
/// every such closure, so there is nothing to implement by hand.
pub trait HostFunction<Args>: 'static {
    /// The Atlas types of the parameters (`None` for a Rust type without one).
    #[doc(hidden)]
    fn param_types() -> Vec<Option<Type>>;
    /// The Atlas type of the result.
    #[doc(hidden)]
    fn return_type() -> Option<Type>;
    /// The function as the VM calls it; `name` is for messages and `ret` is the checked
    /// return type.
    #[doc(hidden)]
    fn into_host(self, name: Rc<str>, ret: Type) -> Rc<HostFn>;
}

/// Converts argument `i` (0-based) of host function `name`.
fn arg<T: FromAtlas>(cx: &HostCx<'_>, args: &[Value], i: usize, name: &str) -> Result<T, String> {
    let value = args
        .get(i)
        .map_or(Dynamic::Null, |v| to_dynamic(v, Some(cx.module())));
    T::from_atlas(value).map_err(|e| format!("argument {} of '{name}': {e}", i + 1))
}

/// Converts the result of host function `name` to a value of type `ret`.
fn result<R: IntoAtlas>(
    cx: &HostCx<'_>,
    result: R,
    name: &str,
    ret: &Type,
) -> Result<Value, String> {
    let value = result.into_atlas()?;
    if *ret == Type::Void {
        return Ok(Value::Null);
    }
    to_value(value, ret, Some(cx.module()), &[])
        .map_err(|e| format!("the result of '{name}' does not fit its type: {e}"))
}

macro_rules! host_functions {
    ($(($($arg:ident $var:ident $i:literal),*);)*) => {$(
        impl<Func, Ret, $($arg,)*> HostFunction<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> Ret + 'static,
            Ret: IntoAtlas,
            $($arg: FromAtlas,)*
        {
            fn param_types() -> Vec<Option<Type>> {
                vec![$($arg::atlas_type()),*]
            }

            fn return_type() -> Option<Type> {
                Ret::atlas_type()
            }

            #[allow(unused_variables)]
            fn into_host(self, name: Rc<str>, ret: Type) -> Rc<HostFn> {
                Rc::new(move |cx: &mut HostCx<'_>, args: &[Value]| -> Result<Value, String> {
                    $(let $var = arg::<$arg>(cx, args, $i, &name)?;)*
                    result(cx, (self)($($var),*), &name, &ret)
                })
            }
        }
    )*};
}

host_functions! {
    ();
    (A1 a1 0);
    (A1 a1 0, A2 a2 1);
    (A1 a1 0, A2 a2 1, A3 a3 2);
    (A1 a1 0, A2 a2 1, A3 a3 2, A4 a4 3);
    (A1 a1 0, A2 a2 1, A3 a3 2, A4 a4 3, A5 a5 4);
    (A1 a1 0, A2 a2 1, A3 a3 2, A4 a4 3, A5 a5 4, A6 a6 5);
    (A1 a1 0, A2 a2 1, A3 a3 2, A4 a4 3, A5 a5 4, A6 a6 5, A7 a7 6);
    (A1 a1 0, A2 a2 1, A3 a3 2, A4 a4 3, A5 a5 4, A6 a6 5, A7 a7 6, A8 a8 7);
}

/// The arguments of [`Engine::call`](crate::Engine::call): a tuple of up to eight
/// [`IntoAtlas`] values (`()` for none, `(x,)` for one), or a `Vec<Dynamic>`.
pub trait IntoArgs {
    /// Each argument's static Atlas type (`None` when only the value tells) and value.
    #[doc(hidden)]
    fn into_args(self) -> Result<Vec<(Option<Type>, Dynamic)>, String>;
}

macro_rules! tuple_args {
    ($(($($arg:ident $i:tt),*);)*) => {$(
        impl<$($arg: IntoAtlas,)*> IntoArgs for ($($arg,)*) {
            #[allow(unused_mut)]
            fn into_args(self) -> Result<Vec<(Option<Type>, Dynamic)>, String> {
                let mut args = Vec::new();
                $(
                    let value = self.$i
                        .into_atlas()
                        .map_err(|e| format!("argument {}: {e}", $i + 1))?;
                    args.push(($arg::atlas_type(), value));
                )*
                Ok(args)
            }
        }
    )*};
}

tuple_args! {
    ();
    (A1 0);
    (A1 0, A2 1);
    (A1 0, A2 1, A3 2);
    (A1 0, A2 1, A3 2, A4 3);
    (A1 0, A2 1, A3 2, A4 3, A5 4);
    (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5);
    (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6);
    (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7);
}

impl IntoArgs for Vec<Dynamic> {
    fn into_args(self) -> Result<Vec<(Option<Type>, Dynamic)>, String> {
        Ok(self.into_iter().map(|d| (None, d)).collect())
    }
}
