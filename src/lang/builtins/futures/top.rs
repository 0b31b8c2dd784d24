//! `unit_top(unit, until=...)`: a top-like view of a unit's processes, for a room to see a
//! CPU quota at work. Each process gets its CPU% (from `/proc/PID/stat`) and a bar; the unit
//! gets a chart of its CPU% over time (from its cgroup) against the quota line. The quota
//! shown is systemd's (`CPUQuotaPerSecUSec`) next to the kernel's (`cpu.max` or
//! `cpu.cfs_quota_us`): where no cpu controller applies it, the view says the limit is NOT
//! enforced rather than drawing a line nothing honours.
//!
//! On a terminal the view is redrawn in place until the futures or process in `until` are
//! done, the unit stops, or Ctrl-C; elsewhere (a pipe, a log, a demo played in CI) only the
//! closing summary is printed.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use nu_ansi_term::Color;

use super::pool::Pool;
use super::waitables;
use crate::bus::data::Data;
use crate::lang::builtins::{Bound, R, unit_name_of};
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::value::Value;
use crate::systemd::procstat::{self, Quota};
use crate::systemd::time::format_timespan;
use crate::systemd::transient::{SERVICE_IFACE, UNIT_IFACE, get};
use crate::systemd::unit_path;

/// Samples the chart keeps (and shows, when the terminal is wide enough).
const HISTORY: usize = 60;
/// Rows of the chart.
const CHART_ROWS: usize = 5;
/// Width of a process's bar (100% of one CPU).
const BAR: usize = 20;

const EIGHTHS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const BAR_EIGHTHS: [char; 9] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];

/// A bar of `width` cells for `pct` (100% fills it).
fn bar(pct: f64, width: usize) -> String {
    let eighths = ((pct.clamp(0.0, 100.0) / 100.0) * (width * 8) as f64).round() as usize;
    let mut s: String = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) && s.chars().count() < width {
        s.push(BAR_EIGHTHS[eighths % 8]);
    }
    let n = s.chars().count();
    s.push_str(&" ".repeat(width.saturating_sub(n)));
    s
}

/// The chart's scale: CPU% per row. With a quota, rows are half the quota high, so the quota
/// falls on a row boundary (usage held at the cap touches the line, never crosses it).
fn chart_step(history: &VecDeque<f64>, quota: Option<f64>) -> f64 {
    let peak = history.iter().copied().fold(0.0, f64::max);
    let rows = CHART_ROWS as f64;
    match quota.filter(|q| *q > 0.0) {
        Some(q) => {
            let mut step = q / 2.0;
            while step * rows < peak * 1.05 {
                step *= 2.0;
            }
            step
        }
        None => {
            let want = (peak * 1.1 / rows).max(2.0);
            [2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0]
                .into_iter()
                .find(|s| *s >= want)
                .unwrap_or(want.ceil())
        }
    }
}

/// The rows of the chart, top first: CPU% per sample as columns of eighths, the quota as a
/// line where the columns stay below it.
fn chart(history: &VecDeque<f64>, quota: Option<f64>) -> Vec<String> {
    let step = chart_step(history, quota);
    let top = step * CHART_ROWS as f64;
    // The row whose bottom edge is the quota.
    let quota_row = quota
        .map(|q| (q / step).round() as usize)
        .filter(|r| *r < CHART_ROWS);
    let mut rows = Vec::with_capacity(CHART_ROWS);
    for r in 0..CHART_ROWS {
        let from_bottom = CHART_ROWS - 1 - r;
        let label = if Some(from_bottom) == quota_row {
            format!("{:>4.0}% ┼", quota.unwrap_or_default())
        } else if r == 0 {
            format!("{top:>4.0}% ┤")
        } else if from_bottom == 0 {
            "   0% ┴".to_string()
        } else {
            "      │".to_string()
        };
        let mut line = label;
        for v in history {
            let level = (v / step * 8.0).round() as i64 - (from_bottom as i64) * 8;
            let e = level.clamp(0, 8) as usize;
            line.push(if e == 0 && Some(from_bottom) == quota_row {
                '─'
            } else {
                EIGHTHS[e]
            });
        }
        if Some(from_bottom) == quota_row {
            line.push_str(" quota");
        }
        rows.push(line);
    }
    rows
}

struct View {
    unit: String,
    cgroup: String,
    user: String,
    /// systemd's CPUQuota, in % of one CPU.
    quota: Option<f64>,
    kernel: Quota,
    tty: bool,
    color: bool,
    drawn: usize,
    prev: BTreeMap<u32, u64>,
    prev_at: Instant,
    prev_usage: Option<u64>,
    history: VecDeque<f64>,
    samples: Vec<f64>,
    processes: BTreeMap<u32, (String, String)>,
    rows: Vec<(u32, String, f64, String)>,
}

impl View {
    fn sample(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.prev_at).as_secs_f64().max(1e-3);
        let tck = procstat::ticks_per_second() as f64;
        let pids = procstat::pids(&self.cgroup);
        let mut current = BTreeMap::new();
        let mut rows = Vec::new();
        let mut from_procs = 0.0;
        for pid in pids {
            let Some(p) = procstat::process(pid) else {
                continue;
            };
            let pct = self.prev.get(&pid).map_or(0.0, |t| {
                (p.ticks.saturating_sub(*t)) as f64 / tck / dt * 100.0
            });
            from_procs += pct;
            current.insert(pid, p.ticks);
            self.processes
                .insert(pid, (p.user.clone(), p.command.clone()));
            rows.push((pid, p.user, pct, p.command));
        }
        let usage = procstat::usage_usec(&self.cgroup);
        let unit_pct = match (usage, self.prev_usage) {
            (Some(u), Some(p)) => u.saturating_sub(p) as f64 / 1e6 / dt * 100.0,
            _ => from_procs,
        };
        if !self.prev.is_empty() || self.prev_usage.is_some() {
            self.history.push_back(unit_pct);
            if self.history.len() > HISTORY {
                self.history.pop_front();
            }
            self.samples.push(unit_pct);
        }
        self.prev = current;
        self.prev_usage = usage;
        self.prev_at = now;
        self.rows = rows;
    }

    fn quota_line(&self) -> String {
        match (self.quota, &self.kernel) {
            (None, Quota::NoController | Quota::Unlimited) => "no CPUQuota".into(),
            (Some(q), Quota::Enforced { .. }) => {
                let k = self.kernel.percent().unwrap_or_default();
                if (k - q).abs() > 0.5 {
                    format!(
                        "CPUQuota={q:.0}% (systemd) but the kernel applies {k:.0}% ({})",
                        self.kernel.describe()
                    )
                } else {
                    format!("CPUQuota={q:.0}% ({})", self.kernel.describe())
                }
            }
            (Some(q), other) => format!("CPUQuota={q:.0}% {}", other.describe()),
            (None, Quota::Enforced { .. }) => {
                format!("no CPUQuota in systemd; {}", self.kernel.describe())
            }
        }
    }

    fn enforced(&self) -> bool {
        self.quota.is_none() || matches!(self.kernel, Quota::Enforced { .. })
    }

    fn block(&self, jobs: Option<(usize, usize, usize)>, width: usize) -> String {
        let paint = |c: Color, t: String| {
            if self.color {
                c.bold().paint(t).to_string()
            } else {
                t
            }
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} · User={} · {}",
            paint(Color::Cyan, format!("unit_top {}", self.unit)),
            self.user,
            if self.enforced() {
                self.quota_line()
            } else {
                paint(Color::Red, self.quota_line())
            }
        );
        let _ = writeln!(s, "    PID USER       CPU% {:BAR$}   COMMAND", "");
        for (pid, user, pct, cmd) in &self.rows {
            let room = width.saturating_sub(19 + BAR + 4).max(10);
            // The program's name without its directory: the arguments matter more.
            let short = match cmd.split_once(' ') {
                Some((prog, rest)) if prog.starts_with('/') => {
                    format!("{} {rest}", prog.rsplit('/').next().unwrap_or(prog))
                }
                _ => cmd.clone(),
            };
            let cmd: String = short.chars().take(room).collect();
            let _ = writeln!(
                s,
                "{pid:>7} {user:<8} {pct:>6.1} ▕{}▏ {cmd}",
                bar(*pct, BAR)
            );
        }
        if self.rows.is_empty() {
            let _ = writeln!(s, "    (no processes)");
        }
        let now = self.history.back().copied().unwrap_or_default();
        let _ = writeln!(
            s,
            "unit CPU% over the last {} samples (now {now:.1}%):",
            self.history.len()
        );
        let fit = width.saturating_sub(14).max(10);
        let shown: VecDeque<f64> = self
            .history
            .iter()
            .skip(self.history.len().saturating_sub(fit))
            .copied()
            .collect();
        for row in chart(&shown, self.quota.or(self.kernel.percent())) {
            let _ = writeln!(s, "{row}");
        }
        if let Some((q, r, d)) = jobs {
            let _ = writeln!(s, "jobs: {r} running, {q} queued, {d} done · Ctrl-C stops");
        } else {
            let _ = writeln!(s, "Ctrl-C stops");
        }
        s
    }

    fn draw(&mut self, it: &mut Interp, jobs: Option<(usize, usize, usize)>) -> R<()> {
        if !self.tty {
            return Ok(());
        }
        let stdout = std::io::stdout();
        let width = crate::term::pty::window_size(std::os::fd::AsFd::as_fd(&stdout))
            .map_or(100, |w| usize::from(w.ws_col).max(40));
        let block = self.block(jobs, width);
        let mut out = String::new();
        if self.drawn > 0 {
            let _ = write!(out, "\x1B[{}A\r", self.drawn);
        }
        out.push_str("\x1B[J");
        out.push_str(&block);
        self.drawn = block.lines().count();
        it.out.write_all(out.as_bytes())?;
        it.out.flush()?;
        Ok(())
    }

    fn summary(&self) -> String {
        let n = self.samples.len().max(1) as f64;
        let avg = self.samples.iter().sum::<f64>() / n;
        let peak = self.samples.iter().copied().fold(0.0, f64::max);
        let users: Vec<&str> = {
            let mut u: Vec<&str> = self.processes.values().map(|(u, _)| u.as_str()).collect();
            u.sort_unstable();
            u.dedup();
            u
        };
        let throttled = procstat::throttled(&self.cgroup)
            .map(|t| format!(", throttled in {t} periods"))
            .unwrap_or_default();
        format!(
            "unit_top: {} ran {} process{} as {}: {avg:.1}% of one CPU on average, {peak:.1}% at \
             peak{throttled}; {}",
            self.unit,
            self.processes.len(),
            if self.processes.len() == 1 { "" } else { "es" },
            if users.is_empty() {
                "?".to_string()
            } else {
                users.join(", ")
            },
            self.quota_line()
        )
    }
}

fn text(d: Result<Data, crate::bus::connection::CallError>) -> String {
    match d {
        Ok(Data::Str(s)) => s,
        _ => String::new(),
    }
}

pub fn unit_top(it: &mut Interp, a: Bound) -> R<Value> {
    let unit = unit_name_of(a.get(0).unwrap_or(&Value::None))?;
    let until: Vec<(Rc<Pool>, u64)> = a.named("until").map(waitables).unwrap_or_default();
    let interval = match a.named("interval") {
        None | Some(Value::None) => Duration::from_millis(500),
        Some(v) => crate::lang::interp::ops::num(v)
            .filter(|s| *s >= 0.05 && *s <= 60.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| Error::value_error("interval must be from 0.05 to 60 seconds"))?,
    };
    let s = it.session.clone();
    let path = unit_path(&unit);
    let p = path.as_str();
    let (cgroup, quota, user) = it.bus(async {
        let (cg, q, u) = tokio::join!(
            get(&s.bus, p, SERVICE_IFACE, "ControlGroup"),
            get(&s.bus, p, SERVICE_IFACE, "CPUQuotaPerSecUSec"),
            get(&s.bus, p, SERVICE_IFACE, "User"),
        );
        Ok((text(cg), q, text(u)))
    })?;
    let quota = match quota {
        Ok(Data::U64(q)) if q != u64::MAX => Some(q as f64 / 10_000.0),
        _ => None,
    };
    if cgroup.is_empty() {
        return Err(Error::new(format!(
            "unit_top: {unit} has no control group (is it running?)"
        )));
    }
    let mut view = View {
        unit: unit.clone(),
        kernel: procstat::quota(&cgroup),
        cgroup,
        user: if user.is_empty() { "root".into() } else { user },
        quota,
        tty: std::io::stdout().is_terminal(),
        color: it.term.color,
        drawn: 0,
        prev: BTreeMap::new(),
        prev_at: Instant::now(),
        prev_usage: None,
        history: VecDeque::new(),
        samples: Vec::new(),
        processes: BTreeMap::new(),
        rows: Vec::new(),
    };
    view.sample();
    let done = |until: &[(Rc<Pool>, u64)]| {
        !until.is_empty()
            && until
                .iter()
                .all(|(pool, id)| pool.is_done(*id) || !pool.connected())
    };
    let jobs = |until: &[(Rc<Pool>, u64)]| -> Option<(usize, usize, usize)> {
        let first = until.first()?;
        let mut c = (0, 0, 0);
        for (pool, id) in until {
            if !Rc::ptr_eq(pool, &first.0) {
                continue;
            }
            if pool.is_done(*id) {
                c.2 += 1;
            } else if pool.worker_pid(*id).is_some() {
                c.1 += 1;
            } else {
                c.0 += 1;
            }
        }
        Some(c)
    };
    let r = (|| -> R<()> {
        loop {
            // Wait one interval, reading results meanwhile (so `until` is seen at once).
            let next = Instant::now() + interval;
            while Instant::now() < next {
                let left = next.saturating_duration_since(Instant::now());
                match until.first() {
                    Some((pool, _)) => {
                        pool.wait_a_little(it, left.min(Duration::from_millis(50)))?
                    }
                    None => {
                        it.checkpoint()?;
                        std::thread::sleep(left.min(Duration::from_millis(50)));
                    }
                }
                for (pool, _) in &until {
                    pool.pump(Duration::ZERO)?;
                }
                if done(&until) {
                    break;
                }
            }
            view.sample();
            view.draw(it, jobs(&until))?;
            if done(&until) {
                return Ok(());
            }
            if until.is_empty() {
                let state = s.block_on(get(&s.bus, p, UNIT_IFACE, "ActiveState"));
                if !matches!(
                    text(state).as_str(),
                    "active" | "activating" | "deactivating" | "reloading"
                ) {
                    return Ok(());
                }
            }
        }
    })();
    writeln!(it.out, "{}", view.summary())?;
    if !view.enforced() {
        writeln!(
            it.out,
            "note: the quota line is what systemd was asked for; with no cpu controller on \
             this cgroup the processes may use more ({} of sampling)",
            format_timespan(
                view.samples.len() as u64 * interval.as_micros() as u64,
                1_000_000
            )
        )?;
    }
    match r {
        // Watching on its own: Ctrl-C just ends the view (as for `watch`). Waiting for
        // futures, it goes on up (a pool's `with` then stops the unit).
        Err(e) if e.kind == crate::lang::error::Kind::Interrupted && until.is_empty() => {
            Ok(Value::None)
        }
        r => r.map(|()| Value::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_by_eighths() {
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(100.0, 4), "████");
        assert_eq!(bar(50.0, 4), "██  ");
        assert_eq!(bar(12.5 / 2.0, 4), "▎   ");
        assert_eq!(bar(250.0, 4), "████");
    }

    #[test]
    fn the_chart_draws_the_quota_line_where_usage_is_below_it() {
        let h: VecDeque<f64> = [0.0, 10.0, 25.0, 50.0].into_iter().collect();
        let rows = chart(&h, Some(25.0));
        assert_eq!(rows.len(), CHART_ROWS);
        // Rows of 12.5%: the quota (25%) is the bottom edge of the third row from below.
        assert!(rows[0].starts_with("  62% ┤"), "{rows:?}");
        assert!(rows[2].starts_with("  25% ┼"), "{rows:?}");
        let q = rows.iter().find(|r| r.ends_with(" quota")).unwrap();
        assert!(q.contains('─'), "{rows:?}");
        // The last sample (50%) is drawn up to the quota line and beyond.
        assert!(
            rows.iter().filter(|r| r.contains('█')).count() >= 2,
            "{rows:?}"
        );
        // Without a quota there is no quota line.
        assert!(!chart(&h, None).iter().any(|r| r.contains("quota")));
    }
}
