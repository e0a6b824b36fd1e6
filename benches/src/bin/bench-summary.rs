//! Summarises several criterion runs saved as baselines: for each bench the median over the
//! runs of criterion's median, the spread (lowest and highest run), and the ratio to the
//! group's baseline bench computed within each run.
//!
//! ```text
//! bench-summary [--criterion-dir target/criterion] --prefix run
//! ```
//!
//! Reads `<criterion-dir>/<group>/<bench>/<prefix>*/estimates.json` and prints Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The bench each group's ratios are taken against.
fn baseline(group: &str) -> Option<&'static str> {
    if group.starts_with("counter_") {
        Some("atomic_fetch_add")
    } else if group.starts_with("histogram_observe_") || group.starts_with("render_") {
        Some("prometheus_client")
    } else if group == "track_http" {
        Some("empty_handler")
    } else {
        None
    }
}

/// Run name to median nanoseconds, for one bench.
type Runs = BTreeMap<String, f64>;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    }
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}

fn signed_time(ns: f64) -> String {
    if ns < 0.0 {
        format!("-{}", time(-ns))
    } else {
        format!("+{}", time(ns))
    }
}

/// Criterion's median point estimate in an `estimates.json`, in nanoseconds.
fn read_median(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"].as_f64()
}

fn sub_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Group, then bench (in the order criterion's directories sort), then run.
fn collect(root: &Path, prefix: &str) -> BTreeMap<String, BTreeMap<String, Runs>> {
    let mut groups = BTreeMap::new();
    for group_dir in sub_dirs(root) {
        let group = file_name(&group_dir);
        if group == "report" {
            continue;
        }
        let mut benches = BTreeMap::new();
        for bench_dir in sub_dirs(&group_dir) {
            let mut runs = Runs::new();
            for run_dir in sub_dirs(&bench_dir) {
                let run = file_name(&run_dir);
                if run.starts_with(prefix)
                    && let Some(ns) = read_median(&run_dir.join("estimates.json"))
                {
                    runs.insert(run, ns);
                }
            }
            if !runs.is_empty() {
                benches.insert(file_name(&bench_dir), runs);
            }
        }
        if !benches.is_empty() {
            groups.insert(group, benches);
        }
    }
    groups
}

fn summary(groups: &BTreeMap<String, BTreeMap<String, Runs>>) -> String {
    let mut out = String::new();
    for (group, benches) in groups {
        let base_name = baseline(group);
        let base = base_name.and_then(|name| benches.get(name));
        let runs = benches.values().map(BTreeMap::len).max().unwrap_or(0);
        let _ = writeln!(out, "### {group} ({runs} runs)\n");
        match base_name {
            Some(name) => {
                let _ = writeln!(
                    out,
                    "| bench | median | spread (runs) | ratio to `{name}` | ratio spread | added |"
                );
                let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
            }
            None => {
                let _ = writeln!(out, "| bench | median | spread (runs) |");
                let _ = writeln!(out, "|---|---:|---:|");
            }
        }
        for (bench, runs) in benches {
            let mut values: Vec<f64> = runs.values().copied().collect();
            let mid = median(&mut values);
            let spread = format!("{} – {}", time(values[0]), time(values[values.len() - 1]));
            let _ = write!(out, "| {bench} | {} | {spread} |", time(mid));
            if let Some(base) = base {
                let mut ratios: Vec<f64> = runs
                    .iter()
                    .filter_map(|(run, ns)| base.get(run).map(|b| ns / b))
                    .collect();
                let mut added: Vec<f64> = runs
                    .iter()
                    .filter_map(|(run, ns)| base.get(run).map(|b| ns - b))
                    .collect();
                if ratios.is_empty() {
                    let _ = write!(out, " – | – | – |");
                } else {
                    let mid = median(&mut ratios);
                    let _ = write!(
                        out,
                        " {mid:.2}x | {:.2}x – {:.2}x | {} |",
                        ratios[0],
                        ratios[ratios.len() - 1],
                        signed_time(median(&mut added))
                    );
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn main() -> ExitCode {
    let mut root = PathBuf::from("target/criterion");
    let mut prefix = String::from("run");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--criterion-dir", Some(dir)) => root = PathBuf::from(dir),
            ("--prefix", Some(p)) => prefix = p,
            _ => {
                let _ = writeln!(
                    std::io::stderr(),
                    "usage: bench-summary [--criterion-dir DIR] [--prefix PREFIX]"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let groups = collect(&root, &prefix);
    if groups.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "no saved baselines starting with `{prefix}` under {}",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    let _ = std::io::stdout().write_all(summary(&groups).as_bytes());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_taken_within_each_run() {
        let mut benches = BTreeMap::new();
        benches.insert(
            "atomic_fetch_add".to_owned(),
            Runs::from([("run1".to_owned(), 2.0), ("run2".to_owned(), 4.0)]),
        );
        benches.insert(
            "tachometer_handle".to_owned(),
            Runs::from([("run1".to_owned(), 3.0), ("run2".to_owned(), 4.0)]),
        );
        let groups = BTreeMap::from([("counter_1_thread".to_owned(), benches)]);
        let text = summary(&groups);
        assert!(
            text.contains(
                "| tachometer_handle | 3.50 ns | 3.00 ns – 4.00 ns | 1.25x | 1.00x – 1.50x | +0.50 ns |"
            ),
            "{text}"
        );
        assert!(text.contains("### counter_1_thread (2 runs)"), "{text}");
    }

    #[test]
    fn median_of_an_even_count_is_the_midpoint() {
        assert!((median(&mut [4.0, 1.0, 3.0, 2.0]) - 2.5).abs() < f64::EPSILON);
        assert!((median(&mut [5.0, 1.0, 3.0]) - 3.0).abs() < f64::EPSILON);
    }
}
