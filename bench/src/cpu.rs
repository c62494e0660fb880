//! CPU time per process, read from /proc: where a benchmark's two cores went. PostgreSQL
//! backends come and go, so its figure is every live `postgres` process plus what the
//! postmaster collected from backends that exited (its cutime/cstime).

use std::collections::BTreeMap;

/// Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// (utime + stime, cutime + cstime) of a process, in seconds.
fn times(pid: u32) -> Option<(String, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm is in parentheses and may hold spaces; the fields after it are plain.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    let field = |n: usize| -> f64 {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    Some((
        comm,
        (field(14) + field(15)) / TICKS,
        (field(16) + field(17)) / TICKS,
    ))
}

/// What a PostgreSQL process does, from its title: client backends, autovacuum, or the
/// other background processes (checkpointer, WAL writer, ...).
fn postgres_role(pid: u32) -> &'static str {
    let title = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if title.contains("autovacuum") {
        "autovacuum"
    } else if title.contains('(') {
        // "postgres: 15/main: user db 127.0.0.1(port) idle": a client connection
        "client backends"
    } else {
        "background"
    }
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    stat[close + 2..].split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds so far of the named processes, PostgreSQL and RabbitMQ.
pub fn snapshot(named: &[(&str, u32)]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (name, pid) in named {
        if let Some((_, own, _)) = times(*pid) {
            *out.entry(name.to_string()).or_insert(0.0) += own;
        }
    }
    let mut postgres = 0.0;
    let mut rabbitmq = 0.0;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Some((comm, own, children)) = times(pid) else {
            continue;
        };
        if comm == "postgres" {
            // The postmaster (its parent is not postgres) holds its exited backends' time.
            let parent_is_postgres = parent(pid)
                .and_then(times)
                .is_some_and(|(parent_comm, _, _)| parent_comm == "postgres");
            let role = postgres_role(pid);
            if !parent_is_postgres {
                *out.entry("postgresql: exited processes".into())
                    .or_insert(0.0) += children;
            }
            *out.entry(format!("postgresql: {role}")).or_insert(0.0) += own;
            postgres += own + if parent_is_postgres { 0.0 } else { children };
        } else if comm == "beam.smp" || comm.starts_with("erl_child") || comm == "epmd" {
            rabbitmq += own;
        }
    }
    out.insert("postgresql (total)".into(), postgres);
    out.insert("rabbitmq".into(), rabbitmq);
    out.insert(
        "simulator + benchmark".into(),
        times(std::process::id()).map_or(0.0, |t| t.1),
    );
    out
}

/// Seconds spent between two snapshots, per process.
pub fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    after
        .iter()
        .map(|(name, end)| (name.clone(), end - before.get(name).copied().unwrap_or(0.0)))
        .collect()
}
