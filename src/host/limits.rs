//! Parsing `/proc/PID/limits`, the one world-readable place that shows
//! another process's open-files limit.
//!
//! A Conflux node keeps thousands of RocksDB files open; hitting the soft
//! limit makes it fail in confusing ways, so the exporter reports both limits
//! next to the fd count.

use thiserror::Error;

/// One limit value; `unlimited` is distinct from any number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitValue {
    /// A finite limit.
    Limited(u64),
    /// The kernel prints `unlimited` (RLIM_INFINITY).
    Unlimited,
}

impl LimitValue {
    /// Gauge value: `+Inf` for unlimited, which Prometheus represents and
    /// compares correctly (`open_fds / max_fds` becomes 0).
    pub fn as_f64(self) -> f64 {
        match self {
            LimitValue::Limited(v) => v as f64,
            LimitValue::Unlimited => f64::INFINITY,
        }
    }
}

/// Soft and hard value of one resource limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftHard {
    /// The limit the process runs into.
    pub soft: LimitValue,
    /// The ceiling the process may raise its soft limit to.
    pub hard: LimitValue,
}

/// The limits text lacks the row or has a value that is not a number.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LimitsError {
    /// No row starts with the resource name.
    #[error("no {0:?} row in the limits text")]
    MissingRow(String),
    /// The row exists but a value is not a number or `unlimited`.
    #[error("bad {which} value {value:?} in the {row:?} row")]
    BadValue {
        /// The limit row's name.
        row: String,
        /// `soft` or `hard`.
        which: &'static str,
        /// The text found.
        value: String,
    },
}

impl LimitsError {
    /// Short stable label of the failure.
    #[cfg(test)]
    fn kind(&self) -> &'static str {
        match self {
            LimitsError::MissingRow(_) => "missing_row",
            LimitsError::BadValue { .. } => "parse",
        }
    }
}

/// The row name of the open-files limit (RLIMIT_NOFILE).
pub(crate) const MAX_OPEN_FILES: &str = "Max open files";

/// Soft and hard "Max open files" from `/proc/PID/limits` text.
pub(crate) fn parse_max_open_files(text: &str) -> Result<SoftHard, LimitsError> {
    parse_limit(text, MAX_OPEN_FILES)
}

/// Soft and hard value of the row named `row` (e.g. `"Max processes"`).
///
/// Rows are `<name> <soft> <hard> [<units>]` with the name padded to a fixed
/// column. The name is taken as the words before the first value (a number or
/// `unlimited`), so "Max realtime" never matches "Max realtime priority" and
/// the column width does not matter.
pub(crate) fn parse_limit(text: &str, row: &str) -> Result<SoftHard, LimitsError> {
    let wanted: Vec<&str> = row.split_whitespace().collect();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let split = tokens
            .iter()
            .position(|t| looks_like_value(t))
            .unwrap_or(tokens.len());
        if tokens[..split] != wanted[..] {
            continue;
        }
        let soft = value(row, "soft", tokens.get(split).copied())?;
        let hard = value(row, "hard", tokens.get(split + 1).copied())?;
        return Ok(SoftHard { soft, hard });
    }
    Err(LimitsError::MissingRow(row.to_string()))
}

fn looks_like_value(token: &str) -> bool {
    token == "unlimited" || token.starts_with(|c: char| c.is_ascii_digit() || c == '-')
}

fn value(row: &str, which: &'static str, field: Option<&str>) -> Result<LimitValue, LimitsError> {
    let bad = |v: &str| LimitsError::BadValue {
        row: row.to_string(),
        which,
        value: v.to_string(),
    };
    match field {
        Some("unlimited") => Ok(LimitValue::Unlimited),
        Some(v) => v.parse().map(LimitValue::Limited).map_err(|_| bad(v)),
        None => Err(bad("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             63422                63422                processes 
Max open files            1024                 4096                 files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       63422                63422                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
";

    #[test]
    fn reads_open_files_soft_and_hard() {
        let got = parse_max_open_files(LIMITS).unwrap();
        assert_eq!(got.soft, LimitValue::Limited(1024));
        assert_eq!(got.hard, LimitValue::Limited(4096));
    }

    #[test]
    fn unlimited_is_its_own_variant_and_infinite_as_gauge() {
        let text = LIMITS.replace(
            "Max open files            1024                 4096",
            "Max open files            65536                unlimited",
        );
        let got = parse_max_open_files(&text).unwrap();
        assert_eq!(got.soft, LimitValue::Limited(65536));
        assert_eq!(got.hard, LimitValue::Unlimited);
        assert_eq!(got.hard.as_f64(), f64::INFINITY);
        assert_eq!(got.soft.as_f64(), 65536.0);
        let stack = parse_limit(LIMITS, "Max stack size").unwrap();
        assert_eq!(
            (stack.soft, stack.hard),
            (LimitValue::Limited(8388608), LimitValue::Unlimited)
        );
    }

    #[test]
    fn rows_without_units_and_whole_name_matching() {
        let nice = parse_limit(LIMITS, "Max nice priority").unwrap();
        assert_eq!(nice.soft, LimitValue::Limited(0));
        // "Max realtime" is a prefix of two rows but not a row itself.
        assert_eq!(
            parse_limit(LIMITS, "Max realtime"),
            Err(LimitsError::MissingRow("Max realtime".into()))
        );
    }

    #[test]
    fn bad_text_is_an_error() {
        assert_eq!(parse_max_open_files("").unwrap_err().kind(), "missing_row");
        let wordy = parse_max_open_files("Max open files lots 4096 files\n").unwrap_err();
        assert_eq!(wordy, LimitsError::MissingRow(MAX_OPEN_FILES.into()));
        let err = parse_max_open_files("Max open files            12x       4096      files\n")
            .unwrap_err();
        assert_eq!(
            err,
            LimitsError::BadValue {
                row: MAX_OPEN_FILES.into(),
                which: "soft",
                value: "12x".into()
            }
        );
        assert_eq!(err.kind(), "parse");
        let short = parse_max_open_files("Max open files            1024\n").unwrap_err();
        assert!(matches!(short, LimitsError::BadValue { which: "hard", .. }));
        let negative = parse_max_open_files("Max open files  -1  4096  files\n").unwrap_err();
        assert!(matches!(
            negative,
            LimitsError::BadValue { which: "soft", .. }
        ));
    }
}
