//! Which tensors of a file make the autoencoder, told from their names and shapes alone (before
//! any value is read): two linear layers under any two names (`l1`/`l2`, `nn.Sequential`'s
//! `0`/`2`, `encoder`/`decoder`, Chainer's `l1/W`), alone or inside a training checkpoint's
//! `state_dict`, `model_state_dict` or `model` entry; the shapes say which layer is the encoder.

use std::collections::{BTreeMap, BTreeSet};

use model::{INPUT_SIZE, MAX_HIDDEN};

use crate::weights_error::WeightsError;

/// The entries of a training checkpoint that may hold a model's state dict, in the order tried,
/// each with the separator of its names: PyTorch's (`state_dict.l1.weight`) and a Chainer
/// trainer snapshot's (`updater/model:main/l1/W`).
pub const WRAPPERS: [(&str, char); 4] = [
    ("state_dict", '.'),
    ("model_state_dict", '.'),
    ("model", '.'),
    ("updater/model:main", '/'),
];

/// Our own names, whose absence or surplus is named exactly (PyTorch's and Chainer's spelling).
const OUR_NAMES: [[&str; 4]; 2] = [
    ["l1.weight", "l1.bias", "l2.weight", "l2.bias"],
    ["l1/W", "l1/b", "l2/W", "l2/b"],
];

/// A tensor as a file's header describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its full name in the file (`state_dict.0.weight`).
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
}

/// The tensors chosen as the autoencoder.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The file's names of the encoder's weight and bias, then the decoder's.
    pub names: [String; 4],
    /// Whether the weights are stored `[in, out]` (Burn's layout), not `[out, in]` (PyTorch's).
    pub transposed: bool,
    /// Hidden units.
    pub hidden: usize,
    /// The checkpoint entry the weights came from (`state_dict`), if they were wrapped.
    pub wrapper: Option<String>,
}

/// Chooses the autoencoder's tensors among `entries`; `burn_layout` when the file says its
/// weights are Burn's `[in, out]`. A model over [`MAX_HIDDEN`] units is refused here.
pub fn choose(entries: &[Entry], burn_layout: bool) -> Result<Choice, WeightsError> {
    let whole = two_layers(entries, burn_layout);
    if let Ok(mut choice) = whole {
        // Everything under one wrapper (`{"model": state_dict}`) is still said to be its entry.
        choice.wrapper = WRAPPERS
            .iter()
            .find(|(w, sep)| {
                choice
                    .names
                    .iter()
                    .all(|n| n.starts_with(&format!("{w}{sep}")))
            })
            .map(|(w, _)| w.to_string());
        return Ok(choice);
    }
    for (wrapper, separator) in WRAPPERS {
        let prefix = format!("{wrapper}{separator}");
        let inside: Vec<Entry> = entries
            .iter()
            .filter_map(|e| {
                let name = e.name.strip_prefix(&prefix)?;
                Some(Entry {
                    name: name.to_string(),
                    shape: e.shape.clone(),
                })
            })
            .collect();
        if inside.is_empty() {
            continue;
        }
        // The wrapper's own diagnosis is the one that helps: the rest is an optimizer's state.
        let mut choice = two_layers(&inside, burn_layout)?;
        choice.names = choice.names.map(|n| format!("{prefix}{n}"));
        choice.wrapper = Some(wrapper.to_string());
        return Ok(choice);
    }
    whole
}

/// The top-level entries of `entries` other than `used` (an optimizer, say), sorted.
pub fn other_entries(entries: &[Entry], used: &str) -> Vec<String> {
    // As deep as `used`: `optimizer` beside `state_dict`, `updater/optimizer:main` beside
    // `updater/model:main`.
    let depth = used.split(['.', '/']).count();
    let entry = |name: &str| -> String {
        let end = name
            .match_indices(['.', '/'])
            .nth(depth - 1)
            .map_or(name.len(), |(i, _)| i);
        name[..end].to_string()
    };
    let firsts: BTreeSet<String> = entries
        .iter()
        .filter(|e| !e.name.starts_with(used))
        .map(|e| entry(&e.name))
        .collect();
    firsts.into_iter().collect()
}

/// A layer's parameters by the name they share (`0` of `0.weight`, `l1` of `l1/W`).
#[derive(Default)]
struct Layer<'a> {
    weight: Option<&'a Entry>,
    bias: Option<&'a Entry>,
}

/// `entries` as exactly two linear layers `784 → n → 784` (a `module.` prefix, which
/// `DataParallel` adds, is looked through).
fn two_layers(entries: &[Entry], burn_layout: bool) -> Result<Choice, WeightsError> {
    check_our_names(entries)?;
    let mut layers: BTreeMap<&str, Layer> = BTreeMap::new();
    for entry in entries {
        let split = [
            (".weight", true),
            (".bias", false),
            ("/W", true),
            ("/b", false),
        ]
        .into_iter()
        .find_map(|(end, is_weight)| Some((entry.name.strip_suffix(end)?, is_weight)));
        let Some((stem, is_weight)) = split else {
            return Err(not_two_layers(entries));
        };
        let layer = layers.entry(stem).or_default();
        let slot = if is_weight {
            &mut layer.weight
        } else {
            &mut layer.bias
        };
        *slot = Some(entry);
    }
    let pairs: Vec<(&str, &Entry, &Entry)> = layers
        .iter()
        .filter_map(|(stem, l)| Some((*stem, l.weight?, l.bias?)))
        .collect();
    let [first, second] = pairs[..] else {
        return Err(not_two_layers(entries));
    };
    if layers.len() != 2 {
        return Err(not_two_layers(entries));
    }
    let (Some(a), Some(b)) = (
        oriented(first.1, first.2, burn_layout),
        oriented(second.1, second.2, burn_layout),
    ) else {
        return Err(shapes(entries));
    };
    let ((encoder, enc), (decoder, dec)) = match (a.is_encoder(), b.is_encoder()) {
        (true, false) => ((first, a), (second, b)),
        (false, true) => ((second, b), (first, a)),
        // Both 784 → 784: only the names can say which comes first.
        (true, true) => match ordered(first.0, second.0) {
            Some(true) => ((first, a), (second, b)),
            Some(false) => ((second, b), (first, a)),
            None => return Err(ambiguous(first.0, second.0)),
        },
        (false, false) => return Err(shapes(entries)),
    };
    let hidden = enc.outputs;
    if enc.transposed != dec.transposed || dec.inputs != hidden || dec.outputs != INPUT_SIZE {
        return Err(shapes(entries));
    }
    if hidden > MAX_HIDDEN {
        return Err(WeightsError::TooManyUnits { hidden });
    }
    let name = |e: &Entry| e.name.clone();
    Ok(Choice {
        names: [
            name(encoder.1),
            name(encoder.2),
            name(decoder.1),
            name(decoder.2),
        ],
        transposed: enc.transposed,
        hidden,
        wrapper: None,
    })
}

/// A linear layer's sizes, read from its weight and bias.
struct Oriented {
    inputs: usize,
    outputs: usize,
    transposed: bool,
}

impl Oriented {
    fn is_encoder(&self) -> bool {
        self.inputs == INPUT_SIZE && self.outputs > 0
    }
}

/// The layer of `weight` and `bias`: `[out, in]` with a bias of `out` (PyTorch, Chainer), or,
/// when the file says so or only that fits, `[in, out]` (Burn).
fn oriented(weight: &Entry, bias: &Entry, burn_layout: bool) -> Option<Oriented> {
    let (&[rows, cols], &[len]) = (&weight.shape[..], &bias.shape[..]) else {
        return None;
    };
    let torch = Oriented {
        inputs: cols,
        outputs: rows,
        transposed: false,
    };
    let burn = Oriented {
        inputs: rows,
        outputs: cols,
        transposed: true,
    };
    let fits =
        |o: &Oriented| o.outputs == len && (o.inputs == INPUT_SIZE || o.outputs == INPUT_SIZE);
    match burn_layout {
        true => Some(burn).filter(fits),
        false => Some(torch).filter(fits).or(Some(burn).filter(fits)),
    }
}

/// Whether layer `first` comes before `second` by their names (`0` before `2`, `l1` before
/// `l2`, `encoder` before `decoder`), if the names say.
fn ordered(first: &str, second: &str) -> Option<bool> {
    let index = |stem: &str| {
        let last = stem.rsplit(['.', '/']).next()?;
        last.trim_start_matches('l').parse::<u64>().ok()
    };
    let role = |stem: &str| {
        ["encoder", "decoder"]
            .iter()
            .position(|r| stem.ends_with(r))
    };
    match (index(first), index(second), role(first), role(second)) {
        (Some(i), Some(j), ..) if i != j => Some(i < j),
        (.., Some(i), Some(j)) if i != j => Some(i < j),
        _ => None,
    }
}

/// Where the file uses our names, the ones it lacks and the ones it has too many, exactly.
fn check_our_names(entries: &[Entry]) -> Result<(), WeightsError> {
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let Some(ours) = OUR_NAMES
        .iter()
        .find(|set| set.iter().any(|n| names.contains(n)))
    else {
        return Ok(());
    };
    let missing: Vec<String> = ours
        .iter()
        .filter(|n| !names.contains(n))
        .map(|n| n.to_string())
        .collect();
    let extra: Vec<String> = names
        .iter()
        .filter(|n| !ours.contains(n))
        .map(|n| n.to_string())
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(WeightsError::Keys {
        missing,
        extra,
        expected: ours.join(", "),
    })
}

/// The file's tensors with their shapes, each layer's weight before its bias: `0.weight [8,
/// 784], 0.bias [8], …` (the first 12).
pub fn listing(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| {
        let bias = e.name.ends_with(".bias") || e.name.ends_with("/b");
        let stem = e
            .name
            .rsplit_once(['.', '/'])
            .map_or(e.name.as_str(), |(stem, _)| stem);
        (stem.to_string(), bias)
    });
    let mut shown: Vec<String> = sorted
        .iter()
        .take(12)
        .map(|e| format!("{} {:?}", e.name, e.shape))
        .collect();
    if entries.len() > 12 {
        shown.push(format!("… {} more", entries.len() - 12));
    }
    shown.join(", ")
}

fn not_two_layers(entries: &[Entry]) -> WeightsError {
    WeightsError::NotTwoLayers {
        found: listing(entries),
    }
}

fn shapes(entries: &[Entry]) -> WeightsError {
    WeightsError::Shapes {
        found: listing(entries),
    }
}

fn ambiguous(a: &str, b: &str) -> WeightsError {
    WeightsError::Ambiguous {
        first: a.to_string(),
        second: b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(&str, &[usize])]) -> Vec<Entry> {
        list.iter()
            .map(|(name, shape)| Entry {
                name: name.to_string(),
                shape: shape.to_vec(),
            })
            .collect()
    }

    fn chosen(list: &[(&str, &[usize])]) -> Choice {
        choose(&entries(list), false).unwrap()
    }

    fn refused(list: &[(&str, &[usize])]) -> String {
        choose(&entries(list), false).unwrap_err().to_string()
    }

    #[test]
    fn any_two_linear_layers_are_found_by_their_shapes() {
        let ours = chosen(&[
            ("l1.weight", &[8, 784]),
            ("l1.bias", &[8]),
            ("l2.weight", &[784, 8]),
            ("l2.bias", &[784]),
        ]);
        assert_eq!(ours.names, ["l1.weight", "l1.bias", "l2.weight", "l2.bias"]);
        assert_eq!(
            (ours.hidden, ours.transposed, ours.wrapper),
            (8, false, None)
        );
        let sequential = chosen(&[
            ("2.weight", &[784, 32]),
            ("0.bias", &[32]),
            ("0.weight", &[32, 784]),
            ("2.bias", &[784]),
        ]);
        assert_eq!(
            sequential.names,
            ["0.weight", "0.bias", "2.weight", "2.bias"]
        );
        let named = chosen(&[
            ("decoder.weight", &[784, 50]),
            ("decoder.bias", &[784]),
            ("encoder.weight", &[50, 784]),
            ("encoder.bias", &[50]),
        ]);
        assert_eq!(named.names[0], "encoder.weight");
        let chainer = chosen(&[
            ("l1/W", &[8, 784]),
            ("l1/b", &[8]),
            ("l2/W", &[784, 8]),
            ("l2/b", &[784]),
        ]);
        assert_eq!(chainer.names, ["l1/W", "l1/b", "l2/W", "l2/b"]);
        // Burn's own layout, [in, out], told by the biases.
        let burn = chosen(&[
            ("encoder.weight", &[784, 50]),
            ("encoder.bias", &[50]),
            ("decoder.weight", &[50, 784]),
            ("decoder.bias", &[784]),
        ]);
        assert_eq!(
            (burn.names[0].as_str(), burn.transposed),
            ("encoder.weight", true)
        );
    }

    #[test]
    fn a_training_checkpoint_gives_its_state_dict() {
        let file = entries(&[
            ("state_dict.l1.weight", &[8, 784]),
            ("state_dict.l1.bias", &[8]),
            ("state_dict.l2.weight", &[784, 8]),
            ("state_dict.l2.bias", &[784]),
            ("optimizer.state.0.exp_avg", &[8, 784]),
            ("optimizer.state.0.exp_avg_sq", &[8, 784]),
        ]);
        let choice = choose(&file, false).unwrap();
        assert_eq!(choice.wrapper.as_deref(), Some("state_dict"));
        assert_eq!(choice.names[2], "state_dict.l2.weight");
        assert_eq!(other_entries(&file, "state_dict"), ["optimizer"]);
        let model = entries(&[
            ("model.0.weight", &[8, 784]),
            ("model.0.bias", &[8]),
            ("model.2.weight", &[784, 8]),
            ("model.2.bias", &[784]),
            ("ema.x", &[1]),
        ]);
        assert_eq!(
            choose(&model, false).unwrap().wrapper.as_deref(),
            Some("model")
        );
        // Alone under a wrapper: still said to be its entry.
        let alone = entries(&[
            ("model.0.weight", &[8, 784]),
            ("model.0.bias", &[8]),
            ("model.2.weight", &[784, 8]),
            ("model.2.bias", &[784]),
        ]);
        assert_eq!(
            choose(&alone, false).unwrap().wrapper.as_deref(),
            Some("model")
        );
        // A Chainer trainer snapshot: the model beside the optimizer's state.
        let snapshot = entries(&[
            ("updater/model:main/l1/W", &[8, 784]),
            ("updater/model:main/l1/b", &[8]),
            ("updater/model:main/l2/W", &[784, 8]),
            ("updater/model:main/l2/b", &[784]),
            ("updater/optimizer:main/l1/W/m", &[8, 784]),
        ]);
        let choice = choose(&snapshot, false).unwrap();
        assert_eq!(choice.names[0], "updater/model:main/l1/W");
        assert_eq!(
            other_entries(&snapshot, "updater/model:main"),
            ["updater/optimizer:main"]
        );
    }

    #[test]
    fn square_layers_are_ordered_by_name_or_refused() {
        let square = chosen(&[
            ("2.weight", &[784, 784]),
            ("2.bias", &[784]),
            ("0.weight", &[784, 784]),
            ("0.bias", &[784]),
        ]);
        assert_eq!(square.names[0], "0.weight");
        let e = refused(&[
            ("a.weight", &[784, 784]),
            ("a.bias", &[784]),
            ("b.weight", &[784, 784]),
            ("b.bias", &[784]),
        ]);
        assert!(e.contains("a and b") && e.contains("784 → 784"), "{e}");
    }

    #[test]
    fn what_is_not_the_autoencoder_is_named_with_the_files_keys() {
        let e = refused(&[
            ("l1.weight", &[8, 784]),
            ("l1.bias", &[8]),
            ("l2.weight", &[784, 8]),
        ]);
        assert!(e.contains("missing l2.bias"), "{e}");
        let e = refused(&[
            ("0.weight", &[8, 784]),
            ("0.bias", &[8]),
            ("1.weight", &[8]),
            ("1.bias", &[8]),
            ("2.weight", &[784, 8]),
            ("2.bias", &[784]),
        ]);
        assert!(
            e.contains("0.weight [8, 784]")
                && e.contains("1.weight [8]")
                && e.contains("nn.Sequential"),
            "{e}"
        );
        let e = refused(&[
            ("0.weight", &[8, 784]),
            ("0.bias", &[8]),
            ("2.weight", &[784, 9]),
            ("2.bias", &[784]),
        ]);
        assert!(
            e.contains("shapes") && e.contains("2.weight [784, 9]"),
            "{e}"
        );
        let e = refused(&[
            ("l1.weight", &[4097, 784]),
            ("l1.bias", &[4097]),
            ("l2.weight", &[784, 4097]),
            ("l2.bias", &[784]),
        ]);
        assert!(e.contains("4097") && e.contains("4096"), "{e}");
        let e = refused(&[("state_dict.0.weight", &[8, 784]), ("optimizer.step", &[1])]);
        assert!(
            e.contains("state_dict.") || e.contains("0.weight [8, 784]"),
            "{e}"
        );
    }
}
