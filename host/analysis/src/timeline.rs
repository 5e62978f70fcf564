//! `gohook report --format html` and `gohook build --html`: one build as a single self-contained page, in the
//! spirit of cargo's `--timings`: the tool runs packed into lanes (one per slot of go's that ran tools at once, so the
//! first screen holds the whole build at any size; one row per run a click away), named on the bar, the critical
//! path outlined; zoom and pan on the time axis and a package filter that highlights; the number of running tools
//! against the machine's CPUs; then the verdict and the critical path, the stage table, the modules, the slowest
//! packages with their phases, and gohook's own overhead.
//!
//! The page opens offline: the runs travel in a JSON block and are drawn on canvases by the page's one script (only
//! the rows in sight, and in a lane the runs in the time range, so 10,000 runs stay quick), and a
//! Content-Security-Policy that allows only that script and style, by hash, forbids every fetch.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::BuildRecords;
use crate::summary::{PhaseTotal, Summary};
use crate::trace;
use crate::units::{count, format_duration, format_unix_ns};

/// Modules and prefixes named on the page.
const ROLLUPS_SHOWN: usize = 15;

const SCRIPT: &str = include_str!("timeline/page.js");
const STYLE: &str = include_str!("timeline/page.css");

/// What the script draws.
#[derive(Serialize)]
struct Drawing {
    wall_ms: f64,
    /// The machine's logical CPUs; 0 when not recorded.
    cpus: u32,
    stages: Vec<&'static str>,
    packages: Vec<String>,
    /// Why runs ran (`gohook why`), each text once.
    notes: Vec<String>,
    runs: Vec<DrawnRun>,
}

/// One tool run: `[lane, start ms, wall ms, stage index, package index, cpu ms, peak RSS MiB, on the critical path,
/// why it ran (note index, or null)]`, an array rather than an object to keep a 10,000-run page small (the script's
/// `RUN` names the positions).
type DrawnRun = (usize, f64, f64, usize, usize, f64, f64, bool, Option<usize>);

impl Drawing {
    fn of(build: &BuildRecords, summary: &Summary, reasons: &BTreeMap<String, String>) -> Drawing {
        let start = summary.start_unix_ns;
        let ms = |ns: u64| ns as f64 / 1e6;
        let work: Vec<_> = build.work().collect();
        let on_path = summary.critical_path.as_ref().map(|path| path.runs(build)).unwrap_or_default();
        let mut stages: Vec<&'static str> = Vec::new();
        let mut packages: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let mut runs = Vec::with_capacity(work.len());
        for (run, lane) in work.iter().zip(trace::lanes(work.iter().copied())) {
            let stage = index_of(&mut stages, run.stage.name());
            let package = if run.package.is_empty() { run.tool.clone() } else { run.package.clone() };
            let critical = on_path.contains(&(run.pid, run.start_unix_ns));
            let reason = match run.stage {
                gohook_records::Stage::Link => reasons.get(&format!("link of {}", run.package)),
                gohook_records::Stage::Compile | gohook_records::Stage::Asm => reasons.get(&run.package),
                _ => None,
            };
            let note = reason.map(|r| index_of(&mut notes, r.clone()));
            runs.push((
                lane,
                ms(run.start_unix_ns.saturating_sub(start)),
                ms(run.duration_ns),
                stage,
                index_of(&mut packages, package),
                ms(run.user_ns + run.sys_ns),
                run.max_rss_bytes as f64 / (1 << 20) as f64,
                critical,
                note,
            ));
        }
        Drawing {
            wall_ms: ms(summary.wall_ns),
            cpus: summary.context.as_ref().map_or(0, |c| c.machine.logical_cpus),
            stages,
            packages,
            notes,
            runs,
        }
    }
}

fn index_of<T: PartialEq>(items: &mut Vec<T>, item: T) -> usize {
    items.iter().position(|i| *i == item).unwrap_or_else(|| {
        items.push(item);
        items.len() - 1
    })
}

/// The page for one build; `reasons` says why each package (or `link of p`) ran, from `gohook why`, shown on hover.
pub fn render(build: &BuildRecords, summary: &Summary, reasons: &BTreeMap<String, String>) -> String {
    let drawing = Drawing::of(build, summary, reasons);
    // `</script>` inside the JSON would end the block early.
    let data = serde_json::to_string(&drawing).unwrap_or_else(|_| "{}".into()).replace("</", "<\\/");
    let policy = format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    );
    let mut page = String::new();
    let title = format!("gohook build {}", summary.build_id);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n",
        escape(&title)
    );
    header(&mut page, summary);
    let legend: String = drawing
        .stages
        .iter()
        .map(|s| format!("<span><i class=\"stage-{s}\"></i>{s}</span>"))
        .collect::<Vec<_>>()
        .join("");
    let _ = write!(
        page,
        "<h2>Tool runs</h2>\n<p class=\"legend\">{legend}<span>outlined in red: the critical path</span></p>\n\
         <div class=\"toolbar\"><input id=\"search\" type=\"search\" placeholder=\"filter packages, e.g. net/http\" \
         autocomplete=\"off\"> <span id=\"matches\"></span><span class=\"zoom\"><button id=\"zoom-in\" \
         title=\"zoom in (ctrl + wheel)\">+</button><button id=\"zoom-out\" title=\"zoom out\">−</button><button \
         id=\"zoom-reset\">whole build</button> <button id=\"view-mode\" title=\"switch between lanes (one per slot \
         of go's that ran tools at once) and one row per run\">one row per run</button> <span id=\"range\"></span>\
         </span></div>\n\
         <div class=\"chart overview\"><canvas id=\"overview\" title=\"the whole build: click to show that part\">\
         </canvas></div>\n<div class=\"chart\"><div id=\"gantt-scroll\"><canvas id=\"gantt\"></canvas><div id=\"gantt-spacer\"></div>\
         </div><div id=\"tooltip\"></div></div>\n\
         <p class=\"note\">The tool runs packed into lanes, one per slot of go's that ran tools at once (<i>one row \
         per run</i> shows each run on a row of its own, in the order they started); the strip above is the whole \
         build, the box what the chart shows (click it to go there). Zoom with ctrl + wheel or the buttons, drag or \
         shift + wheel to pan, hover a bar for its times and memory.</p>\n\
         <h2>Concurrency</h2>\n<div class=\"chart\"><canvas id=\"concurrency\"></canvas></div>\n\
         <p class=\"note\">Tools running over the same time range; the dashed line is the machine's CPUs. \
         <span id=\"peak\"></span></p>\n"
    );
    critical_path(&mut page, summary);
    what_if(&mut page, summary);
    stage_table(&mut page, summary);
    rollups(&mut page, summary);
    slowest_packages(&mut page, summary);
    phase_totals(&mut page, summary);
    let _ = writeln!(page, "<h2>gohook's overhead</h2>\n<p class=\"meta\">{}</p>", escape(&summary.gohook.describe()));
    let _ = write!(
        page,
        "<script type=\"application/json\" id=\"gohook-data\">{data}</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
    );
    page
}

/// Predicted wall time against cores, drawn as an inline SVG (no script needed): the curve, the floor no number of
/// cores beats, and the build as measured.
fn what_if(page: &mut String, summary: &Summary) {
    let Some(what_if) = &summary.what_if else { return };
    let (width, height, left, bottom, top, right) = (640.0, 260.0, 56.0, 36.0, 12.0, 16.0);
    let max_cores = what_if.curve.last().map_or(1, |p| p.cores) as f64;
    let max_wall = what_if.curve.iter().map(|p| p.wall_ns).chain([what_if.measured.wall_ns]).max().unwrap_or(1) as f64;
    let x = |cores: f64| left + (cores - 1.0) / (max_cores - 1.0).max(1.0) * (width - left - right);
    let y = |ns: f64| top + (1.0 - ns / max_wall) * (height - top - bottom);
    let points: Vec<String> =
        what_if.curve.iter().map(|p| format!("{:.1},{:.1}", x(p.cores as f64), y(p.wall_ns as f64))).collect();
    let floor = y(what_if.floor_ns as f64);
    let (mx, my) = (x(what_if.measured.cores as f64), y(what_if.measured.wall_ns as f64));
    let mut ticks = String::new();
    for cores in [1u32, 2, 4, 8, 16, 32, 64].into_iter().filter(|&c| c as f64 <= max_cores) {
        let _ = write!(
            ticks,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{cores}</text>",
            x(cores as f64),
            height - bottom + 16.0
        );
    }
    let _ = write!(
        page,
        "<h2>What if: cores</h2>\n<svg id=\"what-if\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"predicted wall time by number of cores\">\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#888\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"#888\"/>{ticks}\
         <text x=\"{cx:.1}\" y=\"{h:.1}\" text-anchor=\"middle\" class=\"axis\">cores</text>\
         <text x=\"4\" y=\"{t:.1}\" class=\"axis\">{max}</text><text x=\"{zx}\" y=\"{b}\" class=\"axis\">0</text>\
         <line id=\"what-if-floor\" x1=\"{left}\" y1=\"{floor:.1}\" x2=\"{r}\" y2=\"{floor:.1}\" stroke=\"#c33\" \
         stroke-dasharray=\"5 4\"/><text x=\"{r}\" y=\"{fl:.1}\" text-anchor=\"end\" class=\"axis\">floor {floor_text}</text>\
         <polyline id=\"what-if-curve\" fill=\"none\" stroke=\"#36c\" stroke-width=\"2\" points=\"{points}\"/>\
         <circle id=\"what-if-measured\" cx=\"{mx:.1}\" cy=\"{my:.1}\" r=\"5\" fill=\"#222\"><title>measured: \
         {measured} on {mc}</title></circle></svg>\n\
         <p class=\"note\">Predicted wall time with go's scheduler replayed on 1 to {top_cores} cores from this build's \
         run times (<code>gohook report --cores N</code>); the dot is this build as it ran ({measured} with -p {mc}), the \
         dashed line the floor no number of cores beats; beyond {enough} cores the gain is under 5%. The model leaves \
         out {leaves}.</p>\n",
        b = height - bottom,
        zx = left - 14.0,
        r = width - right,
        cx = (left + width - right) / 2.0,
        h = height - 4.0,
        t = top + 10.0,
        max = escape(&format_duration(max_wall as u64)),
        fl = floor - 4.0,
        floor_text = escape(&format_duration(what_if.floor_ns)),
        points = points.join(" "),
        measured = escape(&format_duration(what_if.measured.wall_ns)),
        mc = what_if.measured.cores,
        top_cores = max_cores,
        enough = what_if.enough_cores,
        leaves = escape(what_if.leaves_out),
    );
    let caveats: String = what_if.caveats().iter().map(|c| format!("<li>{}</li>", escape(c))).collect();
    let _ = writeln!(page, "<ul class=\"note\" id=\"what-if-caveats\">{caveats}</ul>");
}

/// A CSP source for an inline block: `sha256-<base64 of its digest>`.
fn csp_hash(text: &str) -> String {
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
}

fn header(page: &mut String, summary: &Summary) {
    let command = if summary.command.is_empty() { "(bare -toolexec)".to_owned() } else { summary.command.join(" ") };
    let _ = writeln!(page, "<h1>gohook build {}</h1>", escape(&summary.build_id));
    let _ = writeln!(
        page,
        "<p class=\"meta\"><code>{}</code> in <code>{}</code></p>",
        escape(&command),
        escape(&summary.dir)
    );
    if let Some(context) = &summary.context {
        let _ = writeln!(page, "<p class=\"meta\">{}</p>", escape(&context.describe()));
    }
    if let Some(load) = summary.load_line() {
        let _ = writeln!(page, "<p class=\"meta\">{}</p>", escape(&load));
    }
    let mut line = format!(
        "started {}, <b>{}</b> wall, <b id=\"tool-runs\">{}</b> {} + {}, {}",
        format_unix_ns(summary.start_unix_ns),
        format_duration(summary.wall_ns),
        summary.invocations,
        if summary.invocations == 1 { "tool run" } else { "tool runs" },
        count(summary.probes, "probe", "probes"),
        summary.exit.map_or("exit unknown".to_owned(), |e| e.to_string())
    );
    if let Some(cache) = summary.cache_line() {
        let _ = write!(line, "; {cache}");
    }
    let _ = writeln!(page, "<p class=\"meta\">{line}</p>");
    for plan in summary.plan_lines() {
        let _ = writeln!(page, "<p class=\"meta\">{}</p>", escape(&plan));
    }
}

fn stage_table(page: &mut String, summary: &Summary) {
    let _ = writeln!(
        page,
        "<h2>Stages</h2>\n<table><tr><th>stage</th><th>runs</th><th>sum of run times</th><th>p50</th><th>p95</th>\
         <th>max</th><th>cpu</th><th>peak RSS</th><th>of</th></tr>"
    );
    for s in &summary.stages {
        let [cells @ .., of] = s.cells();
        let cells: String = cells.iter().map(|c| format!("<td>{}</td>", escape(c))).collect();
        let _ = writeln!(page, "<tr>{cells}<td class=\"name\">{}</td></tr>", escape(&of));
    }
    let _ = writeln!(
        page,
        "</table>\n<p class=\"note\">Runs overlap: their times add up to more than the build's {} of wall time.</p>",
        format_duration(summary.wall_ns)
    );
}

fn critical_path(page: &mut String, summary: &Summary) {
    let Some(path) = &summary.critical_path else {
        let _ = writeln!(
            page,
            "<h2>Critical path</h2>\n<p class=\"note\">Not known: the package graph is recorded by <code>gohook build</code> and <code>gohook bench</code>.</p>"
        );
        return;
    };
    let _ = writeln!(page, "<h2>Critical path</h2>");
    if let Some(verdict) = path.verdict() {
        let _ = writeln!(page, "<p class=\"verdict\">{}</p>", escape(&verdict));
    }
    let _ = writeln!(
        page,
        "<p class=\"meta\">{}</p>\n<table><tr><th>package</th><th>work</th><th>share</th><th>queued for a core</th></tr>",
        escape(&path.headline())
    );
    for step in &path.steps {
        let _ = writeln!(
            page,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{:.0}%</td><td>{}</td></tr>",
            escape(&step.name),
            format_duration(step.work_ns),
            step.share * 100.0,
            format_duration(step.queued_ns)
        );
    }
    let _ = writeln!(
        page,
        "</table>\n<p class=\"note\">{}. go's start-up before its first tool: {}.</p>",
        escape(path.queued_meaning()),
        format_duration(path.startup_ns)
    );
}

/// The packages' times per module and per import path prefix, the groups that ran something.
fn rollups(page: &mut String, summary: &Summary) {
    for (title, rollups) in [("By module", &summary.modules), ("By import path prefix", &summary.prefixes)] {
        let worked: Vec<_> = rollups.iter().filter(|r| r.compiled > 0).collect();
        if worked.len() < 2 {
            continue;
        }
        let _ = writeln!(
            page,
            "<h2>{title}</h2>\n<table><tr><th>name</th><th>wall</th><th>cpu</th><th>share</th><th>compiled</th></tr>"
        );
        for r in worked.iter().take(ROLLUPS_SHOWN) {
            let _ = writeln!(
                page,
                "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>{} of {}</td></tr>",
                escape(&r.name),
                format_duration(r.wall_ns),
                format_duration(r.cpu_ns),
                r.share * 100.0,
                r.compiled,
                r.packages
            );
        }
        let _ = writeln!(page, "</table>");
    }
}

fn slowest_packages(page: &mut String, summary: &Summary) {
    if summary.slowest_packages.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2>Slowest packages</h2>\n<table><tr><th>package</th><th>wall</th><th>cpu</th><th>stages</th><th>phases</th></tr>"
    );
    for p in &summary.slowest_packages {
        let stages: Vec<String> = p.stages.iter().map(|(s, ns)| format!("{s} {}", format_duration(*ns))).collect();
        let phases: Vec<String> =
            p.phases.iter().take(6).map(|ph| format!("{} {}", escape(&ph.name), format_duration(ph.ns))).collect();
        let _ = writeln!(
            page,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td class=\"phases\">{}</td><td class=\"phases\">{}</td></tr>",
            escape(&p.package),
            format_duration(p.total_ns),
            format_duration(p.cpu_ns),
            stages.join(", "),
            if phases.is_empty() { "—".to_owned() } else { phases.join(", ") }
        );
    }
    let _ = writeln!(page, "</table>");
    if summary.phases.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"note\">Build with <code>gohook build --phases</code> to see the compiler's and linker's phases.</p>"
        );
    }
}

fn phase_totals(page: &mut String, summary: &Summary) {
    if summary.phases.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2>Phases</h2>\n<p class=\"note\">The compiler's and linker's own timers, summed over their runs.</p>\n\
         <table><tr><th>stage</th><th>phase</th><th>sum</th><th>runs</th></tr>"
    );
    for stage in ["compile", "link"] {
        let of_stage: Vec<_> = summary.phases.iter().filter(|p| p.stage == stage).collect();
        let total: u64 = of_stage.iter().map(|p| p.total_ns).sum();
        // Phases below 1% of their stage's phase time are folded into one row.
        let (shown, folded): (Vec<&PhaseTotal>, Vec<&PhaseTotal>) =
            of_stage.into_iter().partition(|p| p.total_ns * 100 >= total);
        for p in shown {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td class=\"name\">{}</td><td>{}</td><td>{}</td></tr>",
                p.stage,
                escape(&p.phase),
                format_duration(p.total_ns),
                p.runs
            );
        }
        if !folded.is_empty() {
            let _ = writeln!(
                page,
                "<tr><td>{stage}</td><td class=\"name\">other ({} below 1%)</td><td>{}</td><td></td></tr>",
                count(folded.len(), "phase", "phases"),
                format_duration(folded.iter().map(|p| p.total_ns).sum())
            );
        }
    }
    let _ = writeln!(page, "</table>");
}

/// Text as HTML: the five characters that could end an element or attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_hashes_are_base64_sha256() {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(csp_hash("alert(1)"), "sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=");
    }

    #[test]
    fn ten_thousand_runs_make_a_page_of_one_json_row_each() {
        use crate::summary::tests::run;
        use gohook_records::Stage;
        // 10,000 compiles of 1-200 ms, 16 at a time, as a large build on a 16-core machine.
        let runs: Vec<_> = (0..10_000u64)
            .map(|i| {
                run(
                    Stage::Compile,
                    &format!("example.com/big/p{i}"),
                    1_000 + i * 7_000_000 / 16,
                    1_000_000 + (i * 7919) % 199_000_000,
                )
            })
            .collect();
        let build = BuildRecords {
            id: "big".into(),
            start: None,
            end: None,
            runs,
            label: None,
            context: None,
            packages: None,
            self_reports: Vec::new(),
            modules: None,
            actions: None,
            cache_inputs: None,
            tool_keys: Vec::new(),
            trace_parent: None,
            load: None,
            nested_in: None,
            nested: Vec::new(),
            unrecorded: None,
            corrupt: 0,
            unsupported: 0,
        };
        let summary = Summary::of(&build, None);
        let page = render(&build, &summary, &BTreeMap::new());
        let data: serde_json::Value =
            serde_json::from_str(page.split("id=\"gohook-data\">").nth(1).unwrap().split("</script>").next().unwrap())
                .unwrap();
        assert_eq!(data["runs"].as_array().unwrap().len(), 10_000);
        assert_eq!(data["packages"].as_array().unwrap().len(), 10_000);
        // About 100 bytes a run with its package name: a page to mail around, not a DOM of 10,000 bars.
        assert!(page.len() < 1_500_000, "{} bytes", page.len());
        if let Some(path) = std::env::var_os("GOHOOK_WRITE_BIG_PAGE") {
            std::fs::write(path, &page).unwrap();
        }
    }

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }
}
