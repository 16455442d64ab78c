//! How many, and how long something took, in a user's words.

use std::time::Duration;

/// `1 h 02 min`, `12 min 05 s`, `42 s`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// `1 epoch`, `3 epochs`: a count and its noun, plural when it is not one.
pub fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_clock() {
        assert_eq!(clock(Duration::from_secs(42)), "42 s");
        assert_eq!(clock(Duration::from_secs(725)), "12 min 05 s");
        assert_eq!(clock(Duration::from_secs(3720)), "1 h 02 min");
    }

    #[test]
    fn counts_say_one_or_many() {
        assert_eq!(count(1, "epoch"), "1 epoch");
        assert_eq!(count(0, "run"), "0 runs");
        assert_eq!(count(11, "run"), "11 runs");
    }
}
