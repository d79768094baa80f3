//! JSON structure comparison between a simulator answer and a real capture: same object keys recursively,
//! same value kinds (hex string, plain string, number, bool, null, array, object), array items shaped like
//! the real items, error messages equal once numbers are blanked out.
//!
//! Where one side is `null` and the other is not, the difference is accepted only if another capture of the
//! same method shows that kind at that place (the real node answers both there); the non-null side is then
//! compared with that other capture.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The kind of a JSON value as the node's encoders distinguish them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Null,
    Bool,
    Num,
    Hex,
    Str,
    Arr,
    Obj,
}

/// Kind of `v`; `"0x"` followed by at least one hex digit is `Hex`.
pub fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Num,
        Value::String(s) => match s.strip_prefix("0x") {
            Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()) => Kind::Hex,
            _ => Kind::Str,
        },
        Value::Array(_) => Kind::Arr,
        Value::Object(_) => Kind::Obj,
    }
}

/// Everything the captures of one method show at each path: the kinds, and a non-null example.
#[derive(Default, Debug)]
pub struct Seen {
    kinds: BTreeMap<String, BTreeSet<Kind>>,
    examples: BTreeMap<String, Value>,
}

impl Seen {
    /// Records every path of `v` (array items under `[]`).
    pub fn add(&mut self, path: &str, v: &Value) {
        self.kinds
            .entry(path.to_string())
            .or_default()
            .insert(kind(v));
        if !v.is_null() {
            self.examples
                .entry(path.to_string())
                .or_insert_with(|| v.clone());
        }
        match v {
            Value::Array(a) => a.iter().for_each(|i| self.add(&format!("{path}[]"), i)),
            Value::Object(o) => o
                .iter()
                .for_each(|(k, x)| self.add(&format!("{path}.{k}"), x)),
            _ => {}
        }
    }

    fn knows(&self, path: &str, k: Kind) -> bool {
        self.kinds.get(path).is_some_and(|s| s.contains(&k))
    }
}

/// Blanks decimal and hex numbers so messages compare by wording.
pub fn message_shape(m: &str) -> String {
    let mut out = String::new();
    let mut in_num = false;
    for c in m.chars() {
        let digit = c.is_ascii_digit() || (in_num && (c.is_ascii_hexdigit() || c == 'x'));
        if digit {
            if !in_num {
                out.push('N');
            }
        } else {
            out.push(c);
        }
        in_num = digit;
    }
    out
}

/// An array whose items are not all of one kind.
fn is_tuple(a: &[Value]) -> bool {
    a.windows(2).any(|w| kind(&w[0]) != kind(&w[1]))
}

/// Compares `sim` with `real` at `path`; every difference is pushed to `errs`.
pub fn compare(sim: &Value, real: &Value, path: &str, seen: &Seen, errs: &mut Vec<String>) {
    let (ks, kr) = (kind(sim), kind(real));
    if ks != kr {
        let other_known = (kr == Kind::Null || ks == Kind::Null) && seen.knows(path, ks);
        if !other_known {
            errs.push(format!(
                "{path}: simulator {ks:?} {sim}, real {kr:?} {real}"
            ));
        } else if let Some(example) = seen.examples.get(path).filter(|_| !sim.is_null()) {
            compare(sim, example, path, seen, errs);
        }
        return;
    }
    match (sim, real) {
        (Value::Object(s), Value::Object(r)) => {
            let sk: BTreeSet<&String> = s.keys().collect();
            let rk: BTreeSet<&String> = r.keys().collect();
            if sk != rk {
                errs.push(format!(
                    "{path}: keys differ, only simulator {:?}, only real {:?}",
                    sk.difference(&rk).collect::<Vec<_>>(),
                    rk.difference(&sk).collect::<Vec<_>>()
                ));
            }
            for k in sk.intersection(&rk) {
                let p = format!("{path}.{k}");
                if p.ends_with(".error.message") {
                    let (a, b) = (
                        message_shape(&s[*k].to_string()),
                        message_shape(&r[*k].to_string()),
                    );
                    if a != b {
                        errs.push(format!("{p}: simulator {a}, real {b}"));
                    }
                } else {
                    compare(&s[*k], &r[*k], &p, seen, errs);
                }
            }
        }
        (Value::Array(s), Value::Array(r)) if is_tuple(r) => {
            // Mixed kinds (e.g. `test_posRegister`'s `[data, address]`): compared position by position.
            if s.len() != r.len() {
                errs.push(format!("{path}: {} items, real {}", s.len(), r.len()));
            }
            for (i, (x, t)) in s.iter().zip(r).enumerate() {
                compare(x, t, &format!("{path}[{i}]"), seen, errs);
            }
        }
        (Value::Array(s), Value::Array(r)) => {
            let item = format!("{path}[]");
            let template = r.first().or_else(|| seen.examples.get(&item));
            for x in s {
                match template {
                    Some(t) => compare(x, t, &item, seen, errs),
                    None => errs.push(format!("{item}: no real item to compare {x} with")),
                }
            }
        }
        _ => {}
    }
}
