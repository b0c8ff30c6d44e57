//! `cargo xtask bench`: every benchmark of the project, one after the other,
//! each measuring its own baseline in the same run, and a summary of the
//! ratios at the end (the figures `docs/benchmarks.md` records).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};

/// How long each benchmark runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Each benchmark's own defaults (several minutes in all).
    Full,
    /// Shorter measurements, for a first look (noisier).
    Quick,
}

/// One benchmark: the `cargo` arguments that run it.
struct Bench {
    name: &'static str,
    cargo: Vec<String>,
}

fn benches(length: Length) -> Vec<Bench> {
    let quick = length == Length::Quick;
    let args = |list: &[&str]| list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
    let criterion_quick: &[&str] = if quick { &["--warm-up-time", "1", "--measurement-time", "2"] } else { &[] };
    let mut codec = args(&["bench", "-p", "payamak", "--bench", "codec", "--"]);
    codec.extend(args(criterion_quick));
    vec![
        Bench { name: "codec (decode 10k messages, encode SendSms(100))", cargo: codec },
        Bench {
            name: "calls (GetCredit and SendSms(100) loops against a static loopback server)",
            cargo: args(&["bench", "-p", "payamak", "--bench", "calls", "--", if quick { "1" } else { "3" }]),
        },
        Bench {
            name: "bulk (10,000 recipients against the emulator)",
            cargo: args(&["bench", "-p", "payamak", "--bench", "bulk", "--", if quick { "2000" } else { "10000" }]),
        },
        Bench {
            name: "emulator load (SendSms(100) from 16 connections)",
            cargo: args(&["bench", "-p", "payamak-emulator", "--bench", "load", "--", if quick { "2" } else { "5" }]),
        },
        Bench {
            name: "decode memory (peak heap while receiving replies of every shape)",
            cargo: args(&["test", "--release", "-p", "payamak", "--test", "decode_memory", "--", "--nocapture"]),
        },
    ]
}

/// Runs every benchmark and prints the summary.
pub fn run(root: &Path, length: Length) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut summary = Vec::new();
    for bench in benches(length) {
        eprintln!("== {}", bench.name);
        // The memory test reports on stderr (as tests do); the benchmarks on stdout.
        let is_memory_test = bench.cargo.iter().any(|arg| arg == "decode_memory");
        let output = Command::new(&cargo)
            .args(&bench.cargo)
            .current_dir(root)
            .stdin(Stdio::null())
            .stderr(if is_memory_test { Stdio::piped() } else { Stdio::inherit() })
            .output()
            .with_context(|| format!("cannot run `cargo {}`", bench.cargo.join(" ")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        print!("{stdout}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprint!("{stderr}");
        if !output.status.success() {
            bail!("`cargo {}` failed ({})", bench.cargo.join(" "), output.status);
        }
        summary.push(format!("{}:", bench.name));
        if bench.cargo.iter().any(|arg| arg == "codec") {
            summary.extend(codec_ratios(&root.join("target/criterion"))?);
        } else if is_memory_test {
            summary.extend(memory_lines(&stderr));
        } else {
            summary.extend(ratio_lines(&stdout));
        }
    }
    println!("\n== summary: every figure as a ratio to its baseline, measured in the same run");
    for line in summary {
        println!("{line}");
    }
    Ok(())
}

/// The lines of a benchmark's report that carry a ratio or a peak.
fn ratio_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|line| line.contains('×') || line.starts_with("real rows"))
        .map(|line| format!("  {}", line.trim()))
        .collect()
}

/// The memory test's figure for a real reply, and its worst hostile shape.
fn memory_lines(report: &str) -> Vec<String> {
    let ratio = |line: &str| -> Option<f64> {
        let end = line.find("× the limit")?;
        line[..end].rsplit('(').next()?.trim().parse().ok()
    };
    let real = report.lines().filter(|line| line.starts_with("real rows"));
    let worst = report
        .lines()
        .filter(|line| !line.starts_with("real rows"))
        .filter_map(|line| Some((ratio(line)?, line)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, line)| line);
    real.chain(worst)
        .map(|line| format!("  {}", line.split(": Ok").next().unwrap_or(line).split(": Err").next().unwrap_or(line)))
        .collect()
}

/// The codec benchmark's ratios, from criterion's estimates.
fn codec_ratios(criterion: &Path) -> Result<Vec<String>> {
    let median = |id: &str| -> Result<f64> { criterion_median(&criterion.join(id).join("new/estimates.json")) };
    let tokens = median("decode_10k_messages/baseline/quick_xml_tokens")?;
    let tree = median("decode_10k_messages/baseline/roxmltree_parse")?;
    let decode = median("decode_10k_messages/payamak/decode_response")?;
    let copy = median("encode_send_sms_100/baseline/copy_output")?;
    let encode = median("encode_send_sms_100/payamak/encode_request")?;
    Ok(vec![
        format!("  decode 10k messages: {:.2}× quick-xml's bare tokenisation of the same bytes", decode / tokens),
        format!("  decode 10k messages: {:.2}× roxmltree parsing the same bytes into a tree", decode / tree),
        format!("  encode SendSms(100): {:.1}× copying the finished envelope", encode / copy),
    ])
}

/// The median point estimate (ns) in a criterion `estimates.json`.
fn criterion_median(path: &Path) -> Result<f64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let estimates: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    estimates
        .pointer("/median/point_estimate")
        .and_then(serde_json::Value::as_f64)
        .with_context(|| format!("{} has no median", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ratio_lines_reach_the_summary() {
        let stdout = "bulk send of 10 recipients\n  baseline: 1.0 ms (1.00× the baseline)\nnoise\nreal rows: 3 bytes in, peak 9 bytes (3.0× the limit)\n";
        assert_eq!(
            ratio_lines(stdout),
            ["  baseline: 1.0 ms (1.00× the baseline)", "  real rows: 3 bytes in, peak 9 bytes (3.0× the limit)"]
        );
    }

    #[test]
    fn the_memory_summary_is_the_real_reply_and_the_worst_shape() {
        let stdout = "a, 1 KiB: 1 bytes in, peak 2 bytes (1.5× the limit): Ok(0)\nb, 2 KiB: 1 bytes in, peak 9 bytes (6.1× the limit): Err(x)\nreal rows: 3 bytes in, peak 9 bytes (2.4× the limit)\n";
        assert_eq!(
            memory_lines(stdout),
            [
                "  real rows: 3 bytes in, peak 9 bytes (2.4× the limit)",
                "  b, 2 KiB: 1 bytes in, peak 9 bytes (6.1× the limit)"
            ]
        );
    }

    #[test]
    fn criterion_medians_are_read_and_a_missing_one_is_named() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        let file = dir.join("estimates.json");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        std::fs::write(&file, r#"{"mean":{"point_estimate":2.0},"median":{"point_estimate":1.5}}"#).expect("written");
        assert_eq!(criterion_median(&file).ok(), Some(1.5));
        std::fs::write(&file, r#"{"mean":{"point_estimate":2.0}}"#).expect("written");
        let error = criterion_median(&file).map_err(|error| error.to_string());
        assert!(error.as_ref().is_err_and(|error| error.contains("has no median")), "{error:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
