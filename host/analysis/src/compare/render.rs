//! A comparison as text: the terminal table, and the markdown of a pull-request comment (verdict first, tables
//! folded). The model is the parent module's [`Report`]; this only reads it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gohook_stats::{Comparison, Verdict, samples_needed_for_ci};

use super::{Decision, Metric, Report, Row, SideInfo};
use crate::units::count;

impl Report {
    pub fn to_table(&self) -> String {
        self.render(false)
    }

    /// A GitHub-flavoured markdown table, for a pull-request comment.
    pub fn to_markdown(&self) -> String {
        self.render(true)
    }

    /// Table or markdown. The markdown is a pull-request comment: the verdict on the first line, then the two sides
    /// and the machine, the noise, and the tables folded under it.
    fn render(&self, markdown: bool) -> String {
        let mut out = String::new();
        let side = |s: &SideInfo| {
            let labels: Vec<String> =
                s.context.iter().flat_map(|c| c.labels.iter().map(|(k, v)| format!("{k}={v}"))).collect();
            let labels = if labels.is_empty() { String::new() } else { format!(", {}", labels.join(" ")) };
            let left_out = if s.dropped.is_empty() { String::new() } else { format!("; {} left out", s.dropped.len()) };
            format!("{} {} ({}{left_out}{labels})", s.kind, s.name, count(s.builds, "build", "builds"))
        };
        let noise = self.noise.describe(&self.old, &self.new, self.alpha, self.threshold_percent);
        if markdown {
            let _ = writeln!(out, "**{} gohook: {}**\n", self.decision.mark(), self.verdict());
            let _ = writeln!(out, "{} → {}\n", side(&self.old), side(&self.new));
            self.render_circumstances(&mut out, true);
            for line in &noise {
                let _ = writeln!(out, "> {line}\n");
            }
            let _ = writeln!(out, "<details><summary>wall time, CPU and peak RSS per stage and package</summary>\n");
            self.render_tables(&mut out, true);
            let _ = writeln!(out, "</details>");
            return out;
        }
        let _ = writeln!(out, "OLD: {}\nNEW: {}", side(&self.old), side(&self.new));
        self.render_circumstances(&mut out, false);
        self.render_tables(&mut out, false);
        for line in &noise {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "{}", self.verdict());
        out
    }

    /// The verdict in one line: what the exit code says, and why.
    pub fn verdict(&self) -> String {
        match self.decision {
            Decision::Regression => format!(
                "significantly slower, by more than {}% of the build: {} (exit 1)",
                self.threshold_percent.unwrap_or(0.0),
                self.regressions.join(", ")
            ),
            Decision::Undecided { per_side } => format!(
                "undecided: {} against {} cannot show a difference at alpha {}; use ≥ {per_side} builds a side{}",
                count(self.old.builds, "build", "builds"),
                self.new.builds,
                self.alpha,
                if self.threshold_percent.is_some() { " (exit 2)" } else { "" }
            ),
            Decision::Pass => format!(
                "no significant slowdown costing more than {}% of the build",
                self.threshold_percent.unwrap_or(0.0)
            ),
            Decision::NotGated => "no threshold set (--threshold 5% makes a significant slowdown exit 1)".to_owned(),
        }
    }

    fn render_tables(&self, out: &mut String, markdown: bool) {
        let mut footnotes: BTreeMap<u8, String> = BTreeMap::new();
        let header = ["", "OLD", "NEW", "delta", "p"];
        for metric in [Metric::Wall, Metric::Cpu, Metric::PeakRss] {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.metric == metric).collect();
            if rows.is_empty() {
                continue;
            }
            let mut lines: Vec<[String; 5]> = Vec::new();
            for row in rows {
                let c = &row.comparison;
                let (delta, note) = verdict_words(c);
                if let Some(note) = note {
                    footnotes.insert(2, note);
                }
                let ci_note = c.old.ci.is_none() || c.new.ci.is_none();
                if ci_note && (c.old.n > 0 && c.new.n > 0) {
                    footnotes.insert(
                        1,
                        format!("¹ need ≥ {} samples for a 95% confidence interval", samples_needed_for_ci()),
                    );
                }
                let p = match c.p_value {
                    Some(p) => format!("p={p:.3} n={}+{}", c.old.n, c.new.n),
                    None => format!("n={}+{}", c.old.n, c.new.n),
                };
                let flag = if row.regression { " ✗" } else { "" };
                lines.push([
                    row.subject.label(),
                    summary_cell(metric, &c.old),
                    summary_cell(metric, &c.new),
                    format!("{delta}{flag}"),
                    p,
                ]);
            }
            if let Some(g) = self.geomean.iter().find(|g| g.metric == metric) {
                lines.push([
                    "geomean".to_owned(),
                    g.old.map_or("-".to_owned(), |v| metric.format(v)),
                    g.new.map_or("-".to_owned(), |v| metric.format(v)),
                    g.delta_percent.map_or("-".to_owned(), |d| format!("{d:+.2}%")),
                    String::new(),
                ]);
            }
            let mut title = header.map(str::to_owned);
            title[0] = metric.title().to_owned();
            write_table(out, &title, &lines, markdown);
            let _ = writeln!(out, "{}({})\n", if markdown { "\n" } else { "  " }, metric.meaning());
        }
        for note in footnotes.values() {
            let _ = writeln!(out, "{note}");
        }
    }

    fn render_circumstances(&self, out: &mut String, markdown: bool) {
        let bullet = if markdown { "- " } else { "" };
        match (&self.old.context, &self.new.context) {
            (Some(old), Some(_)) if self.differences.is_empty() => {
                let _ = writeln!(out, "{bullet}same machine and settings: {}", old.describe());
            }
            (Some(old), Some(new)) => {
                let _ = writeln!(out, "{bullet}OLD ran on: {}", old.describe());
                let _ = writeln!(out, "{bullet}NEW ran on: {}", new.describe());
                let _ = writeln!(out, "{bullet}what differs:");
                for d in &self.differences {
                    let show = |v: &str| if v.is_empty() { "(none)".to_owned() } else { v.to_owned() };
                    let _ = writeln!(out, "  {bullet}{}: {} → {}", d.what, show(&d.old), show(&d.new));
                }
            }
            _ => {
                let _ =
                    writeln!(out, "{bullet}machine unknown on one side (builds recorded before gohook recorded it)");
            }
        }
        for side in [&self.old, &self.new] {
            if side.mixed {
                let _ = writeln!(out, "{bullet}note: the builds of {} ran under different circumstances", side.name);
            }
            for line in crate::sample::describe(&side.dropped, &side.name) {
                let _ = writeln!(out, "{bullet}{line}");
            }
        }
        let _ = writeln!(out);
    }
}

fn summary_cell(metric: Metric, summary: &gohook_stats::Summary) -> String {
    if summary.n == 0 {
        return "-".to_owned();
    }
    let ci = match summary.ci_relative() {
        Some(r) => format!(" ± {:.0}%", r * 100.0),
        None => " ± ∞ ¹".to_owned(),
    };
    format!("{}{ci}", metric.format(summary.median))
}

/// The delta column in benchstat's words, and a footnote when it needs one.
fn verdict_words(c: &Comparison) -> (String, Option<String>) {
    match c.verdict {
        _ if c.old.n == 0 || c.new.n == 0 => ("missing".to_owned(), None),
        Verdict::NotSignificant => ("~".to_owned(), None),
        Verdict::NeedSamples { per_side } => (
            "? ²".to_owned(),
            Some(format!("² need ≥ {per_side} samples per side to detect a difference at this alpha")),
        ),
        Verdict::Larger | Verdict::Smaller => (c.delta_percent.map_or("?".to_owned(), |d| format!("{d:+.2}%")), None),
    }
}

fn write_table(out: &mut String, header: &[String; 5], lines: &[[String; 5]], markdown: bool) {
    if markdown {
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        for line in lines {
            let _ = writeln!(out, "| {} |", line.join(" | "));
        }
        return;
    }
    let width =
        |i: usize| lines.iter().map(|l| l[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..5).map(width).collect();
    let pad = |text: &str, w: usize, right: bool| {
        let fill = " ".repeat(w.saturating_sub(text.chars().count()));
        if right { format!("{fill}{text}") } else { format!("{text}{fill}") }
    };
    let line = |cells: &[String; 5]| {
        let mut s = pad(&cells[0], widths[0], false);
        for (i, cell) in cells.iter().enumerate().skip(1) {
            s.push_str("  ");
            s.push_str(&pad(cell, widths[i], i < 4));
        }
        s.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(header));
    for l in lines {
        let _ = writeln!(out, "{}", line(l));
    }
}
