//! The `rustemd-shell` binary: everything is in the library (`rustemd_shell::run`).
//!
//! One thing lives here because only the executable can do it: `ldexp`. glibc's libm was
//! loaded by every process, 58 µs of each start and 0.3 MiB at the prompt (measured), for
//! three functions: `log10` (gone), `pow` (now opened on first use, see
//! `lang::interp::ops::pow`) and `ldexp`, which LLVM makes of syntect's `exp2` of a small
//! integer. Defined in the executable, the link resolves that call here (exact, as glibc's)
//! and libm is no longer needed at start (`tests/it/cli.rs` watches ld.so's loads, in a
//! release build: a debug one keeps calls that optimization folds away).

fn main() {
    std::process::exit(rustemd_shell::run());
}

/// C's `ldexp(x, exp)`: `x` times 2 to the `exp`, exact (as `scalbn`).
// SAFETY: no other definition of `ldexp` is linked into the executable (glibc's is in the
// shared libm, which this one replaces); the signature is C's, and the body is safe Rust.
#[unsafe(no_mangle)]
pub extern "C" fn ldexp(x: f64, exp: i32) -> f64 {
    libm::scalbn(x, exp)
}

#[cfg(test)]
mod tests {
    use super::ldexp;

    #[test]
    fn ldexp_is_exact_over_the_whole_exponent_range() {
        // Powers of two, built from their bits: normal, subnormal, out of range.
        for n in -1022..=1023 {
            let want = f64::from_bits(((n + 1023) as u64) << 52);
            assert_eq!(ldexp(1.0, n).to_bits(), want.to_bits(), "2^{n}");
        }
        for n in 1..=52 {
            assert_eq!(
                ldexp(1.0, -1022 - n),
                f64::from_bits(1 << (52 - n)),
                "2^-{}",
                1022 + n
            );
        }
        assert_eq!(ldexp(1.0, -1075), 0.0);
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
        assert_eq!(ldexp(-3.0, 4), -48.0);
        assert_eq!(ldexp(0.75, -1), 0.375);
        assert!(ldexp(f64::NAN, 3).is_nan());
        assert_eq!(ldexp(f64::NEG_INFINITY, -3), f64::NEG_INFINITY);
    }
}
