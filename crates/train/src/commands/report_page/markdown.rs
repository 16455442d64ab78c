//! The report as Markdown, written once: each section a function; the HTML page renders it.

use std::fmt::Write as _;

use study::report::{CaseReport, Claim, Report};

/// The report's Markdown being written.
#[derive(Default)]
pub struct Page {
    md: String,
}

impl Page {
    /// `# text`: the page's title.
    pub fn title(&mut self, text: &str) {
        let _ = writeln!(self.md, "# {text}\n");
    }

    /// `## text`.
    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.md, "## {text}\n");
    }

    /// A paragraph (inline Markdown).
    pub fn text(&mut self, text: &str) {
        let _ = writeln!(self.md, "{text}\n");
    }

    /// A bulleted list (inline Markdown).
    pub fn list(&mut self, items: &[String]) {
        for item in items {
            let _ = writeln!(self.md, "- {item}");
        }
        self.md.push('\n');
    }

    /// What `write` writes, in a box that sits beside the next one on a wide page.
    pub fn cell(&mut self, write: impl FnOnce(&mut Page)) {
        self.md.push_str("<div class=\"cell\">\n\n");
        write(self);
        self.md.push_str("</div>\n\n");
    }

    /// A table; `|` in cells is escaped.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let _ = writeln!(self.md, "| {} |", headers.join(" | "));
        let _ = writeln!(self.md, "|{}", "---|".repeat(headers.len()));
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            let _ = writeln!(self.md, "| {} |", cells.join(" | "));
        }
        self.md.push('\n');
    }

    /// Figures side by side, each with its caption under it (HTML, which Markdown passes on).
    pub fn figures(&mut self, figures: &[(String, String)]) {
        self.md.push_str("<div class=\"figures\">\n");
        for (src, caption) in figures {
            let (src, caption) = (escape(src), escape(caption));
            let _ = writeln!(
                self.md,
                "<figure><img src=\"{src}\" alt=\"{caption}\"><figcaption>{caption}</figcaption></figure>"
            );
        }
        self.md.push_str("</div>\n\n");
    }

    /// The claims table, each claim's per-seed numbers and verdicts one click away below it.
    pub fn claims(&mut self, claims: &[Claim]) {
        let rows: Vec<Vec<String>> = claims
            .iter()
            .map(|c| vec![c.claim.clone(), c.numbers.clone(), c.verdict.to_string()])
            .collect();
        self.table(&["claim (study)", "numbers (seed 0)", "verdict"], &rows);
        for c in claims.iter().filter(|c| c.seeds.len() > 1) {
            let _ = writeln!(
                self.md,
                "<details><summary>Per seed: {}</summary>\n",
                escape(&c.claim)
            );
            for seed in &c.seeds {
                let _ = writeln!(
                    self.md,
                    "- seed {}: {} → {}",
                    seed.seed, seed.numbers, seed.verdict
                );
            }
            self.md.push_str("\n</details>\n\n");
        }
    }

    /// The Markdown written.
    pub fn into_markdown(self) -> String {
        self.md
    }
}

/// A table cell: `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Text for HTML inside the Markdown (figures, summaries).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The title of the report (the Markdown's first heading, the page's title).
pub const TITLE: &str = "The study report: seven MNIST autoencoders";

/// The seed-0 report of every run, in order.
pub fn primary(report: &Report) -> impl Iterator<Item = &CaseReport> {
    report.cases.iter().filter(|c| c.seed == 0)
}

/// One table row per run (its seed-0 report; the other seeds enter through [`across`]).
pub fn per_case(report: &Report, row: impl Fn(&CaseReport) -> Vec<String>) -> Vec<Vec<String>> {
    primary(report).map(row).collect()
}

/// `f` of every seed of `c`'s run, as `value` (one seed) or `mean ± sd` (several).
pub fn across(
    report: &Report,
    c: &CaseReport,
    f: impl Fn(&CaseReport) -> f64,
    show: fn(f64) -> String,
) -> String {
    let values: Vec<f64> = report
        .cases
        .iter()
        .filter(|o| o.run == c.run)
        .map(f)
        .collect();
    match values.as_slice() {
        [one] => show(*one),
        many => {
            let (mean, sd) = study::report::mean_and_spread(many);
            format!("{} ± {}", show(mean), show(sd))
        }
    }
}

/// Seeds of `c`'s run that the report has.
pub fn seeds_of(report: &Report, c: &CaseReport) -> usize {
    report.cases.iter().filter(|o| o.run == c.run).count()
}

/// A ratio to one decimal.
pub fn ratio1(x: f64) -> String {
    format!("{x:.1}")
}

/// A ratio to two decimals.
pub fn ratio2(x: f64) -> String {
    format!("{x:.2}")
}

/// A ratio to four decimals.
pub fn ratio4(x: f64) -> String {
    format!("{x:.4}")
}

/// A share as a percentage to one decimal.
pub fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// A mean squared error to five decimals.
pub fn mse(x: f64) -> String {
    format!("{x:.5}")
}

/// Seconds as a whole number, or with two decimals below 10 s (quick runs take a fraction).
pub fn seconds(s: f64) -> String {
    // `+ 0.0` turns a negative zero into a positive one ("-0" in a table of seconds).
    let s = s + 0.0;
    if s < 10.0 {
        format!("{s:.2}")
    } else {
        format!("{s:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use study::report::{Combined, SeedVerdict, Verdict, VerdictKind};

    #[test]
    fn per_seed_verdicts_are_one_click_away_and_text_is_escaped() {
        let verdict = |seed: u64, kind, text: &str| SeedVerdict {
            seed,
            numbers: format!("n{seed}"),
            verdict: Verdict {
                kind,
                text: text.into(),
                shared: None,
            },
        };
        let claims = vec![Claim {
            topic: study::report::Topic::Efficiency,
            sweep: Vec::new(),
            claim: "Case <7> is best".into(),
            numbers: "n0".into(),
            verdict: Combined::Mixed {
                supported: 1,
                partly: 0,
                of: 2,
                shared: None,
            },
            seeds: vec![
                verdict(0, VerdictKind::Supported, "supported: yes"),
                verdict(1, VerdictKind::NotSupported, "not supported: no"),
            ],
        }];
        let mut page = Page::default();
        page.claims(&claims);
        let md = page.into_markdown();
        assert!(
            md.contains("| Case <7> is best | n0 | mixed: supported in 1 of 2 seeds |"),
            "{md}"
        );
        assert!(
            md.contains("<details><summary>Per seed: Case &lt;7&gt; is best</summary>"),
            "{md}"
        );
        assert!(md.contains("- seed 1: n1 → not supported: no"), "{md}");
    }

    #[test]
    fn seconds_are_never_negative_zero() {
        assert_eq!(seconds(-0.0), "0.00");
        assert_eq!(seconds(0.234), "0.23");
        assert_eq!(seconds(123.4), "123");
    }
}
