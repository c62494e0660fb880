//! The gateway with real clients of every kind, against `sluice all` and the Jira simulator
//! as processes: grpcurl (gRPC), curl (HTTP/JSON, the README's examples as printed), the
//! Python client's example, the generated TypeScript client over grpc-web under Node, CORS
//! preflights, and a gateway of its own ending open streams cleanly when it shuts down.

mod processes;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use processes::{Killed, Stack, delete_queues, free_port, repo_root, wait_for_port};

const PUBLIC: [&str; 9] = [
    "sluice.v1.AccountService",
    "sluice.v1.CatalogService",
    "sluice.v1.CustomFieldService",
    "sluice.v1.IntegrationService",
    "sluice.v1.JobService",
    "sluice.v1.NotificationService",
    "sluice.v1.QueueService",
    "sluice.v1.SearchService",
    "sluice.v1.VectorizerService",
];

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs a client to its end, killed after 5 minutes (a hung client fails the test, it never
/// hangs it).
fn run(program: &str, args: &[&str], dir: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new("timeout");
    command
        .args(["300", program])
        .args(args)
        .envs(env.iter().copied());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().unwrap_or_else(|e| {
        panic!("{program} is required for this test and could not run ({e}); deploy/test.sh installs it")
    })
}

/// `sluice all` and the simulator; returns (stack, children, API key, simulator URL).
fn start() -> (Stack, Killed, String, String) {
    let mut stack = Stack::new("gateway");
    stack.set("SLUICE_GATEWAY_CORS_ORIGINS", "http://ops.example.test");
    let simulator = free_port();
    let mut children = Killed(Vec::new());
    children.0.push(stack.spawn(
        &["simulator", "--addr", &format!("127.0.0.1:{simulator}")],
        "simulator.log",
    ));
    children.0.push(stack.spawn(&["all"], "all.log"));
    wait_for_port(simulator, "the simulator");
    wait_for_port(stack.gateway, "the gateway");
    let bootstrap = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "bootstrap",
            "--tenant",
            &format!("tenant-{}", stack.queue_prefix.trim_end_matches('.')),
        ])
        .envs(stack.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("sluice bootstrap");
    assert!(bootstrap.status.success(), "{}", text(&bootstrap));
    let key = String::from_utf8_lossy(&bootstrap.stdout)
        .trim()
        .to_string();
    (
        stack,
        children,
        key,
        format!("http://127.0.0.1:{simulator}"),
    )
}

/// The fenced block after `marker` in README.md, one command per (joined) line.
fn readme_block(marker: &str) -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme.find(marker).expect("README marks the examples");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("fenced block") + 6;
    let close = block[open..].find("```").expect("block end") + open;
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block[open..close].lines() {
        let line = line.trim_end();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            current.push_str(continued);
            continue;
        }
        current.push_str(line);
        commands.push(std::mem::take(&mut current));
    }
    commands
}

#[test]
fn one_address_serves_grpc_grpc_web_and_json_to_real_clients() {
    let (stack, _children, key, simulator) = start();
    let gateway = format!("127.0.0.1:{}", stack.gateway);
    let base = format!("http://{gateway}");

    // grpcurl: reflection lists exactly the public services; a key is required.
    let listed = run("grpcurl", &["-plaintext", &gateway, "list"], None, &[]);
    assert!(listed.status.success(), "{}", text(&listed));
    let sluice: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("sluice."))
        .map(str::to_string)
        .collect();
    assert_eq!(
        sluice, PUBLIC,
        "the gateway lists exactly the public services"
    );
    let auth = format!("authorization: Bearer {key}");
    let who = run(
        "grpcurl",
        &[
            "-plaintext",
            "-H",
            &auth,
            &gateway,
            "sluice.v1.AccountService/WhoAmI",
        ],
        None,
        &[],
    );
    assert!(
        who.status.success() && text(&who).contains("tenantName"),
        "{}",
        text(&who)
    );
    let anonymous = run(
        "grpcurl",
        &["-plaintext", &gateway, "sluice.v1.AccountService/WhoAmI"],
        None,
        &[],
    );
    assert!(
        !anonymous.status.success() && text(&anonymous).contains("Unauthenticated"),
        "{}",
        text(&anonymous)
    );
    let internal = run(
        "grpcurl",
        &[
            "-plaintext",
            "-H",
            &auth,
            "-d",
            "{}",
            &gateway,
            "sluice.v1.ProgressService/ReportProgress",
        ],
        None,
        &[],
    );
    assert!(
        text(&internal).contains("Unimplemented"),
        "internal services are never forwarded: {}",
        text(&internal)
    );

    // HTTP/JSON: the README's curl examples, as printed.
    let commands = readme_block("<!-- curl-examples -->");
    assert!(commands.iter().any(|c| c.contains("RunJob")));
    let mut vars: Vec<(String, String)> = vec![("SLUICE_API_KEY".into(), key.clone())];
    let mut run_id = String::new();
    for command in commands {
        // The key the README tells the reader to export is this test's.
        if command.starts_with("export ") {
            continue;
        }
        let command = command
            .replace("localhost:8080", &gateway)
            .replace("http://127.0.0.1:8090", &simulator);
        let output = Command::new("bash")
            .arg("-c")
            .arg(&command)
            .envs(vars.clone())
            .output()
            .expect("bash");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "README command failed: {command}\n{}",
            text(&output)
        );
        let value: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{command} answered non-JSON ({e}): {stdout}"));
        assert!(
            value.get("code").is_none(),
            "{command} answered an error: {stdout}"
        );
        if let Some(job_id) = value["jobIds"][1].as_str() {
            vars.push(("JOB_ID".into(), job_id.to_string()));
        }
        if let Some(id) = value["run"]["id"].as_str() {
            run_id = id.to_string();
            vars.push(("RUN_ID".into(), run_id.clone()));
        }
    }
    assert!(!run_id.is_empty(), "the examples start a run");

    // JSON errors name the problem, with the gRPC code and the HTTP status for it.
    let post = |path: &str, key: &str, body: &str| {
        let output = run(
            "curl",
            &[
                "-s",
                "-o",
                "-",
                "-w",
                "\n%{http_code}",
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "-H",
                &format!("authorization: Bearer {key}"),
                "-d",
                body,
                &format!("{base}{path}"),
            ],
            None,
            &[],
        );
        let all = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = all.rsplit_once('\n').unwrap_or((&all, ""));
        (status.to_string(), body.to_string())
    };
    let (status, body) = post(
        "/sluice.v1.JobService/ListJobs",
        &key,
        "{\"integration_id\": ",
    );
    assert_eq!(status, "400", "{body}");
    assert!(
        body.contains("\"invalid_argument\"") && body.contains("ListJobsRequest"),
        "{body}"
    );
    let (status, body) = post("/sluice.v1.JobService/ListJobs", &key, "{\"pageSize\": 1}");
    assert_eq!(status, "400", "{body}");
    assert!(
        body.contains("pageSize"),
        "the unknown field is named: {body}"
    );
    let (status, body) = post("/sluice.v1.JobService/ListJobs", "sk_sluice_wrong", "{}");
    assert_eq!(status, "401", "{body}");
    assert!(body.contains("\"unauthenticated\""), "{body}");
    let (status, body) = post("/sluice.v1.ProgressService/ReportProgress", &key, "{}");
    assert_eq!(status, "404", "{body}");
    // Bodies are size-limited (4 MiB by default).
    let big = stack.scratch.join("big.json");
    std::fs::write(&big, format!("{{\"name\":\"{}\"}}", "x".repeat(5 << 20))).expect("file");
    let oversized = run(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "--data-binary",
            &format!("@{}", big.display()),
            &format!("{base}/sluice.v1.IntegrationService/CreateIntegration"),
        ],
        None,
        &[],
    );
    assert_eq!(String::from_utf8_lossy(&oversized.stdout), "413");

    // CORS: this stack allows one origin.
    let preflight = |origin: &str| {
        let output = run(
            "curl",
            &[
                "-s",
                "-i",
                "-X",
                "OPTIONS",
                "-H",
                &format!("Origin: {origin}"),
                "-H",
                "Access-Control-Request-Method: POST",
                "-H",
                "Access-Control-Request-Headers: content-type,x-grpc-web,authorization",
                &format!("{base}/sluice.v1.JobService/ListJobs"),
            ],
            None,
            &[],
        );
        String::from_utf8_lossy(&output.stdout).to_lowercase()
    };
    let allowed = preflight("http://ops.example.test");
    assert!(
        allowed.contains("access-control-allow-origin: http://ops.example.test"),
        "{allowed}"
    );
    assert!(allowed.contains("x-grpc-web"), "{allowed}");
    let refused = preflight("http://elsewhere.example.test");
    assert!(
        !refused.contains("access-control-allow-origin"),
        "{refused}"
    );

    // The Python client's example: a sync followed to its end, work items, a search.
    let example = repo_root().join("clients/python/examples/sync_and_search.py");
    let python = run(
        "python3",
        &[
            example.to_str().expect("path"),
            "--gateway",
            &gateway,
            "--api-key",
            &key,
            "--jira-url",
            &simulator,
            "--name",
            &format!("python-{}", std::process::id()),
        ],
        None,
        &[],
    );
    let printed = text(&python);
    assert!(
        python.status.success(),
        "the Python example failed (pip install ./clients/python?):\n{printed}"
    );
    assert!(
        printed.contains("run jira_discovery") && printed.contains("run jira_issues"),
        "{printed}"
    );
    assert_eq!(
        printed.matches(": RUN_STATUS_COMPLETED").count(),
        2,
        "both runs completed: {printed}"
    );
    assert!(
        printed.contains("work items: 1\n"),
        "the recorded site's one issue: {printed}"
    );
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("search \"") && l.contains(": ED-1 (")),
        "the search finds the issue: {printed}"
    );

    // The generated TypeScript client over grpc-web, under Node: a unary call and a whole
    // run's WatchJobs stream.
    let dashboard = repo_root().join("gateway/dashboard");
    assert!(
        dashboard.join("node_modules").is_dir(),
        "gateway/dashboard/node_modules is missing: deploy/test.sh runs npm ci there"
    );
    let node = run(
        "npm",
        &["run", "--silent", "client-check"],
        Some(&dashboard),
        &[
            ("SLUICE_GATEWAY_URL", &base),
            ("SLUICE_API_KEY", &key),
            ("SIMULATOR_URL", &simulator),
            ("SIMULATOR_EMAIL", "demo@example.com"),
            ("SIMULATOR_TOKEN", "demo-token"),
        ],
    );
    let printed = text(&node);
    assert!(node.status.success(), "grpc-web client:\n{printed}");
    assert!(printed.contains("last COMPLETED at 100%"), "{printed}");
    delete_queues(&stack.queue_prefix);
}

#[test]
fn a_gateway_of_its_own_ends_open_streams_cleanly_when_it_shuts_down() {
    let (mut stack, mut children, key, _simulator) = start();
    // A second gateway, as its own process, forwarding to the first stack's services.
    let own = free_port();
    let orchestrator = format!("http://127.0.0.1:{}", stack.orchestrator);
    let vectorizer = format!(
        "http://{}",
        stack.get("SLUICE_VECTORIZER_ADDR").expect("addr")
    );
    stack.set("SLUICE_GATEWAY_ADDR", &format!("127.0.0.1:{own}"));
    stack.set("SLUICE_GATEWAY_ORCHESTRATOR_URL", &orchestrator);
    stack.set("SLUICE_GATEWAY_VECTORIZER_URL", &vectorizer);
    let mut gateway = stack.spawn(&["gateway"], "gateway.log");
    wait_for_port(own, "the gateway process");
    let target = format!("127.0.0.1:{own}");
    let auth = format!("authorization: Bearer {key}");
    let mut watch = Command::new("grpcurl")
        .args([
            "-plaintext",
            "-H",
            &auth,
            "-d",
            "{}",
            &target,
            "sluice.v1.JobService/WatchJobs",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("grpcurl is required (deploy/test.sh installs it)");
    // The stream is open (a new tenant has no jobs: nothing arrives, nothing ends it).
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        watch.try_wait().expect("poll").is_none(),
        "the stream stays open"
    );
    let started = Instant::now();
    let term = Command::new("kill")
        .args(["-TERM", &gateway.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let ended = loop {
        if let Some(status) = watch.try_wait().expect("poll") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the open stream did not end when the gateway shut down"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    watch
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert!(!ended.success());
    assert!(
        err.contains("Unavailable") && err.contains("shutting down"),
        "ended with a status saying why: {err}"
    );
    let exited = gateway.wait().expect("gateway exit");
    assert!(
        exited.success(),
        "the gateway exits cleanly: {}",
        stack.log("gateway.log")
    );
    children.0.push(gateway);
    delete_queues(&stack.queue_prefix);
}

#[test]
fn one_connection_holds_hundreds_of_streams_and_still_answers_calls() {
    let (stack, _children, key, _simulator) = start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sluice_proto::v1 as pb;
        let channel =
            tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", stack.gateway))
                .expect("url")
                .connect()
                .await
                .expect("connect to the gateway");
        let jobs = pb::job_service_client::JobServiceClient::new(channel.clone());
        // One HTTP/2 connection, as a browser or the Python client keeps: more streams than
        // hyper's default limit of 200.
        let mut streams = Vec::new();
        for _ in 0..300 {
            let mut client = jobs.clone();
            let request =
                sluice_plumbing::auth::with_api_key(&key, pb::WatchJobsRequest::default());
            let opened = tokio::time::timeout(Duration::from_secs(10), client.watch_jobs(request))
                .await
                .expect("a stream opens without waiting for others to close")
                .expect("WatchJobs");
            streams.push(opened.into_inner());
        }
        let who = tokio::time::timeout(
            Duration::from_secs(10),
            pb::account_service_client::AccountServiceClient::new(channel).who_am_i(
                sluice_plumbing::auth::with_api_key(&key, pb::WhoAmIRequest {}),
            ),
        )
        .await
        .expect("a unary call is not stuck behind the streams")
        .expect("WhoAmI");
        assert!(!who.into_inner().tenant_id.is_empty());
        drop(streams);
    });
    delete_queues(&stack.queue_prefix);
}
