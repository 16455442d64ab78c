//! How two run configurations differ, setting by setting: what decides whether a directory holds
//! "the same run".

use crate::config::TrainingConfig;
use crate::error::{ConfigDiff, Setting};

/// The settings in which `new` differs from `old`, as `seed 0 → 1` (nested fields dotted:
/// `model.dropout 0.5 → 0.0`; an absent limit reads `none`), sorted by setting; the name and
/// description are not compared.
pub fn config_diff(old: &TrainingConfig, new: &TrainingConfig) -> Vec<ConfigDiff> {
    let mut diffs = Vec::new();
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    diff_values("", &a, &b, &mut diffs);
    let unnamed = |d: &ConfigDiff| !matches!(&d.setting, Setting::Other(f) if f == "name" || f == "description");
    diffs.retain(unnamed);
    diffs
}

fn diff_values(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<ConfigDiff>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let get =
                    |v: &serde_json::Map<String, Value>| v.get(key).cloned().unwrap_or(Value::Null);
                diff_values(&child, &get(x), &get(y), out);
            }
        }
        _ if a == b => {}
        _ => out.push(ConfigDiff {
            setting: Setting::of(path),
            old: show(a),
            new: show(b),
        }),
    }
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
