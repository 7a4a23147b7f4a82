//! Exact arithmetic on decimal digit strings (most significant digit first), which stands in for
//! apimachinery's `inf.Dec`.

/// Strips leading and trailing zeros of `digits` (moving trailing ones into `exp`).
pub(super) fn normalize(mut digits: Vec<u8>, mut exp: i64) -> (Vec<u8>, i64) {
    let leading = digits.iter().take_while(|&&d| d == 0).count();
    digits.drain(..leading);
    while digits.last() == Some(&0) {
        digits.pop();
        exp += 1;
    }
    if digits.is_empty() {
        exp = 0;
    }
    (digits, exp)
}

/// `digits × factor` for a decimal digit string (most significant first).
pub(super) fn mul_small(digits: &[u8], factor: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(digits.len() + 20);
    let mut carry: u128 = 0;
    for &d in digits.iter().rev() {
        let v = u128::from(d) * u128::from(factor) + carry;
        out.push((v % 10) as u8);
        carry = v / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    out.reverse();
    out
}

/// `digits + 1` for a decimal digit string (most significant first).
pub(super) fn add_one(mut digits: Vec<u8>) -> Vec<u8> {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return digits;
        }
    }
    digits.insert(0, 1);
    digits
}

/// The decimal digits of `n`, most significant first.
pub(super) fn digits_of(mut n: u128) -> Vec<u8> {
    let mut out = Vec::new();
    while n > 0 {
        out.push((n % 10) as u8);
        n /= 10;
    }
    out.reverse();
    out
}
