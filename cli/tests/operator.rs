//! The operator's path with the real `sluice` binary in separate processes: the simulator,
//! `sluice all` exporting spans over OTLP to a real receiver (rotel, from PyPI; installed by
//! deploy/test.sh), and `sluice demo`. One job run must be one trace across every hop.

mod processes;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use processes::{Killed, free_port, model_dir, rotel_binary, wait_for_port};

/// (trace id → span names) from rotel's detailed debug log.
fn spans_by_trace(log: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut spans: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut trace = String::new();
    for line in log.lines() {
        let line = line.trim();
        if let Some(id) = line
            .strip_prefix("Trace ID")
            .and_then(|r| r.split(':').nth(1))
        {
            trace = id.trim().to_string();
        } else if let Some(name) = line
            .strip_prefix("Name")
            .and_then(|r| r.split_once(':'))
            .map(|(_, n)| n.trim())
        {
            spans
                .entry(trace.clone())
                .or_default()
                .insert(name.to_string());
        }
    }
    spans
}

#[test]
fn demo_through_the_real_binaries_is_one_trace_across_every_hop() {
    let sluice = env!("CARGO_BIN_EXE_sluice");
    let scratch = std::env::temp_dir().join(format!("sluice-operator-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let rotel_log = scratch.join("rotel.log");
    let (otlp, otlp_http, simulator, orchestrator) =
        (free_port(), free_port(), free_port(), free_port());
    let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
    let database = std::env::var("SLUICE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://sluice:sluice@127.0.0.1:5432/sluice_test".into());
    let amqp_url = std::env::var("SLUICE_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let queue_prefix = format!("operator-{}.", std::process::id());

    let mut children = Killed(Vec::new());
    children.0.push(
        Command::new(rotel_binary())
            .args([
                "start",
                "--exporter",
                "blackhole",
                "--debug-log",
                "traces",
                "--debug-log-verbosity",
                "detailed",
            ])
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{otlp}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{otlp_http}")])
            .stdout(std::fs::File::create(&rotel_log).expect("rotel log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start rotel"),
    );
    wait_for_port(otlp, "rotel");

    let env: Vec<(&str, String)> = vec![
        ("SLUICE_DATABASE_URL", database),
        ("SLUICE_AMQP_URL", amqp_url.clone()),
        ("SLUICE_QUEUE_PREFIX", queue_prefix.clone()),
        // The shared test database holds other tests' due jobs: this orchestrator must not
        // pick them up (the demo runs its jobs itself).
        ("SLUICE_SCHEDULER", "off".into()),
        (
            "SLUICE_CREDENTIALS_KEY",
            sluice_plumbing::crypto::CredentialCipher::generate_key(),
        ),
        (
            "SLUICE_ORCHESTRATOR_ADDR",
            format!("127.0.0.1:{orchestrator}"),
        ),
        (
            "SLUICE_ORCHESTRATOR_URL",
            format!("http://127.0.0.1:{orchestrator}"),
        ),
        ("SLUICE_CONNECTORS_ADDR", format!("127.0.0.1:{}", ports[0])),
        (
            "SLUICE_CONNECTORS_URL",
            format!("http://127.0.0.1:{}", ports[0]),
        ),
        ("SLUICE_TRANSFORMER_ADDR", format!("127.0.0.1:{}", ports[1])),
        ("SLUICE_LOADER_ADDR", format!("127.0.0.1:{}", ports[2])),
        ("SLUICE_VECTORIZER_ADDR", format!("127.0.0.1:{}", ports[3])),
        ("SLUICE_GATEWAY_ADDR", format!("127.0.0.1:{}", ports[4])),
        ("SLUICE_API_URL", format!("http://127.0.0.1:{}", ports[4])),
        (
            "SLUICE_ORCHESTRATOR_INTERNAL_ADDR",
            format!("127.0.0.1:{}", ports[5]),
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{otlp}"),
        ),
    ];
    children.0.push(
        Command::new(sluice)
            .args(["simulator", "--addr", &format!("127.0.0.1:{simulator}")])
            .envs(env.clone())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simulator"),
    );
    children.0.push(
        Command::new(sluice)
            .arg("all")
            .envs(env.clone())
            .stderr(std::fs::File::create(scratch.join("all.log")).expect("log"))
            .spawn()
            .expect("start sluice all"),
    );
    wait_for_port(simulator, "the simulator");
    wait_for_port(orchestrator, "the orchestrator");

    let demo = Command::new(sluice)
        .args([
            "demo",
            "--jira-url",
            &format!("http://127.0.0.1:{simulator}"),
        ])
        .args(["--name", &format!("operator-{}", std::process::id())])
        .arg("--key-file")
        .arg(scratch.join("key"))
        .envs(env)
        .output()
        .expect("run sluice demo");
    let stdout = String::from_utf8_lossy(&demo.stdout).into_owned();
    assert!(
        demo.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    assert!(stdout.contains("RUN_STATUS_COMPLETED"), "{stdout}");
    assert!(stdout.contains("[100%]"), "progress is printed: {stdout}");
    assert!(
        stdout.contains("searchable: 1 of 1 work items embedded (all-MiniLM-L6-v2)"),
        "the summary says what is searchable: {stdout}"
    );
    assert!(
        stdout.contains("sluice.v1.SearchService/Search"),
        "{stdout}"
    );
    for (table, rows) in [
        ("projects", 2),
        ("wits", 1),
        ("projects_wits", 2),
        ("statuses", 38),
        ("projects_statuses", 4),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [table, &rows.to_string()]),
            "summary lacks {table} = {rows}:\n{stdout}"
        );
    }
    let trace_id = stdout
        .split("(trace ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .filter(|id| id.len() == 32)
        .unwrap_or_else(|| panic!("the summary names the run's trace id: {stdout}"))
        .to_string();

    // Spans are exported in batches: wait for every hop of the run's trace to arrive.
    let expected = [
        "job.run",
        "connector.extract",
        "jira.request",
        "transform.page",
        "load.batch",
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(&rotel_log).unwrap_or_default();
        let names = spans_by_trace(&log).remove(&trace_id).unwrap_or_default();
        if expected.iter().all(|n| names.contains(*n)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace_id} should hold spans {expected:?} from every hop; it holds {names:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    processes::delete_queues(&queue_prefix);
}

#[test]
fn distill_static_writes_the_table_once_and_names_a_missing_model() {
    let source = model_dir();
    assert!(
        source.join("model.safetensors").exists(),
        "the local model is required for this test ({}); deploy/test.sh places it",
        source.display()
    );
    // A model directory of its own (links to the real files), so the cache starts absent.
    let dir = std::env::temp_dir().join(format!("sluice-distill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    for file in ["config.json", "model.safetensors", "vocab.txt"] {
        std::os::unix::fs::symlink(source.join(file), dir.join(file)).expect("link");
    }
    let distill = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("distill-static")
            .arg("--model-dir")
            .arg(&dir)
            .args(extra)
            .output()
            .expect("sluice distill-static");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, said) = distill(&[]);
    assert!(ok, "{said}");
    assert!(
        said.contains("distilled 30522 tokens × 384 dimensions"),
        "{said}"
    );
    let cache = dir.join("static-distilled.bin");
    let size = std::fs::metadata(&cache).expect("cached table").len();
    assert!(size >= 30522 * 384 * 4, "{size}");
    let written = std::fs::metadata(&cache)
        .and_then(|m| m.modified())
        .expect("mtime");

    // Again: the cached table is kept.
    let (ok, said) = distill(&[]);
    assert!(ok, "{said}");
    assert!(said.contains("already distilled"), "{said}");
    assert_eq!(
        std::fs::metadata(&cache)
            .and_then(|m| m.modified())
            .expect("mtime"),
        written
    );

    // A damaged table is not taken for a distilled one: it is distilled again.
    std::fs::write(&cache, b"not a table").expect("damage");
    let (ok, said) = distill(&[]);
    assert!(ok, "{said}");
    assert!(said.contains("distilled 30522 tokens"), "{said}");
    assert_eq!(std::fs::metadata(&cache).expect("table").len(), size);

    // A directory without a model: a clear error naming it, no table.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("empty dir");
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["distill-static", "--model-dir"])
        .arg(&empty)
        .output()
        .expect("sluice distill-static");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains(&empty.display().to_string()), "{said}");
    assert!(said.contains("deploy/setup-model.sh"), "{said}");
    assert!(!empty.join("static-distilled.bin").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
