//! Real `sluice` processes for the tests that drive the binaries as operators and clients
//! do: free ports, waiting for a listener, a stack that kills its children when dropped.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Children killed (SIGKILL) and reaped when dropped, whatever the test's outcome.
pub struct Killed(pub Vec<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct free ports (the listeners are held until all are chosen, so the kernel
/// cannot hand the same port out twice).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn database_url() -> String {
    std::env::var("SLUICE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://sluice:sluice@127.0.0.1:5432/sluice_test".into())
}

pub fn amqp_url() -> String {
    std::env::var("SLUICE_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The repository's root (for clients/ and gateway/dashboard).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The model directory deploy/setup-model.sh fills (or SLUICE_MODEL_DIR).
pub fn model_dir() -> PathBuf {
    std::env::var("SLUICE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".sluice/models/all-MiniLM-L6-v2"))
}

/// Ports and environment of one `sluice all` with its own queues, no scheduler (the shared
/// test database holds other tests' due jobs) and every listener on a free loopback port.
pub struct Stack {
    pub env: Vec<(String, String)>,
    pub gateway: u16,
    pub orchestrator: u16,
    pub queue_prefix: String,
    pub scratch: PathBuf,
}

impl Stack {
    pub fn new(name: &str) -> Stack {
        let ports = free_ports(7);
        // Unique per stack: tests of one binary run in parallel in one process.
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let queue_prefix = format!("{name}-{}.", &unique[..12]);
        let scratch = std::env::temp_dir().join(format!("sluice-{name}-{}", &unique[..12]));
        std::fs::create_dir_all(&scratch).expect("scratch dir");
        let env = [
            ("SLUICE_DATABASE_URL", database_url()),
            ("SLUICE_AMQP_URL", amqp_url()),
            ("SLUICE_QUEUE_PREFIX", queue_prefix.clone()),
            ("SLUICE_SCHEDULER", "off".into()),
            (
                "SLUICE_CREDENTIALS_KEY",
                sluice_plumbing::crypto::CredentialCipher::generate_key(),
            ),
            (
                "SLUICE_INTERNAL_TOKEN",
                sluice_plumbing::internal::InternalAuth::generate_token(),
            ),
            (
                "SLUICE_ORCHESTRATOR_ADDR",
                format!("127.0.0.1:{}", ports[0]),
            ),
            (
                "SLUICE_ORCHESTRATOR_URL",
                format!("http://127.0.0.1:{}", ports[0]),
            ),
            (
                "SLUICE_ORCHESTRATOR_INTERNAL_ADDR",
                format!("127.0.0.1:{}", ports[1]),
            ),
            ("SLUICE_CONNECTORS_ADDR", format!("127.0.0.1:{}", ports[2])),
            (
                "SLUICE_CONNECTORS_URL",
                format!("http://127.0.0.1:{}", ports[2]),
            ),
            ("SLUICE_TRANSFORMER_ADDR", format!("127.0.0.1:{}", ports[3])),
            ("SLUICE_LOADER_ADDR", format!("127.0.0.1:{}", ports[4])),
            ("SLUICE_VECTORIZER_ADDR", format!("127.0.0.1:{}", ports[5])),
            ("SLUICE_GATEWAY_ADDR", format!("127.0.0.1:{}", ports[6])),
            // Processes run from cli/: the repository's paths, absolute.
            ("SLUICE_MODEL_DIR", model_dir().display().to_string()),
            (
                "SLUICE_DASHBOARD_DIR",
                repo_root()
                    .join("gateway/dashboard/dist")
                    .display()
                    .to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Stack {
            env,
            gateway: ports[6],
            orchestrator: ports[0],
            queue_prefix,
            scratch,
        }
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Starts `sluice <args>` with this stack's environment, logging to the scratch dir.
    pub fn spawn(&self, args: &[&str], log: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.scratch.join(log)).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting sluice {args:?}: {e}"))
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.scratch.join(name)).unwrap_or_default()
    }
}

/// Removes a test's queues so repeated runs leave nothing on the broker.
pub fn delete_queues(prefix: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        if let Ok(connection) =
            sluice_plumbing::amqp::connect(&amqp_url(), Duration::from_secs(5)).await
            && let Ok(channel) = connection.create_channel().await
        {
            let _ = sluice_plumbing::amqp::Topology::new(prefix)
                .remove(&channel)
                .await;
        }
    });
}

/// The OTLP receiver rotel's agent (PyPI `rotel`, installed by deploy/test.sh), or `ROTEL`.
pub fn rotel_binary() -> PathBuf {
    if let Ok(path) = std::env::var("ROTEL") {
        return PathBuf::from(path);
    }
    let output = Command::new("python3")
        .args([
            "-c",
            "import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), 'rotel-agent'))",
        ])
        .output()
        .expect("python3");
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert!(
        output.status.success() && path.exists(),
        "the OTLP receiver rotel is required for this test and was not found; deploy/test.sh installs it (pip install rotel)"
    );
    path
}

/// Starts rotel receiving OTLP/gRPC on `port` (OTLP/HTTP on `http_port`) and logging every
/// span and metric in detail to `log`.
pub fn start_rotel(port: u16, http_port: u16, log: &std::path::Path) -> Child {
    let child = Command::new(rotel_binary())
        .args([
            "start",
            "--exporter",
            "blackhole",
            "--debug-log",
            "traces",
            "--debug-log",
            "metrics",
            "--debug-log-verbosity",
            "detailed",
        ])
        .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{port}")])
        .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
        .stdout(std::fs::File::create(log).expect("rotel log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start rotel");
    wait_for_port(port, "rotel");
    child
}

/// One span as rotel's detailed debug log shows it.
#[derive(Debug, Clone, Default)]
pub struct ExportedSpan {
    /// The exporting process's `service.name` resource attribute.
    pub service: String,
    pub trace: String,
    pub id: String,
    /// Empty for a root span.
    pub parent: String,
    pub name: String,
}

/// Every span in rotel's detailed debug log, with its service. A span's own fields are the
/// first of their kind after `Span #n` (its links, listed after, repeat the names).
pub fn exported_spans(log: &str) -> Vec<ExportedSpan> {
    let mut spans: Vec<ExportedSpan> = Vec::new();
    let mut service = String::new();
    let mut in_span = false;
    for line in log.lines() {
        let line = line.trim();
        if line.starts_with("ResourceSpans #") {
            in_span = false;
            service.clear();
        } else if let Some(name) = line
            .strip_prefix("-> service.name: Str(")
            .and_then(|rest| rest.strip_suffix(')'))
            && !in_span
        {
            service = name.to_string();
        } else if line.starts_with("Span #") {
            in_span = true;
            spans.push(ExportedSpan {
                service: service.clone(),
                ..ExportedSpan::default()
            });
        } else if in_span && let Some(span) = spans.last_mut() {
            let field = |prefix: &str| {
                line.strip_prefix(prefix)
                    .and_then(|rest| rest.trim_start().strip_prefix(':'))
                    .map(|value| value.trim().to_string())
            };
            if span.trace.is_empty()
                && let Some(v) = field("Trace ID")
            {
                span.trace = v;
            } else if span.parent.is_empty()
                && span.id.is_empty()
                && let Some(v) = field("Parent ID")
            {
                span.parent = v;
            } else if span.id.is_empty()
                && let Some(v) = field("ID")
            {
                span.id = v;
            } else if span.name.is_empty()
                && let Some(v) = field("Name")
            {
                span.name = v;
            }
        }
    }
    spans
}
