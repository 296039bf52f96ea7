//! Draws the pictures of `scripts/bench-finality.sh` from the `samples.csv` it writes.
//!
//! ```text
//! plot-finality <samples.csv> <out-dir> <block_time_ms>
//! ```
//!
//! The CSV has the header `node,block,imported_ms,finalized_ms,time_to_finality_ms` and one row
//! per block and node (times in ms since the Unix epoch, from each node's own log). Writes
//! into `<out-dir>`:
//!
//! - `histogram.png`: time from import to finality over all samples, in ms (bottom axis) and in
//!   block times (top axis), with p50 and p99 marked;
//! - `timeline.png`: best and finalized block height over wall-clock seconds on one node (the
//!   first in the CSV): a block is best from its `imported_ms`, final from its `finalized_ms`.
//!   The CSV holds only blocks that became final, so both lines end at the last final block.
//!
//! Fonts come from DejaVu Sans at [`FONT`] (Debian package `fonts-dejavu-core`), read at run
//! time. Exits 1 with a message on a bad CSV or a failed drawing, 2 on bad arguments.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::process::exit;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const HEADER: &str = "node,block,imported_ms,finalized_ms,time_to_finality_ms";
const SIZE: (u32, u32) = (1200, 700);

struct Sample {
	node: String,
	block: u64,
	imported_ms: i64,
	finalized_ms: i64,
	ttf_ms: i64,
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	if args.len() != 4 {
		eprintln!("usage: plot-finality <samples.csv> <out-dir> <block_time_ms>");
		exit(2);
	}
	let block_time = match args[3].parse::<f64>() {
		Ok(t) if t.is_finite() && t > 0.0 => t,
		_ => {
			eprintln!(
				"plot-finality: block time must be a positive number of ms, got {:?}",
				args[3]
			);
			exit(2);
		}
	};
	if let Err(e) = run(Path::new(&args[1]), Path::new(&args[2]), block_time) {
		eprintln!("plot-finality: {e}");
		exit(1);
	}
}

fn run(csv: &Path, out: &Path, block_time: f64) -> Result<(), String> {
	let samples = read_samples(csv)?;
	let font = std::fs::read(FONT)
		.map_err(|e| format!("cannot read the font {FONT} ({e}); install fonts-dejavu-core"))?;
	register_font("sans-serif", FontStyle::Normal, Box::leak(font.into_boxed_slice()))
		.map_err(|_| format!("{FONT} is not a font plotters can read"))?;
	std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
	let histogram = out.join("histogram.png");
	draw_histogram(&samples, block_time, &histogram)
		.map_err(|e| format!("drawing {}: {e}", histogram.display()))?;
	let timeline = out.join("timeline.png");
	draw_timeline(&samples, &timeline)
		.map_err(|e| format!("drawing {}: {e}", timeline.display()))?;
	Ok(())
}

fn read_samples(path: &Path) -> Result<Vec<Sample>, String> {
	let text = std::fs::read_to_string(path)
		.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
	let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
	match lines.next() {
		Some((_, h)) if h.trim() == HEADER => {}
		Some((_, h)) => {
			return Err(format!(
				"{}:1: expected the header {HEADER:?}, found {h:?}",
				path.display()
			))
		}
		None => return Err(format!("{}: empty file", path.display())),
	}
	let mut samples = Vec::new();
	for (i, line) in lines {
		let bad = |what: &str| format!("{}:{}: {what}: {line:?}", path.display(), i + 1);
		let f: Vec<&str> = line.trim().split(',').collect();
		if f.len() != 5 {
			return Err(bad(&format!("expected 5 fields, found {}", f.len())));
		}
		let int = |k: usize, name: &str| {
			f[k].parse::<i64>().map_err(|_| bad(&format!("{name} is not an integer")))
		};
		let s = Sample {
			node: f[0].to_string(),
			block: f[1].parse().map_err(|_| bad("block is not a block number"))?,
			imported_ms: int(2, "imported_ms")?,
			finalized_ms: int(3, "finalized_ms")?,
			ttf_ms: int(4, "time_to_finality_ms")?,
		};
		if s.node.is_empty() {
			return Err(bad("empty node name"));
		}
		if s.finalized_ms - s.imported_ms != s.ttf_ms || s.ttf_ms < 0 {
			return Err(bad("time_to_finality_ms is not finalized_ms - imported_ms >= 0"));
		}
		samples.push(s);
	}
	if samples.is_empty() {
		return Err(format!("{}: no samples after the header", path.display()));
	}
	Ok(samples)
}

/// The p-th quantile as bench-finality.sh prints it: `sorted[min(n - 1, floor(p * n))]`.
fn quantile(sorted: &[i64], p: f64) -> i64 {
	sorted[((p * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

/// A bin width of 1, 2 or 5 times a power of ten giving about `bins` bins over `span`.
fn nice_width(span: f64, bins: f64) -> f64 {
	let raw = (span / bins).max(1.0);
	let pow = 10f64.powf(raw.log10().floor());
	[1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * pow).find(|w| *w >= raw).unwrap_or(10.0 * pow)
}

fn draw_histogram(
	samples: &[Sample],
	block_time: f64,
	path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
	let mut ttf: Vec<i64> = samples.iter().map(|s| s.ttf_ms).collect();
	ttf.sort_unstable();
	let (min, max) = (ttf[0] as f64, ttf[ttf.len() - 1] as f64);
	let (p50, p99) = (quantile(&ttf, 0.5), quantile(&ttf, 0.99));
	// Start at 0 unless the samples sit far from it and spread, so the spread reads against the whole.
	let from_zero = min < max / 2.0 || max - min < 40.0;
	let width = nice_width(if from_zero { max } else { max - min }, 40.0);
	let lo = if from_zero { 0.0 } else { (min / width).floor() * width };
	let hi = ((max / width).floor() + 1.0) * width;
	let bins = ((hi - lo) / width).round() as usize;
	let mut counts = vec![0u32; bins];
	for &t in &ttf {
		counts[(((t as f64 - lo) / width) as usize).min(bins - 1)] += 1;
	}
	let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.15;
	let nodes = {
		let mut n: Vec<&str> = samples.iter().map(|s| s.node.as_str()).collect();
		n.sort_unstable();
		n.dedup();
		n.len()
	};

	let root = BitMapBackend::new(path, SIZE).into_drawing_area();
	root.fill(&WHITE)?;
	let caption = format!(
		"Time from import to finality: {} samples, {nodes} nodes; p50 {p50} ms ({:.2} bt), p99 {p99} ms ({:.2} bt)",
		ttf.len(),
		p50 as f64 / block_time,
		p99 as f64 / block_time,
	);
	// Ticks on the block-time axis about a tenth of its span apart, with the decimals that
	// tell them apart.
	let span = (hi - lo) / block_time;
	let decimals = (-(span / 10.0).log10()).ceil().clamp(0.0, 6.0) as usize;
	let mut chart = ChartBuilder::on(&root)
		.caption(caption, ("sans-serif", 22))
		.margin(15)
		.x_label_area_size(45)
		.top_x_label_area_size(45)
		.y_label_area_size(60)
		.build_cartesian_2d(lo..hi, 0.0..top)?
		.set_secondary_coord(lo / block_time..hi / block_time, 0.0..top);
	chart
		.configure_mesh()
		.disable_x_mesh()
		.light_line_style(TRANSPARENT)
		.x_desc("time from import to finality (ms)")
		.y_desc("samples")
		.y_label_formatter(&|v| {
			if (v - v.round()).abs() < 1e-6 {
				format!("{v:.0}")
			} else {
				String::new()
			}
		})
		.x_label_formatter(&|v| format!("{v:.0}"))
		.label_style(("sans-serif", 16))
		.axis_desc_style(("sans-serif", 18))
		.draw()?;
	chart
		.configure_secondary_axes()
		.x_desc(format!("block times (1 bt = {block_time:.0} ms)"))
		.x_label_formatter(&|v| format!("{v:.*}", decimals))
		.label_style(("sans-serif", 16))
		.axis_desc_style(("sans-serif", 18))
		.draw()?;
	chart.draw_series(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(k, &c)| {
		let x0 = lo + k as f64 * width;
		Rectangle::new([(x0, 0.0), (x0 + width, c as f64)], RGBColor(70, 130, 180).filled())
	}))?;
	for (label, v, color) in
		[("p50", p50, RGBColor(0, 140, 60)), ("p99", p99, RGBColor(200, 30, 30))]
	{
		let v = v as f64;
		chart
			.draw_series(LineSeries::new([(v, 0.0), (v, top)], color.stroke_width(2)))?
			.label(format!("{label} {v:.0} ms = {:.2} block times", v / block_time))
			.legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
	}
	chart
		.configure_series_labels()
		.position(SeriesLabelPosition::UpperRight)
		.background_style(WHITE.mix(0.85))
		.border_style(BLACK)
		.label_font(("sans-serif", 16))
		.draw()?;
	root.present()?;
	Ok(())
}

/// Steps `(t, h)` of a height that rises to `h` at time `t` (in s from `t0`), sorted by time.
fn steps(mut events: Vec<(i64, u64)>, t0: i64) -> Vec<(f64, f64)> {
	events.sort_unstable();
	let mut out: Vec<(f64, f64)> = Vec::new();
	let mut height = None;
	for (t, h) in events {
		if height.is_some_and(|p| h <= p) {
			continue;
		}
		let x = (t - t0) as f64 / 1000.0;
		if let Some(p) = height {
			out.push((x, p as f64));
		}
		out.push((x, h as f64));
		height = Some(h);
	}
	out
}

fn draw_timeline(samples: &[Sample], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
	let node = samples[0].node.as_str();
	let mine: Vec<&Sample> = samples.iter().filter(|s| s.node == node).collect();
	let t0 = mine.iter().map(|s| s.imported_ms).min().unwrap_or(0);
	let best = steps(mine.iter().map(|s| (s.imported_ms, s.block)).collect(), t0);
	let finalized = steps(mine.iter().map(|s| (s.finalized_ms, s.block)).collect(), t0);
	let t_end = best.iter().chain(&finalized).map(|p| p.0).fold(0.0, f64::max) * 1.02 + 1.0;
	let lo = mine.iter().map(|s| s.block).min().unwrap_or(0) as f64;
	let hi = mine.iter().map(|s| s.block).max().unwrap_or(0) as f64;
	let pad = ((hi - lo) * 0.03).max(1.0);

	let root = BitMapBackend::new(path, SIZE).into_drawing_area();
	root.fill(&WHITE)?;
	let mut chart = ChartBuilder::on(&root)
		.caption(
			format!("Best and finalized block on {node} ({} blocks)", mine.len()),
			("sans-serif", 22),
		)
		.margin(15)
		.x_label_area_size(45)
		.y_label_area_size(70)
		.build_cartesian_2d(0.0..t_end, (lo - pad).max(0.0)..hi + pad)?;
	chart
		.configure_mesh()
		.light_line_style(TRANSPARENT)
		.x_desc("wall-clock seconds since the first counted import")
		.y_desc("block height")
		.x_label_formatter(&|v| format!("{v:.0}"))
		.y_label_formatter(&|v| format!("{v:.0}"))
		.label_style(("sans-serif", 16))
		.axis_desc_style(("sans-serif", 18))
		.draw()?;
	// Best wide and pale under finalized narrow, so both show where they coincide.
	for (label, points, style) in [
		("best (imported)", best, RGBColor(120, 170, 230).stroke_width(6)),
		("finalized", finalized, RGBColor(200, 30, 30).stroke_width(2)),
	] {
		chart
			.draw_series(LineSeries::new(points, style))?
			.label(label)
			.legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
	}
	chart
		.configure_series_labels()
		.position(SeriesLabelPosition::UpperLeft)
		.background_style(WHITE.mix(0.85))
		.border_style(BLACK)
		.label_font(("sans-serif", 16))
		.draw()?;
	root.present()?;
	Ok(())
}
