//! Parsing `harness://kind/id` URIs the way the original's WHATWG parser sees them: the kind
//! is the (case-sensitive) host, the id is the percent-decoded path without leading slashes,
//! query and fragment are ignored.

use super::ResourceError;

/// A parsed resource URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessUri {
    pub kind: String,
    pub id: String,
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// `decodeURIComponent`: malformed escapes or invalid UTF-8 are errors.
pub fn percent_decode(text: &str) -> Result<String, ResourceError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let high = bytes.get(index + 1).copied().and_then(hex_value);
            let low = bytes.get(index + 2).copied().and_then(hex_value);
            let (Some(high), Some(low)) = (high, low) else {
                return Err(ResourceError::InvalidUri("URI malformed".into()));
            };
            out.push(high * 16 + low);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ResourceError::InvalidUri("URI malformed".into()))
}

pub fn parse(uri: &str) -> Result<HarnessUri, ResourceError> {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(ResourceError::InvalidUri(format!(
            "Invalid harness resource URI: {}",
            crate::sanitize::echo(uri, "uri")
        )));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || uri.chars().any(|c| c.is_whitespace() && c != ' ') {
        return Err(ResourceError::InvalidUri(format!(
            "Invalid harness resource URI: {}",
            crate::sanitize::echo(uri, "uri")
        )));
    }
    if !scheme.eq_ignore_ascii_case("harness") {
        return Err(ResourceError::InvalidUri(format!(
            "Unsupported resource URI scheme: {}",
            crate::sanitize::echo(uri, "uri")
        )));
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, path) = match rest.strip_prefix("//") {
        Some(authority_and_path) => match authority_and_path.find('/') {
            Some(slash) => (&authority_and_path[..slash], &authority_and_path[slash..]),
            None => (authority_and_path, ""),
        },
        None => ("", rest),
    };
    Ok(HarnessUri {
        kind: host.to_string(),
        id: percent_decode(path.trim_start_matches('/'))?,
    })
}

/// `encodeURIComponent` for ids placed in URIs.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_id_are_host_and_decoded_path() {
        assert_eq!(
            parse("harness://contract/a%2Fb?x#y").unwrap(),
            HarnessUri {
                kind: "contract".into(),
                id: "a/b".into()
            }
        );
        assert_eq!(
            parse("HARNESS://state").unwrap(),
            HarnessUri {
                kind: "state".into(),
                id: String::new()
            }
        );
        assert_eq!(parse("harness:state").unwrap().kind, "");
        assert_eq!(parse("harness://knowledge/item/x").unwrap().id, "item/x");
    }

    #[test]
    fn bad_uris_are_reported_like_the_original_with_the_uri_wrapped() {
        assert_eq!(
            parse("nothing"),
            Err(ResourceError::InvalidUri(
                "Invalid harness resource URI: nothing".into()
            ))
        );
        assert_eq!(
            parse("file:///etc/passwd"),
            Err(ResourceError::InvalidUri(
                "Unsupported resource URI scheme: <untrusted-data source=\"uri\">\nfile:///etc/passwd\n</untrusted-data>".into()
            ))
        );
        assert_eq!(
            parse("harness://contract/%E0%A4%A"),
            Err(ResourceError::InvalidUri("URI malformed".into()))
        );
        assert_eq!(
            parse("harness://contract/%FF"),
            Err(ResourceError::InvalidUri("URI malformed".into()))
        );
    }

    #[test]
    fn encoding_round_trips() {
        let id = "a b/é%";
        assert_eq!(percent_decode(&percent_encode(id)).unwrap(), id);
    }
}
