//! The `time` module: `time.time()`, `time.sleep()` (Ctrl-C ends it at once),
//! `time.monotonic()`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Bound, Builtin, Func, R};
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::interp::ops::num;
use crate::lang::value::Value;

pub static BUILTINS: &[Builtin] = &[
    pure!(
        "time.time",
        [],
        "Seconds since the Unix epoch, as a float",
        t_time
    ),
    pure!(
        "time.monotonic",
        [],
        "Seconds of a clock that never goes back (for measuring intervals)",
        t_monotonic
    ),
    eval!(
        "time.sleep",
        ["secs"],
        "Wait this many seconds (a float); Ctrl-C interrupts",
        t_sleep
    ),
];

fn t_time(_: &Bound) -> R<Value> {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Ok(Value::Float(d.as_secs_f64()))
}

fn t_monotonic(_: &Bound) -> R<Value> {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    Ok(Value::Float(start.elapsed().as_secs_f64()))
}

/// Sleep in short slices, so Ctrl-C (polled between them) ends the wait within ~10 ms.
fn t_sleep(it: &mut Interp, a: Bound) -> R<Value> {
    let secs = num(a.one()).ok_or_else(|| {
        Error::type_error(format!(
            "time.sleep() needs a number of seconds, not {}",
            a.one().type_name()
        ))
    })?;
    if secs.is_nan() || secs < 0.0 {
        return Err(Error::value_error(
            "time.sleep(): the length must be a non-negative number",
        ));
    }
    it.out.flush()?;
    let deadline = Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| Instant::now().checked_add(d));
    loop {
        it.checkpoint()?;
        let left = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => Duration::from_secs(1),
        };
        if left.is_zero() {
            return Ok(Value::None);
        }
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}
