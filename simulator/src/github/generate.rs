//! Generated GitHub data: every value is a pure function of the spec's seed, the day the
//! dataset was made (`anchor`) and a few indexes, so a pull request and its commits, reviews
//! and comments are rebuilt on demand. Only the facts lists and sorts need (times, state,
//! author) are kept per pull request.

use super::dataset::GithubSpec;
use super::json::DAY;
use crate::rng::{Rng, hash, mix};

/// Separate random streams per concern, so adding one field never shifts the others.
pub(crate) mod salt {
    pub(crate) const PR: u64 = 0x101;
    pub(crate) const TITLE: u64 = 0x102;
    pub(crate) const BODY: u64 = 0x103;
    pub(crate) const MENTION: u64 = 0x104;
    pub(crate) const PR_EXTRA: u64 = 0x105;
    pub(crate) const COMMIT_TIMES: u64 = 0x110;
    pub(crate) const REVIEW_TIMES: u64 = 0x111;
    pub(crate) const REVIEW_COMMENT_TIMES: u64 = 0x112;
    pub(crate) const ISSUE_COMMENT_TIMES: u64 = 0x113;
    pub(crate) const COMMIT: u64 = 0x120;
    pub(crate) const REVIEW: u64 = 0x121;
    pub(crate) const REVIEW_COMMENT: u64 = 0x122;
    pub(crate) const ISSUE_COMMENT: u64 = 0x123;
    pub(crate) const REPO: u64 = 0x130;
    pub(crate) const SHA_COMMIT: u64 = 0x140;
    pub(crate) const SHA_BASE: u64 = 0x141;
    pub(crate) const SHA_MERGE: u64 = 0x142;
    pub(crate) const SHA_HEAD: u64 = 0x143;
    pub(crate) const SHA_TREE: u64 = 0x144;
    pub(crate) const BUMP: u64 = 0x150;
    pub(crate) const EDIT: u64 = 0x151;
}

/// Generated ids grow with creation time across the whole dataset, like GitHub's:
/// `(seconds since 2015-01-01) * 1_000_000 + ordinal % 1_000_000`.
const ID_EPOCH: i64 = 1_420_070_400;
const ID_SLOTS: u64 = 1_000_000;

pub(crate) fn time_id(at: i64, ordinal: u64) -> u64 {
    let secs = u64::try_from(at - ID_EPOCH).unwrap_or(0);
    secs * ID_SLOTS + ordinal % ID_SLOTS
}

/// A 40-hex-digit object name.
pub(crate) fn sha(parts: &[u64]) -> String {
    let h = hash(parts);
    let (a, b, c) = (mix(h ^ 1), mix(h ^ 2), mix(h ^ 3));
    format!("{a:016x}{b:016x}{:08x}", c >> 32)
}

/// Whether a person is a user, a bot or the placeholder of deleted accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Bot,
}

pub(crate) struct Person {
    pub(crate) login: &'static str,
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) email: &'static str,
    pub(crate) kind: Kind,
}

/// Everyone who appears in generated data; humans first.
pub(crate) const PEOPLE: [Person; 12] = [
    Person {
        login: "ana-souza",
        id: 5_120_001,
        name: "Ana Souza",
        email: "ana.souza@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "kenji-tanaka",
        id: 5_120_002,
        name: "田中 健二",
        email: "5120002+kenji-tanaka@users.noreply.github.com",
        kind: Kind::User,
    },
    Person {
        login: "fatima-zahra",
        id: 5_120_003,
        name: "فاطمة الزهراء",
        email: "fatima@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "lukasz-zolc",
        id: 5_120_004,
        name: "Łukasz Żółć",
        email: "lukasz.zolc@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "zoe-angstrom",
        id: 5_120_005,
        name: "Zoë Ångström",
        email: "5120005+zoe-angstrom@users.noreply.github.com",
        kind: Kind::User,
    },
    Person {
        login: "priya-raman",
        id: 5_120_006,
        name: "Priya Raman",
        email: "priya@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "olu-adeyemi",
        id: 5_120_007,
        name: "Olúwaseun Adéyẹmí",
        email: "olu@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "robin-oconnor",
        id: 5_120_008,
        name: "Robin O'Connor",
        email: "robin.oconnor@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "sven-mueller",
        id: 5_120_009,
        name: "Sven Müller",
        email: "sven.mueller@acme.example",
        kind: Kind::User,
    },
    Person {
        login: "dependabot[bot]",
        id: 49_699_333,
        name: "dependabot[bot]",
        email: "49699333+dependabot[bot]@users.noreply.github.com",
        kind: Kind::Bot,
    },
    Person {
        login: "github-actions[bot]",
        id: 41_898_282,
        name: "github-actions[bot]",
        email: "41898282+github-actions[bot]@users.noreply.github.com",
        kind: Kind::Bot,
    },
    // GitHub shows this account in place of deleted ones
    Person {
        login: "ghost",
        id: 10_137,
        name: "Deleted user",
        email: "ghost@users.noreply.github.com",
        kind: Kind::User,
    },
];
pub(crate) const HUMANS: usize = 9;
pub(crate) const DEPENDABOT: u8 = 9;
pub(crate) const ACTIONS_BOT: u8 = 10;
pub(crate) const GHOST: u8 = 11;

/// Git identities of commit authors without a GitHub account (the commit's `author` is null).
pub(crate) const UNLINKED: [(&str, &str); 3] = [
    ("Build Robot", "build-robot@ci.acme.example"),
    ("José Álvarez", "jose@old-laptop.local"),
    ("root", "root@localhost"),
];

pub(crate) fn human(rng: &mut Rng) -> u8 {
    rng.below(HUMANS) as u8
}

/// What sorting, filtering and counting need of one generated pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrFacts {
    pub(crate) created: i64,
    /// Last activity (commits, reviews, comments all happen at or before it); closing time
    /// of closed pull requests.
    pub(crate) end: i64,
    pub(crate) updated: i64,
    pub(crate) closed: bool,
    pub(crate) merged: bool,
    pub(crate) draft: bool,
    pub(crate) author: u8,
}

impl PrFacts {
    pub(crate) fn closed_at(&self) -> Option<i64> {
        self.closed.then_some(self.end)
    }

    pub(crate) fn merged_at(&self) -> Option<i64> {
        self.merged.then_some(self.end)
    }
}

pub(crate) fn pr_facts(spec: &GithubSpec, anchor: i64, r: usize, k: usize) -> PrFacts {
    let mut rng = Rng::new(&[spec.seed, r as u64, k as u64, salt::PR]);
    let per = spec.prs_per_repo.max(1) as i64;
    let start = anchor - 365 * DAY;
    let slot = (364 * DAY / per).max(1);
    // numbers grow with time inside a repository, as on GitHub
    let created = start + slot * k as i64 + rng.between(0, slot) + (r % 60) as i64 * 11;
    // every draw is made whatever the earlier ones gave, so the stream never shifts
    let (open_roll, draft_roll, merged_roll) = (rng.below(100), rng.below(100), rng.below(100));
    let duration = match rng.below(100) {
        0..40 => rng.between(10 * 60, 6 * 3600),
        40..75 => rng.between(6 * 3600, 3 * DAY),
        _ => rng.between(3 * DAY, 30 * DAY),
    };
    let (end_margin, update_lag) = (rng.between(0, 3600), rng.between(0, 60));
    let (author_roll, someone) = (rng.below(100), human(&mut rng));

    let recent = anchor - created < 30 * DAY;
    let open = open_roll < if recent { 45 } else { 8 };
    let draft = open && draft_roll < 30;
    let merged = !open && merged_roll < 78;
    let end = (created + duration).min(anchor - 60 - end_margin);
    let end = end.max(created + 1);
    let updated = end + update_lag;
    // some pull requests by deleted accounts in every repository (#2, #42, … and 4% more)
    let author = match author_roll {
        _ if k % 40 == 1 => GHOST,
        0..4 => GHOST,
        4..10 => DEPENDABOT,
        _ => someone,
    };
    PrFacts {
        created,
        end,
        updated,
        closed: !open,
        merged,
        draft,
        author,
    }
}

/// The children of a pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Child {
    Commit,
    Review,
    ReviewComment,
    IssueComment,
}

impl Child {
    pub(crate) fn count(self, spec: &GithubSpec) -> usize {
        match self {
            Child::Commit => spec.commits_per_pr,
            Child::Review => spec.reviews_per_pr,
            Child::ReviewComment => spec.review_comments_per_pr,
            Child::IssueComment => spec.issue_comments_per_pr,
        }
    }

    fn times_salt(self) -> u64 {
        match self {
            Child::Commit => salt::COMMIT_TIMES,
            Child::Review => salt::REVIEW_TIMES,
            Child::ReviewComment => salt::REVIEW_COMMENT_TIMES,
            Child::IssueComment => salt::ISSUE_COMMENT_TIMES,
        }
    }

    pub(crate) fn detail_salt(self) -> u64 {
        match self {
            Child::Commit => salt::COMMIT,
            Child::Review => salt::REVIEW,
            Child::ReviewComment => salt::REVIEW_COMMENT,
            Child::IssueComment => salt::ISSUE_COMMENT,
        }
    }
}

/// (created, updated) of each child, in creation order (which is also id order). Commits may
/// predate the pull request by up to two days; everything else happens between its creation
/// and its `end`. A quarter of the comments were edited later (updated > created).
pub(crate) fn child_times(
    spec: &GithubSpec,
    facts: &PrFacts,
    r: usize,
    k: usize,
    child: Child,
) -> Vec<(i64, i64)> {
    let count = child.count(spec);
    let mut rng = Rng::new(&[spec.seed, r as u64, k as u64, child.times_salt()]);
    let lo = if child == Child::Commit {
        facts.created - rng.between(600, 2 * DAY)
    } else {
        facts.created
    };
    let mut times: Vec<(i64, i64)> = (0..count)
        .map(|_| {
            let created = rng.between(lo, facts.end + 1);
            let edited =
                matches!(child, Child::ReviewComment | Child::IssueComment) && rng.chance(25);
            let updated = if edited {
                rng.between(created, facts.end + 1)
            } else {
                created
            };
            (created, updated)
        })
        .collect();
    times.sort_unstable();
    times
}

/// Global ordinal of a pull request, for ids.
pub(crate) fn pr_ordinal(spec: &GithubSpec, r: usize, k: usize) -> u64 {
    (r * spec.prs_per_repo + k) as u64
}

pub(crate) fn child_ordinal(spec: &GithubSpec, child: Child, r: usize, k: usize, i: usize) -> u64 {
    pr_ordinal(spec, r, k) * child.count(spec).max(1) as u64 + i as u64
}

/// A Jira issue key mention: index into `jira_keys` and issue number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) project: usize,
    pub(crate) number: u32,
}

impl Key {
    pub(crate) fn text(self, spec: &GithubSpec) -> String {
        format!("{}-{}", spec.jira_keys[self.project], self.number)
    }
}

/// The Jira keys a pull request mentions: the primary one in its title, branch and one
/// commit message; sometimes a second one in another commit message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mention {
    pub(crate) primary: Key,
    pub(crate) commit: usize,
    pub(crate) secondary: Option<(Key, usize)>,
    pub(crate) style: usize,
}

/// Issue numbers mentioned are 1..=100 (a generated Jira project's default size).
const MENTIONED_NUMBERS: usize = 100;

pub(crate) fn mention(spec: &GithubSpec, r: usize, k: usize) -> Option<Mention> {
    let n = k + 1;
    if spec.mention_every == 0 || spec.jira_keys.is_empty() || !n.is_multiple_of(spec.mention_every)
    {
        return None;
    }
    let mut rng = Rng::new(&[spec.seed, r as u64, k as u64, salt::MENTION]);
    let key = |rng: &mut Rng| Key {
        project: rng.below(spec.jira_keys.len()),
        number: 1 + rng.below(MENTIONED_NUMBERS) as u32,
    };
    let primary = key(&mut rng);
    let commits = spec.commits_per_pr;
    let commit = rng.below(commits);
    let secondary = if commits > 0 && rng.chance(30) {
        let other = key(&mut rng);
        Some((other, rng.below(commits)))
    } else {
        None
    };
    Some(Mention {
        primary,
        commit,
        secondary,
        style: rng.below(3),
    })
}

const VERBS: [&str; 10] = [
    "Fix", "Add", "Refactor", "Remove", "Document", "Migrate", "Speed up", "Harden", "Simplify",
    "Retry",
];
const OBJECTS: [&str; 12] = [
    "login timeout",
    "CSV export",
    "payment webhook retries",
    "search index rebuild",
    "onboarding email",
    "dark mode toggle",
    "rate limiter",
    "OAuth token refresh",
    "PDF invoice renderer",
    "flaky integration test",
    "connection pool sizing",
    "feature flag cleanup",
];
const QUALIFIERS: [&str; 6] = [
    "",
    "",
    " on Safari",
    " for EU customers",
    " in staging",
    " (again)",
];
const ODD_TITLES: [&str; 10] = [
    "🚀 Release checklist for 3.0",
    "数据库连接超时的修复",
    "إصلاح خطأ تسجيل الدخول عبر Google",
    "תיקון ייצוא CSV",
    "Ünïcödé normalisation turns ß into ss",
    "Emoji in titles 😅 break the exporter",
    "Tab\tseparated and \"quoted\" title with a \\ backslash",
    "日本語のタイトル: ログイン画面が真っ白になる",
    "<script>alert('xss')</script> in the name field",
    "Zero\u{200b}width space and e\u{301} combining accent",
];
const DEPENDENCIES: [&str; 8] = [
    "serde",
    "tokio",
    "axum",
    "lodash",
    "requests",
    "golang.org/x/net",
    "actions/checkout",
    "postcss",
];

/// Title and head branch of a pull request (Jira mentions included).
pub(crate) fn title_and_branch(
    spec: &GithubSpec,
    facts: &PrFacts,
    r: usize,
    k: usize,
) -> (String, String) {
    let mut rng = Rng::new(&[spec.seed, r as u64, k as u64, salt::TITLE]);
    let n = k + 1;
    let (title, slug) = if facts.author == DEPENDABOT {
        let dep = DEPENDENCIES[rng.below(DEPENDENCIES.len())];
        let (major, minor) = (rng.below(5), rng.below(30));
        let title = format!(
            "Bump {dep} from {major}.{minor}.0 to {major}.{}.0",
            minor + 1
        );
        let branch = format!(
            "dependabot/{}/{}-{major}.{}.0",
            ["cargo", "npm_and_yarn", "pip", "go_modules"][rng.below(4)],
            dep.replace(['/', '.'], "-"),
            minor + 1
        );
        (title, branch)
    } else if rng.chance(12) {
        let title = ODD_TITLES[rng.below(ODD_TITLES.len())].to_owned();
        (title, format!("misc-change-{n}"))
    } else {
        let verb = VERBS[rng.below(VERBS.len())];
        let object = OBJECTS[rng.below(OBJECTS.len())];
        let qualifier = QUALIFIERS[rng.below(QUALIFIERS.len())];
        let slug = format!("{verb}-{object}")
            .to_ascii_lowercase()
            .replace(' ', "-");
        (format!("{verb} {object}{qualifier}"), slug)
    };
    let title = if facts.draft && rng.chance(30) {
        format!("WIP: {title}")
    } else {
        title
    };
    match mention(spec, r, k) {
        Some(m) => {
            let key = m.primary.text(spec);
            let title = match m.style {
                0 => format!("{key}: {title}"),
                1 => format!("[{key}] {title}"),
                _ => format!("{title} ({key})"),
            };
            let slug = if facts.author == DEPENDABOT {
                format!("deps-{n}")
            } else {
                slug
            };
            (title, format!("feature/{key}-{slug}"))
        }
        None if facts.author == DEPENDABOT => (title, slug),
        None => {
            let prefix = ["feature", "fix", "chore"][rng.below(3)];
            (title, format!("{prefix}/{slug}-{n}"))
        }
    }
}

const BODY_PARAGRAPHS: [&str; 10] = [
    "This change makes the retry loop respect the server's `Retry-After` header.",
    "## Summary\r\n\r\n- moves the parser into its own module\r\n- adds tests for empty input\r\n\r\n## Testing\r\n\r\n- [x] unit tests\r\n- [ ] manual check in staging",
    "Closes #12. Le correctif gère aussi les caractères accentués (é, ç, ß).",
    "修复了在高并发下连接池耗尽的问题。",
    "| metric | before | after |\n|---|---|---|\n| p50 | 120 ms | 45 ms |\n| p99 | 2.1 s | 310 ms |",
    "```rust\nlet page = client.get(url).send().await?;\n```",
    "Screenshots: ![before](https://example.invalid/before.png) ![after](https://example.invalid/after.png)",
    "⚠️ Needs a migration: run `make migrate` after deploying.",
    "هذا التغيير يصلح مشكلة المهلة عند تسجيل الدخول.",
    "Co-authored with @ana-souza. Tabs\tand \"quotes\" and a \\ backslash survive.",
];

/// The body of a pull request: null (no description), empty, or a few paragraphs.
pub(crate) fn pr_body(spec: &GithubSpec, facts: &PrFacts, r: usize, k: usize) -> Option<String> {
    let mut rng = Rng::new(&[spec.seed, r as u64, k as u64, salt::BODY]);
    if facts.author == DEPENDABOT {
        return Some(
            "Bumps the dependency to the latest patch release.\n\n<details>\n<summary>Release notes</summary>\n\n- fixes a panic on empty input\n</details>\n\nDependabot will resolve any conflicts with this PR as long as you don't alter it yourself."
                .to_owned(),
        );
    }
    match rng.below(100) {
        0..15 => None,
        15..20 => Some(String::new()),
        roll => {
            let count = 1 + rng.below(3) + usize::from(roll >= 97) * 40;
            let parts: Vec<&str> = (0..count)
                .map(|_| BODY_PARAGRAPHS[rng.below(BODY_PARAGRAPHS.len())])
                .collect();
            Some(parts.join("\r\n\r\n"))
        }
    }
}

const COMMIT_SUBJECTS: [&str; 10] = [
    "Address review comments",
    "Fix typo",
    "Add tests",
    "Handle empty pages",
    "Bump version",
    "Make clippy happy",
    "Rename handler → endpoint",
    "Revert \"Temporary debug logging\"",
    "Prise en charge des caractères accentués",
    "修正: タイムアウト値",
];

/// The message of commit `i` of a pull request (mentions included).
pub(crate) fn commit_message(
    spec: &GithubSpec,
    title: &str,
    r: usize,
    k: usize,
    i: usize,
    rng: &mut Rng,
) -> String {
    let mut message = if i == 0 {
        // first commit: the change itself, titled like the PR minus any key mention
        title.to_owned()
    } else {
        COMMIT_SUBJECTS[rng.below(COMMIT_SUBJECTS.len())].to_owned()
    };
    // (the first commit repeats the title, so it may carry the primary key a second time)
    if let Some(m) = mention(spec, r, k) {
        if m.commit == i {
            message = format!("{} {message}", m.primary.text(spec));
        }
        if let Some((key, at)) = m.secondary
            && at == i
        {
            message.push_str("\n\nRefs ");
            message.push_str(&key.text(spec));
        }
    }
    if rng.chance(30) {
        message.push_str("\n\nLonger explanation of why this change is needed.\nIt wraps at seventy-two columns, like git wants.");
    }
    if rng.chance(10) {
        message.push_str(
            "\n\nCo-authored-by: Zoë Ångström <5120005+zoe-angstrom@users.noreply.github.com>",
        );
    }
    message
}

pub(crate) const REVIEW_BODIES: [&str; 8] = [
    "LGTM 👍",
    "Please add a test for the empty case.",
    "Nit: the name `do_stuff` could be clearer.",
    "この変更は良さそうです。",
    "Ça me va, mais vérifie la migration.",
    "Blocking: this breaks the public API.",
    "Looks good, one question inline.",
    "Tabs\tand \"quotes\" in a review body.",
];

pub(crate) const REVIEW_COMMENT_BODIES: [&str; 8] = [
    "Should this be `Option<String>`?",
    "typo: recieve → receive",
    "```suggestion\nlet timeout = Duration::from_secs(30);\n```",
    "Why not reuse the existing helper here?",
    "这里可能会有竞态条件。",
    "This allocates on every call; can we hoist it out of the loop?",
    "👀",
    "Ünïcödé in a file path breaks this on Windows.",
];

pub(crate) const ISSUE_COMMENT_BODIES: [&str; 9] = [
    "Thanks! Merging once CI is green.",
    "CI is flaky again 😩 re-running.",
    "/retest",
    "Could you rebase on `main`? There are conflicts in `Cargo.lock`.",
    "感谢你的贡献！",
    "Deployed to staging, looks fine.\r\n\r\n> quoted text from the description",
    "@robin-oconnor can you take a look?",
    "Closing in favour of a smaller PR.",
    "Benchmark: 1.8 ms → 0.6 ms per page ✅",
];

pub(crate) const BOT_COMMENT: &str = "## Coverage report\n\n| file | coverage |\n|---|---|\n| total | 87.3 % |\n\n✅ All checks passed.";

pub(crate) const PATHS: [&str; 8] = [
    "src/lib.rs",
    "src/http/client.rs",
    "services/api/handler.go",
    "web/src/App.tsx",
    "docs/README.md",
    "migrations/0007_add_index.sql",
    "données/schéma.json",
    "tests/integration_test.py",
];

pub(crate) const LABELS: [(&str, &str); 6] = [
    ("bug", "d73a4a"),
    ("enhancement", "a2eeef"),
    ("dependencies", "0366d6"),
    ("needs-review", "fbca04"),
    ("バグ", "e99695"),
    ("good first issue", "7057ff"),
];

/// The (repository, index) of the pull requests a bump with `seed` touches: the
/// round(fraction × all) ones (at least one for a positive fraction) that rank first by a
/// hash of (seed, repository, index).
pub(crate) fn bumped(spec: &GithubSpec, seed: u64, fraction: f64) -> Vec<(usize, usize)> {
    let total = spec.repos * spec.prs_per_repo;
    if fraction.is_nan() || fraction <= 0.0 || total == 0 {
        return Vec::new();
    }
    let count = ((fraction.min(1.0) * total as f64).round() as usize).clamp(1, total);
    let mut ranked: Vec<(u64, usize, usize)> = (0..spec.repos)
        .flat_map(|r| {
            (0..spec.prs_per_repo)
                .map(move |k| (hash(&[seed, r as u64, k as u64, salt::BUMP]), r, k))
        })
        .collect();
    ranked.sort_unstable();
    let mut chosen: Vec<(usize, usize)> = ranked[..count].iter().map(|&(_, r, k)| (r, k)).collect();
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> GithubSpec {
        GithubSpec {
            prs_per_repo: 400,
            mention_every: 4,
            ..GithubSpec::default()
        }
    }

    #[test]
    fn facts_are_consistent() {
        let spec = spec();
        let anchor = 1_767_225_600; // 2026-01-01
        let mut previous = i64::MIN;
        let (mut open, mut merged, mut draft, mut ghost) = (0, 0, 0, 0);
        for k in 0..spec.prs_per_repo {
            let f = pr_facts(&spec, anchor, 1, k);
            assert_eq!(f, pr_facts(&spec, anchor, 1, k));
            assert!(f.created > previous, "numbers grow with time");
            previous = f.created;
            assert!(f.created >= anchor - 366 * DAY && f.updated <= anchor);
            assert!(f.created < f.end && f.end <= f.updated);
            for child in [
                Child::Commit,
                Child::Review,
                Child::ReviewComment,
                Child::IssueComment,
            ] {
                for (c, u) in child_times(&spec, &f, 1, k, child) {
                    assert!(c <= u && u <= f.end);
                    if child != Child::Commit {
                        assert!(c >= f.created);
                    }
                }
            }
            open += usize::from(!f.closed);
            merged += usize::from(f.merged);
            draft += usize::from(f.draft);
            ghost += usize::from(f.author == GHOST);
            assert!(!f.draft || !f.closed);
            assert!(!f.merged || f.closed);
        }
        assert!(open > 0 && merged > 0 && draft > 0 && ghost > 0);
    }

    #[test]
    fn mentions_only_where_asked() {
        let spec = spec();
        let anchor = 1_767_225_600;
        for k in 0..40 {
            let f = pr_facts(&spec, anchor, 0, k);
            let (title, branch) = title_and_branch(&spec, &f, 0, k);
            match mention(&spec, 0, k) {
                Some(m) => {
                    assert_eq!((k + 1) % 4, 0);
                    let key = m.primary.text(&spec);
                    assert!(title.contains(&key), "{title}");
                    assert!(branch.starts_with(&format!("feature/{key}-")), "{branch}");
                }
                None => {
                    assert!(!title.contains("ENG-") && !title.contains("OPS-"));
                    assert!(!branch.contains("ENG-") && !branch.contains("OPS-"));
                }
            }
        }
        assert_eq!(sha(&[1, 2]).len(), 40);
        assert_ne!(sha(&[1, 2]), sha(&[2, 1]));
        assert!(time_id(ID_EPOCH + 2, 0) > time_id(ID_EPOCH + 1, 999_999));
    }
}
