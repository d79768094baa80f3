//! Reading a registry back in publisher tests: the exposition text, and one series' value by its exact label set.

/// The registry encoded as `/metrics` serves it.
pub(crate) fn text(r: &prometheus::Registry) -> String {
    let mut buf = Vec::new();
    prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &r.gather(), &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

/// The value of the series `name` with exactly `labels` (in any order), if present.
pub(crate) fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut want: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    want.sort();
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix('{')?;
        let (body, v) = rest.split_once("} ")?;
        let mut got: Vec<String> = body.split(',').map(str::to_string).collect();
        got.sort();
        (got == want).then(|| v.parse().ok()).flatten()
    })
}

/// Whether any series of `name` is present.
pub(crate) fn present(text: &str, name: &str) -> bool {
    text.lines().any(|l| l.starts_with(&format!("{name}{{")))
}
