//! JavaScript's `Number.prototype.toString()` for finite doubles.

/// Formats `value` exactly as JavaScript would print it: integral values without a fraction,
/// scientific notation outside `1e-7 <= |x| < 1e21` with an explicit exponent sign.
pub fn js_number(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string(); // JavaScript prints -0 as 0 as well.
    }
    if !value.is_finite() {
        // JSON.stringify writes non-finite numbers as null.
        return "null".to_string();
    }
    // `{:e}` yields the shortest round-trip digits, e.g. "1.2345e-7" or "-5e20".
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digit_count = digits.len() as i32;
    // In JavaScript's terms: value = 0.digits × 10^point.
    let point = exponent + 1;
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    if digit_count <= point && point <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (point - digit_count) as usize));
    } else if 0 < point && point <= 21 {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if digit_count > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if point > 0 { '+' } else { '-' });
        out.push_str(&(point - 1).abs().to_string());
    }
    out
}

/// JavaScript's `Number.prototype.toFixed(digits)`: the exact binary value rounded half away
/// from zero (Rust's `{:.N}` rounds exact ties to even, so `1.25` would print `1.2`).
/// Magnitudes of `1e21` and above print as [`js_number`], as in JavaScript.
pub fn to_fixed(value: f64, digits: usize) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.abs() >= 1e21 || value.is_infinite() {
        return js_number(value);
    }
    // Every finite double has at most 1074 fractional digits, so this expansion is exact.
    let exact = format!("{:.1100}", value.abs());
    let (whole, fraction) = exact.split_once('.').unwrap_or((exact.as_str(), ""));
    let mut kept: Vec<u8> = whole.bytes().chain(fraction.bytes().take(digits)).collect();
    if fraction.as_bytes().get(digits).is_some_and(|d| *d >= b'5') {
        let mut index = kept.len();
        loop {
            if index == 0 {
                kept.insert(0, b'1');
                break;
            }
            index -= 1;
            if kept[index] == b'9' {
                kept[index] = b'0';
            } else {
                kept[index] += 1;
                break;
            }
        }
    }
    let split = kept.len() - digits;
    let text = String::from_utf8_lossy(&kept);
    let sign = if value < 0.0 { "-" } else { "" };
    if digits == 0 {
        format!("{sign}{text}")
    } else {
        format!("{sign}{}.{}", &text[..split], &text[split..])
    }
}

/// `Number(x.toFixed(digits))` as a JSON number (integral values as integers).
pub fn rounded_number(value: f64, digits: usize) -> serde_json::Value {
    let parsed: f64 = to_fixed(value, digits).parse().unwrap_or(value);
    number_value(parsed)
}

/// A double as a JSON number, integral values (within 2^53) as integers.
pub fn number_value(value: f64) -> serde_json::Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        serde_json::json!(value as i64)
    } else {
        serde_json::json!(value)
    }
}

#[cfg(test)]
mod tests {
    use super::{js_number, rounded_number, to_fixed};

    #[test]
    fn to_fixed_rounds_half_away_from_zero_like_javascript() {
        assert_eq!(to_fixed(1.25, 1), "1.3");
        assert_eq!(to_fixed(0.05, 1), "0.1");
        assert_eq!(to_fixed(0.15, 1), "0.1"); // 0.1499999… in binary
        assert_eq!(to_fixed(9.96, 1), "10.0");
        assert_eq!(to_fixed(-1.25, 1), "-1.3");
        assert_eq!(to_fixed(-0.01, 1), "-0.0");
        assert_eq!(to_fixed(0.0078125, 6), "0.007813");
        assert_eq!(to_fixed(12.0, 0), "12");
        assert_eq!(to_fixed(1e21, 2), "1e+21");
    }

    #[test]
    fn rounded_numbers_drop_float_noise() {
        assert_eq!(rounded_number(0.3 - 0.1, 6), serde_json::json!(0.2));
        assert_eq!(rounded_number(3.0 - 1.0, 6), serde_json::json!(2));
        assert_eq!(rounded_number(-0.0000004, 6), serde_json::json!(0));
    }

    #[test]
    fn integral_doubles_print_without_fraction() {
        assert_eq!(js_number(1.0), "1");
        assert_eq!(js_number(-42.0), "-42");
        assert_eq!(js_number(-0.0), "0");
        assert_eq!(js_number(1e20), "100000000000000000000");
    }

    #[test]
    fn large_and_small_magnitudes_use_signed_exponents() {
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.5e300), "1.5e+300");
        assert_eq!(js_number(1e-7), "1e-7");
        assert_eq!(js_number(-2.5e-8), "-2.5e-8");
    }

    #[test]
    fn ordinary_fractions_match_javascript() {
        assert_eq!(js_number(0.15), "0.15");
        assert_eq!(js_number(0.000001), "0.000001");
        assert_eq!(js_number(123.456), "123.456");
        assert_eq!(js_number(0.1 + 0.2), "0.30000000000000004");
    }
}
