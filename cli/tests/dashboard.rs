//! The dashboard as a new user meets it: Debian's Chromium, driven by playwright-core
//! (`gateway/dashboard/e2e/walkthrough.mjs`), against the gateway serving the built dashboard,
//! `sluice all` and the Jira simulator as processes. Sign in (a wrong key, then the right one),
//! create and test an integration, run discovery and the sync with live progress, map custom
//! fields by drag and drop and by keyboard, see the server refuse a 21st dedicated field,
//! save, Reprocess, read the values in a work item, the run history and its chart, poison a
//! batch and requeue its dead letter until the run completes, search and open a result.
//! Any browser console error fails it. Screenshots land in target/e2e-artifacts/dashboard.

mod processes;

use std::process::Command;

use processes::{Killed, Stack, delete_queues, free_port, repo_root, wait_for_port};

#[test]
fn a_new_user_walks_through_the_dashboard_in_a_real_browser() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is required for this test; deploy/test.sh installs it"
    );
    let dashboard = repo_root().join("gateway/dashboard");
    assert!(
        dashboard.join("dist/index.html").is_file() && dashboard.join("node_modules").is_dir(),
        "the built dashboard is required; deploy/test.sh builds it (deploy/clients.sh)"
    );
    let mut stack = Stack::new("dashboard");
    // A poisoned batch should reach the dead letters in seconds, not the default minutes.
    stack.set("SLUICE_RETRY_DELAYS_MS", "200,400");
    stack.set("SLUICE_MAX_RETRIES", "2");
    let simulator = free_port();
    let mut children = Killed(Vec::new());
    // A generated site with more custom fields than dedicated columns.
    children.0.push(stack.spawn(
        &[
            "simulator",
            "--addr",
            &format!("127.0.0.1:{simulator}"),
            "--generate-projects",
            "2",
            "--issue-types",
            "3",
            "--statuses",
            "4",
            "--issues-per-project",
            "15",
            "--custom-fields",
            "24",
        ],
        "simulator.log",
    ));
    children.0.push(stack.spawn(&["all"], "all.log"));
    wait_for_port(simulator, "the simulator");
    wait_for_port(stack.gateway, "the gateway");
    let tenant = format!("dashboard-{}", std::process::id());
    let bootstrap = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["bootstrap", "--tenant", &tenant])
        .envs(stack.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("sluice bootstrap");
    assert!(bootstrap.status.success());
    let key = String::from_utf8_lossy(&bootstrap.stdout)
        .trim()
        .to_string();

    // The poisoning the walk-through asks for: the database refuses the tenant's projects (an
    // error that might pass, so it is retried, then dead-lettered); a run of the issues job
    // meets it; once the dead letter is recorded the cause is removed, so the requeue the
    // browser then does lands the page.
    let database = stack.get("SLUICE_DATABASE_URL").expect("db").to_string();
    let poison = stack.scratch.join("poison.sh");
    std::fs::write(
        &poison,
        format!(
            r#"set -euo pipefail
db='{database}'
tenant=$(psql "$db" -Atc "SELECT id FROM tenants WHERE name = '{tenant}'")
job=$(psql "$db" -Atc "SELECT id FROM etl_jobs WHERE tenant_id = '$tenant' AND job_type = 'jira_issues' ORDER BY created_at DESC LIMIT 1")
fn="e2e_poison_${{tenant//-/_}}"
psql "$db" -q -c "CREATE FUNCTION $fn() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'refused by the dashboard test' USING ERRCODE = 'insufficient_resources'; END \$\$;
  CREATE TRIGGER $fn BEFORE INSERT OR UPDATE ON projects FOR EACH ROW WHEN (NEW.tenant_id = '$tenant') EXECUTE FUNCTION $fn();"
trap 'psql "$db" -q -c "DROP TRIGGER IF EXISTS $fn ON projects; DROP FUNCTION IF EXISTS $fn();"' EXIT
curl -sf -X POST 'http://127.0.0.1:{gateway}/sluice.v1.JobService/RunJob' \
  -H 'authorization: Bearer {key}' -H 'content-type: application/json' -d "{{\"id\":\"$job\"}}" >/dev/null
for _ in $(seq 1 300); do
  [ "$(psql "$db" -Atc "SELECT count(*) FROM dead_letters WHERE tenant_id = '$tenant'")" -gt 0 ] && exit 0
  sleep 0.2
done
echo "no dead letter within 60 s" >&2
exit 1
"#,
            gateway = stack.gateway,
        ),
    )
    .expect("poison script");

    let artifacts = repo_root().join("target/e2e-artifacts/dashboard");
    let _ = std::fs::remove_dir_all(&artifacts);
    // Killed after 15 minutes: a stuck walk-through fails the test instead of hanging it.
    let walk = Command::new("timeout")
        .args(["900", "npm", "run", "--silent", "e2e"])
        .current_dir(&dashboard)
        .env(
            "DASHBOARD_URL",
            format!("http://127.0.0.1:{}", stack.gateway),
        )
        .env("SLUICE_API_KEY", &key)
        .env("SIMULATOR_URL", format!("http://127.0.0.1:{simulator}"))
        .env("SIMULATOR_EMAIL", "demo@example.com")
        .env("SIMULATOR_TOKEN", "demo-token")
        .env("ARTIFACTS_DIR", &artifacts)
        .env("POISON_COMMAND", format!("bash {}", poison.display()))
        .env("E2E_DELETE", "1")
        .output()
        .expect("npm is required for this test (deploy/test.sh installs Node.js)");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&walk.stdout),
        String::from_utf8_lossy(&walk.stderr)
    );
    assert!(
        walk.status.success(),
        "the walk-through failed (screenshots in {}):\n{printed}\n--- sluice all log (tail) ---\n{}",
        artifacts.display(),
        stack
            .log("all.log")
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(printed.contains("walk-through passed"), "{printed}");
    let screenshots = std::fs::read_dir(&artifacts)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert!(
        screenshots >= 10,
        "screenshots of every page: {screenshots}"
    );
    drop(children);
    delete_queues(&stack.queue_prefix);
}
