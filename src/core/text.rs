//! Numbers written as text without `core::fmt`: the wasm carries no formatting machinery (its
//! interpreter, padding, integer tables), so every message, URL and stored line is put together
//! with `concat` and these (measured in DEVELOPERS.md, "Size").

/// `n` in base `radix` (10 or 16, lowercase), with at least `width` digits (zero-padded).
fn digits(mut n: u64, radix: u64, width: usize) -> String {
    let mut out = Vec::with_capacity(20);
    while n > 0 || out.len() < width.max(1) {
        out.push(b"0123456789abcdef"[(n % radix) as usize]);
        n /= radix;
    }
    out.reverse();
    // Only ASCII digits were pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// `n` in decimal: `0`, `42`.
pub fn decimal(n: u64) -> String {
    digits(n, 10, 1)
}

/// `n` in decimal with at least `width` digits: `padded(7, 2)` is `07`.
pub fn padded(n: u64, width: usize) -> String {
    digits(n, 10, width)
}

/// `n` in lowercase hex with at least `width` digits: `hex(255, 4)` is `00ff`.
pub fn hex(n: u64, width: usize) -> String {
    digits(n, 16, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_std_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), 9_007_199_254_740_991, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
            assert_eq!(hex(n, 8), format!("{n:08x}"));
            assert_eq!(padded(n, 3), format!("{n:03}"));
        }
        assert_eq!(hex(0, 1), "0");
    }
}
