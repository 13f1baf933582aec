//! The one place a panic is caught: [`catch`] runs a closure and turns a panic in
//! it into a [`Panic`] value, which each caller maps to its own error (a bulk
//! read: that file's error; the Python boundary: an exception). No panic crosses
//! into Python.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A caught panic: the message it was raised with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error in spinfast's Rust core (please report it): {0}")]
pub struct Panic(pub String);

/// Runs `f`; a panic inside it comes back as `Err(Panic)`.
///
/// Callers whose state a panic may have left half-updated must reset it
/// themselves (the policy evaluator drops its plans).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panic(message(payload.as_ref())))
}

/// The text of a panic payload (`panic!("...")` gives a `&str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        let caught = catch(|| -> u8 { panic!("boom {}", 7) });
        assert_eq!(caught, Err(Panic("boom 7".into())));
        assert_eq!(catch(|| 3), Ok(3));
    }
}
