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

#[cfg(test)]
mod tests {
    use super::js_number;

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
