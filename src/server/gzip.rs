//! gzip for `/metrics`: the exposition is compressed once per publish (not per request), so a scrape that sends
//! `Accept-Encoding: gzip` (Prometheus always does) costs a copy of a pointer, and the wire carries a fraction of
//! the bytes.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

/// One published exposition in both encodings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Encoded {
    /// The text format as encoded by the registry.
    pub plain: Bytes,
    /// The same bytes, gzip-compressed.
    pub gzip: Bytes,
}

impl Encoded {
    /// Compresses `plain` once. Compressing into memory cannot fail short of allocation failure; should it ever,
    /// the gzip copy is left empty and clients get the plain text.
    pub(crate) fn new(plain: Vec<u8>) -> Self {
        let mut enc = GzEncoder::new(Vec::with_capacity(plain.len() / 4), Compression::default());
        let gzip = match enc.write_all(&plain).and_then(|_| enc.finish()) {
            Ok(g) => Bytes::from(g),
            Err(e) => {
                tracing::warn!(error = %e, "gzip of the exposition failed; serving it uncompressed");
                Bytes::new()
            }
        };
        Self {
            plain: Bytes::from(plain),
            gzip,
        }
    }
}

/// Whether an `Accept-Encoding` header value accepts gzip (a `gzip` or `*` coding whose q-value is not 0).
pub(crate) fn accepts_gzip(header: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if !coding.eq_ignore_ascii_case("gzip") && coding != "*" {
            return false;
        }
        !parts.any(|p| {
            let p = p.trim().replace(' ', "");
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        })
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn accept_encoding_forms() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("gzip; q=0.0, identity"));
        assert!(!accepts_gzip("deflate, br"));
        assert!(!accepts_gzip(""));
    }

    #[test]
    fn gzip_copy_round_trips_and_is_smaller() {
        let text = "conflux_up{node=\"local\"} 1\n".repeat(200).into_bytes();
        let e = Encoded::new(text.clone());
        assert!(
            e.gzip.len() * 5 < e.plain.len(),
            "{} vs {}",
            e.gzip.len(),
            e.plain.len()
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&e.gzip[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }
}
