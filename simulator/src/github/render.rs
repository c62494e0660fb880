//! JSON of generated objects, shaped like GitHub's (the recorded PyGithub payloads are the
//! templates). Users, the organisation and repositories are rendered once per root and
//! spliced into every pull request; the rest is written on request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::dataset::{Data, GenRepo, Generated};
use super::generate::{
    ACTIONS_BOT, BOT_COMMENT, Child, DEPENDABOT, GHOST, HUMANS, ISSUE_COMMENT_BODIES, Kind, LABELS,
    PATHS, PEOPLE, Person, PrFacts, REVIEW_BODIES, REVIEW_COMMENT_BODIES, UNLINKED, child_ordinal,
    child_times, commit_message, human, pr_body, pr_ordinal, salt, sha, time_id, title_and_branch,
};
use super::json::Json;
use super::state::{Bumps, Edit, Extra};
use crate::rng::Rng;

const REPO_TEMPLATE: &str = include_str!("../../fixtures/github/repos-repo.json");

/// Fields of the single-repository form that listings leave out.
const FULL_ONLY: [&str; 15] = [
    "temp_clone_token",
    "allow_squash_merge",
    "allow_merge_commit",
    "allow_rebase_merge",
    "allow_auto_merge",
    "delete_branch_on_merge",
    "allow_update_branch",
    "use_squash_pr_title_as_default",
    "squash_merge_commit_message",
    "squash_merge_commit_title",
    "merge_commit_message",
    "merge_commit_title",
    "organization",
    "network_count",
    "subscribers_count",
];

/// Where generated objects point and what they share, for one way of addressing the API.
pub(crate) struct Root {
    /// API root in `url` fields: the simulator's base URL, plus /api/v3 for Enterprise.
    pub(crate) api: String,
    /// Web root in `html_url` fields.
    pub(crate) html: String,
    /// Simple-user JSON of each of `PEOPLE`.
    pub(crate) users: Vec<String>,
    pub(crate) org: String,
    /// GET /repos/{owner}/{repo} form.
    pub(crate) repo_full: Vec<String>,
    /// GET /orgs/{org}/repos form.
    pub(crate) repo_listed: Vec<String>,
    /// As embedded in pull requests' head and base.
    pub(crate) repo_embedded: Vec<String>,
}

impl Root {
    pub(crate) fn new(data: &Data, api: String, html: String) -> Root {
        let mut root = Root {
            api,
            html,
            users: Vec::new(),
            org: String::new(),
            repo_full: Vec::new(),
            repo_listed: Vec::new(),
            repo_embedded: Vec::new(),
        };
        let Data::Generated(g) = data else {
            return root;
        };
        root.users = PEOPLE.iter().map(|p| root.person(p)).collect();
        root.org = root.account(&g.spec.org, g.org_id, "Organization");
        let org: Value = serde_json::from_str(&root.org).unwrap_or(Value::Null);
        for repo in &g.repos {
            let mut value = root.repo_value(g, repo, &org);
            root.repo_full.push(value.to_string());
            if let Some(object) = value.as_object_mut() {
                for key in FULL_ONLY {
                    object.remove(key);
                }
            }
            root.repo_listed.push(value.to_string());
            if let Some(object) = value.as_object_mut() {
                object.remove("permissions");
            }
            root.repo_embedded.push(value.to_string());
        }
        root
    }

    fn person(&self, p: &Person) -> String {
        let kind = match p.kind {
            Kind::User => "User",
            Kind::Bot => "Bot",
        };
        self.account(p.login, p.id, kind)
    }

    /// A simple-user object.
    fn account(&self, login: &str, id: u64, kind: &str) -> String {
        let (api, html) = (&self.api, &self.html);
        let mut j = Json::with_capacity(1200);
        j.obj(|j| {
            j.s("login", login);
            j.u("id", id);
            j.s(
                "node_id",
                &node_id(if kind == "User" { "U" } else { "O" }, id),
            );
            j.f(
                "avatar_url",
                format_args!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            );
            j.s("gravatar_id", "");
            j.f("url", format_args!("{api}/users/{login}"));
            match login.strip_suffix("[bot]") {
                Some(app) => j.f("html_url", format_args!("{html}/apps/{app}")),
                None => j.f("html_url", format_args!("{html}/{login}")),
            }
            j.f(
                "followers_url",
                format_args!("{api}/users/{login}/followers"),
            );
            j.f(
                "following_url",
                format_args!("{api}/users/{login}/following{{/other_user}}"),
            );
            j.f(
                "gists_url",
                format_args!("{api}/users/{login}/gists{{/gist_id}}"),
            );
            j.f(
                "starred_url",
                format_args!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
            );
            j.f(
                "subscriptions_url",
                format_args!("{api}/users/{login}/subscriptions"),
            );
            j.f(
                "organizations_url",
                format_args!("{api}/users/{login}/orgs"),
            );
            j.f("repos_url", format_args!("{api}/users/{login}/repos"));
            j.f(
                "events_url",
                format_args!("{api}/users/{login}/events{{/privacy}}"),
            );
            j.f(
                "received_events_url",
                format_args!("{api}/users/{login}/received_events"),
            );
            j.s("type", kind);
            j.s("user_view_type", "public");
            j.b("site_admin", false);
        });
        j.into_string()
    }

    /// The recorded PyGithub repository with this repository's names, URLs and numbers.
    fn repo_value(&self, g: &Generated, repo: &GenRepo, org: &Value) -> Value {
        let full = &repo.full_name;
        let (api, html) = (&self.api, &self.html);
        let host = html
            .split_once("://")
            .map_or(html.as_str(), |(_, host)| host);
        let text = REPO_TEMPLATE
            .replace(
                "https://api.github.com/repos/PyGithub/PyGithub",
                &format!("{api}/repos/{full}"),
            )
            .replace(
                "https://github.com/PyGithub/PyGithub",
                &format!("{html}/{full}"),
            )
            .replace(
                "git://github.com/PyGithub/PyGithub.git",
                &format!("git://{host}/{full}.git"),
            )
            .replace(
                "git@github.com:PyGithub/PyGithub.git",
                &format!("git@{host}:{full}.git"),
            )
            .replace("https://api.github.com", api);
        let mut value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let Some(object) = value.as_object_mut() else {
            return value;
        };
        let time = |t: i64| Value::String(super::json::timestamp(t));
        let fields = [
            ("id", json!(repo.id)),
            ("node_id", json!(node_id("R", repo.id))),
            ("name", json!(repo.name)),
            ("full_name", json!(full)),
            ("owner", org.clone()),
            ("description", json!(repo.description)),
            ("created_at", time(repo.created)),
            ("updated_at", time(repo.pushed)),
            ("pushed_at", time(repo.pushed)),
            ("homepage", Value::Null),
            ("size", json!(repo.size)),
            ("stargazers_count", json!(repo.stars)),
            ("watchers_count", json!(repo.stars)),
            ("watchers", json!(repo.stars)),
            ("language", json!(repo.language)),
            ("has_discussions", json!(false)),
            ("forks_count", json!(repo.forks)),
            ("forks", json!(repo.forks)),
            ("network_count", json!(repo.forks)),
            ("open_issues_count", json!(repo.open_prs)),
            ("open_issues", json!(repo.open_prs)),
            ("subscribers_count", json!(3 + repo.stars / 20)),
            ("topics", json!(["sluice", g.spec.org.to_ascii_lowercase()])),
            ("default_branch", json!("main")),
            ("organization", org.clone()),
            (
                "license",
                json!({"key": "mit", "name": "MIT License", "spdx_id": "MIT",
                       "url": format!("{api}/licenses/mit"), "node_id": "MDc6TGljZW5zZTEz"}),
            ),
        ];
        for (key, field) in fields {
            object.insert(key.to_owned(), field);
        }
        value
    }
}

/// A GraphQL-style global node id.
pub(crate) fn node_id(prefix: &str, id: u64) -> String {
    format!(
        "{prefix}_kwDO{}",
        STANDARD.encode(id.to_be_bytes()).trim_end_matches('=')
    )
}

/// Everything about one generated pull request that its renderings share.
pub(crate) struct PrView<'a> {
    pub(crate) g: &'a Generated,
    pub(crate) root: &'a Root,
    pub(crate) r: usize,
    pub(crate) k: usize,
    pub(crate) facts: &'a PrFacts,
    pub(crate) full: &'a str,
}

impl<'a> PrView<'a> {
    pub(crate) fn new(g: &'a Generated, root: &'a Root, r: usize, k: usize) -> PrView<'a> {
        PrView {
            g,
            root,
            r,
            k,
            facts: &g.prs[r][k],
            full: &g.repos[r].full_name,
        }
    }

    fn number(&self) -> usize {
        self.k + 1
    }

    fn seed(&self) -> u64 {
        self.g.spec.seed
    }

    fn rng(&self, salt: u64, i: usize) -> Rng {
        Rng::new(&[self.seed(), self.r as u64, self.k as u64, salt, i as u64])
    }

    fn id(&self) -> u64 {
        time_id(self.facts.created, pr_ordinal(&self.g.spec, self.r, self.k))
    }

    fn commit_sha(&self, i: usize) -> String {
        sha(&[
            self.seed(),
            self.r as u64,
            self.k as u64,
            salt::SHA_COMMIT,
            i as u64,
        ])
    }

    fn base_sha(&self) -> String {
        sha(&[self.seed(), self.r as u64, self.k as u64, salt::SHA_BASE])
    }

    fn head_sha(&self) -> String {
        match self.g.spec.commits_per_pr {
            0 => sha(&[self.seed(), self.r as u64, self.k as u64, salt::SHA_HEAD]),
            n => self.commit_sha(n - 1),
        }
    }

    fn user(&self, j: &mut Json, key: &str, person: u8) {
        j.r(key, &self.root.users[usize::from(person)]);
    }

    fn association(person: u8) -> &'static str {
        match person {
            GHOST => "NONE",
            DEPENDABOT | ACTIONS_BOT => "CONTRIBUTOR",
            _ => "MEMBER",
        }
    }

    /// A pull request, in the list form or (`single`) the GET pulls/{number} form.
    pub(crate) fn pull(&self, j: &mut Json, single: bool, bumps: &Bumps) {
        let (api, html, full, n) = (&self.root.api, &self.root.html, self.full, self.number());
        let f = self.facts;
        let (title, branch) = title_and_branch(&self.g.spec, f, self.r, self.k);
        let body = pr_body(&self.g.spec, f, self.r, self.k);
        let mut rng = self.rng(salt::PR_EXTRA, 0);
        let id = self.id();
        let head_sha = self.head_sha();
        let assignee = rng.chance(40).then(|| human(&mut rng));
        let reviewer = (!f.closed && rng.chance(50)).then(|| human(&mut rng));
        let label_count = rng.below(3);
        let labels: Vec<usize> = (0..label_count).map(|_| rng.below(LABELS.len())).collect();
        let org = &self.g.spec.org;
        // URL prefixes, so the many URL fields are concatenations rather than formats
        let repo_api = format!("{api}/repos/{full}");
        let pr_api = format!("{repo_api}/pulls/{n}");
        let issue_api = format!("{repo_api}/issues/{n}");
        let pr_html = format!("{html}/{full}/pull/{n}");
        let statuses = format!("{repo_api}/statuses/{head_sha}");
        j.obj(|j| {
            j.s("url", &pr_api);
            j.u("id", id);
            j.s("node_id", &node_id("PR", id));
            j.s("html_url", &pr_html);
            j.cat("diff_url", &[&pr_html, ".diff"]);
            j.cat("patch_url", &[&pr_html, ".patch"]);
            j.s("issue_url", &issue_api);
            j.u("number", n as u64);
            j.s("state", if f.closed { "closed" } else { "open" });
            j.b("locked", false);
            j.s("title", &title);
            self.user(j, "user", f.author);
            j.opt_s("body", body.as_deref());
            j.t("created_at", f.created);
            j.t("updated_at", bumps.pr_updated(self.r, self.k, f.updated));
            j.opt_t("closed_at", f.closed_at());
            j.opt_t("merged_at", f.merged_at());
            j.s(
                "merge_commit_sha",
                &sha(&[self.seed(), self.r as u64, self.k as u64, salt::SHA_MERGE]),
            );
            match assignee {
                Some(a) => self.user(j, "assignee", a),
                None => j.n("assignee"),
            }
            j.a("assignees", |j| {
                if let Some(a) = assignee {
                    j.raw(&self.root.users[usize::from(a)]);
                }
            });
            j.a("requested_reviewers", |j| {
                if let Some(a) = reviewer {
                    j.raw(&self.root.users[usize::from(a)]);
                }
            });
            j.a("requested_teams", |_| {});
            j.a("labels", |j| {
                for &l in &labels {
                    let (name, color) = LABELS[l];
                    let label_id = 4_000_000_000 + self.r as u64 * 100 + l as u64;
                    j.obj(|j| {
                        j.u("id", label_id);
                        j.s("node_id", &node_id("LA", label_id));
                        j.cat("url", &[&repo_api, "/labels/", name]);
                        j.s("name", name);
                        j.s("color", color);
                        j.b("default", l < 2);
                        j.n("description");
                    });
                }
            });
            j.n("milestone");
            j.b("draft", f.draft);
            j.cat("commits_url", &[&pr_api, "/commits"]);
            j.cat("review_comments_url", &[&pr_api, "/comments"]);
            j.cat(
                "review_comment_url",
                &[&repo_api, "/pulls/comments{/number}"],
            );
            j.cat("comments_url", &[&issue_api, "/comments"]);
            j.s("statuses_url", &statuses);
            j.o("head", |j| {
                j.cat("label", &[org, ":", &branch]);
                j.s("ref", &branch);
                j.s("sha", &head_sha);
                j.r("user", &self.root.org);
                j.r("repo", &self.root.repo_embedded[self.r]);
            });
            j.o("base", |j| {
                j.cat("label", &[org, ":main"]);
                j.s("ref", "main");
                j.s("sha", &self.base_sha());
                j.r("user", &self.root.org);
                j.r("repo", &self.root.repo_embedded[self.r]);
            });
            j.o("_links", |j| {
                let link = |j: &mut Json, key: &str, parts: &[&str]| {
                    j.o(key, |j| j.cat("href", parts));
                };
                link(j, "self", &[&pr_api]);
                link(j, "html", &[&pr_html]);
                link(j, "issue", &[&issue_api]);
                link(j, "comments", &[&issue_api, "/comments"]);
                link(j, "review_comments", &[&pr_api, "/comments"]);
                link(
                    j,
                    "review_comment",
                    &[&repo_api, "/pulls/comments{/number}"],
                );
                link(j, "commits", &[&pr_api, "/commits"]);
                link(j, "statuses", &[&statuses]);
            });
            j.s("author_association", Self::association(f.author));
            j.n("auto_merge");
            j.n("active_lock_reason");
            if single {
                let spec = &self.g.spec;
                j.b("merged", f.merged);
                if f.closed {
                    j.n("mergeable");
                    j.n("rebaseable");
                    j.s("mergeable_state", "unknown");
                } else {
                    let clean = rng.chance(80);
                    j.b("mergeable", clean);
                    j.b("rebaseable", clean);
                    j.s(
                        "mergeable_state",
                        match (clean, f.draft) {
                            (_, true) => "draft",
                            (true, false) => "clean",
                            (false, false) => "dirty",
                        },
                    );
                }
                if f.merged {
                    let merger = reviewer.or(assignee).unwrap_or_else(|| human(&mut rng));
                    self.user(j, "merged_by", merger);
                } else {
                    j.n("merged_by");
                }
                let extras = bumps.pr_extras(self.r, self.k).len();
                j.u("comments", (spec.issue_comments_per_pr + extras) as u64);
                j.u("review_comments", spec.review_comments_per_pr as u64);
                j.b("maintainer_can_modify", false);
                j.u("commits", spec.commits_per_pr as u64);
                j.u("additions", rng.between(1, 2_000) as u64);
                j.u("deletions", rng.between(0, 800) as u64);
                j.u("changed_files", rng.between(1, 60) as u64);
            }
        });
    }

    /// Commit `i` of the pull request, in the pulls/{number}/commits form.
    pub(crate) fn commit(&self, j: &mut Json, i: usize, times: &[(i64, i64)]) {
        let (api, html, full) = (&self.root.api, &self.root.html, self.full);
        let mut rng = self.rng(Child::Commit.detail_salt(), i);
        let (title, _) = title_and_branch(&self.g.spec, self.facts, self.r, self.k);
        let message = commit_message(&self.g.spec, &title, self.r, self.k, i, &mut rng);
        let at = times.get(i).map_or(self.facts.created, |t| t.0);
        let author = self.facts.author;
        // deleted accounts and unlinked e-mail addresses leave `author` null
        let linked = if author == GHOST || rng.chance(10) {
            None
        } else if author != DEPENDABOT && rng.chance(20) {
            Some(human(&mut rng))
        } else {
            Some(author)
        };
        let (name, email) = match linked {
            Some(p) => (PEOPLE[usize::from(p)].name, PEOPLE[usize::from(p)].email),
            None => UNLINKED[rng.below(UNLINKED.len())],
        };
        let sha = self.commit_sha(i);
        let parent = if i == 0 {
            self.base_sha()
        } else {
            self.commit_sha(i - 1)
        };
        let tree = sha_for(self, salt::SHA_TREE, i);
        j.obj(|j| {
            j.s("sha", &sha);
            j.s("node_id", &format!("C_kwDO{}", &sha[..20]));
            j.o("commit", |j| {
                let identity = |j: &mut Json, key: &str| {
                    j.o(key, |j| {
                        j.s("name", name);
                        j.s("email", email);
                        j.t("date", at);
                    });
                };
                identity(j, "author");
                identity(j, "committer");
                j.s("message", &message);
                j.o("tree", |j| {
                    j.s("sha", &tree);
                    j.f("url", format_args!("{api}/repos/{full}/git/trees/{tree}"));
                });
                j.f("url", format_args!("{api}/repos/{full}/git/commits/{sha}"));
                j.u("comment_count", 0);
                j.o("verification", |j| {
                    j.b("verified", false);
                    j.s("reason", "unsigned");
                    j.n("signature");
                    j.n("payload");
                    j.n("verified_at");
                });
            });
            j.f("url", format_args!("{api}/repos/{full}/commits/{sha}"));
            j.f("html_url", format_args!("{html}/{full}/commit/{sha}"));
            j.f(
                "comments_url",
                format_args!("{api}/repos/{full}/commits/{sha}/comments"),
            );
            match linked {
                Some(p) => {
                    self.user(j, "author", p);
                    self.user(j, "committer", p);
                }
                None => {
                    j.n("author");
                    j.n("committer");
                }
            }
            j.a("parents", |j| {
                j.obj(|j| {
                    j.s("sha", &parent);
                    j.f("url", format_args!("{api}/repos/{full}/commits/{parent}"));
                    j.f("html_url", format_args!("{html}/{full}/commit/{parent}"));
                });
            });
        });
    }

    pub(crate) fn review_id(&self, i: usize, times: &[(i64, i64)]) -> u64 {
        let at = times.get(i).map_or(self.facts.created, |t| t.0);
        time_id(
            at,
            child_ordinal(&self.g.spec, Child::Review, self.r, self.k, i),
        )
    }

    /// Review `i`, in the pulls/{number}/reviews form.
    pub(crate) fn review(&self, j: &mut Json, i: usize, times: &[(i64, i64)]) {
        let (api, html, full, n) = (&self.root.api, &self.root.html, self.full, self.number());
        let mut rng = self.rng(Child::Review.detail_salt(), i);
        let id = self.review_id(i, times);
        let at = times.get(i).map_or(self.facts.created, |t| t.0);
        let reviewer = if rng.chance(3) {
            GHOST
        } else {
            human(&mut rng)
        };
        let last = i + 1 == times.len();
        let state = if last && self.facts.merged {
            "APPROVED"
        } else {
            ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "COMMENTED"][rng.below(4)]
        };
        let body = match state {
            "APPROVED" if rng.chance(60) => "",
            _ => REVIEW_BODIES[rng.below(REVIEW_BODIES.len())],
        };
        let head = self.head_sha();
        j.obj(|j| {
            j.u("id", id);
            j.s("node_id", &node_id("PRR", id));
            self.user(j, "user", reviewer);
            j.s("body", body);
            j.s("state", state);
            j.f(
                "html_url",
                format_args!("{html}/{full}/pull/{n}#pullrequestreview-{id}"),
            );
            j.f(
                "pull_request_url",
                format_args!("{api}/repos/{full}/pulls/{n}"),
            );
            j.s("author_association", Self::association(reviewer));
            j.o("_links", |j| {
                j.o("html", |j| {
                    j.f(
                        "href",
                        format_args!("{html}/{full}/pull/{n}#pullrequestreview-{id}"),
                    );
                });
                j.o("pull_request", |j| {
                    j.f("href", format_args!("{api}/repos/{full}/pulls/{n}"));
                });
            });
            j.t("submitted_at", at);
            j.s("commit_id", &head);
        });
    }

    /// Review comment `i`, in the pulls/comments form, after its `edit` if any.
    pub(crate) fn review_comment(
        &self,
        j: &mut Json,
        i: usize,
        times: &[(i64, i64)],
        edit: Option<Edit>,
    ) {
        let (api, html, full, n) = (&self.root.api, &self.root.html, self.full, self.number());
        let spec = &self.g.spec;
        let mut rng = self.rng(Child::ReviewComment.detail_salt(), i);
        let (created, updated) = times
            .get(i)
            .copied()
            .unwrap_or((self.facts.created, self.facts.created));
        let ordinal = |i: usize| child_ordinal(spec, Child::ReviewComment, self.r, self.k, i);
        let id = time_id(created, ordinal(i));
        let reply_to = (i > 0 && rng.chance(30)).then(|| time_id(times[0].0, ordinal(0)));
        let review = (spec.reviews_per_pr > 0).then(|| {
            let review_times = child_times(spec, self.facts, self.r, self.k, Child::Review);
            self.review_id(i % spec.reviews_per_pr, &review_times)
        });
        let author = if rng.chance(3) {
            GHOST
        } else {
            human(&mut rng)
        };
        let path = PATHS[rng.below(PATHS.len())];
        let line = rng.between(1, 400);
        let body = REVIEW_COMMENT_BODIES[rng.below(REVIEW_COMMENT_BODIES.len())];
        let edited = edit.map(|e| e.body(body));
        let body = edited.as_deref().unwrap_or(body);
        let updated = edit.map_or(updated, |e| e.at);
        let head = self.head_sha();
        let original = self.commit_sha(0);
        j.obj(|j| {
            j.f(
                "url",
                format_args!("{api}/repos/{full}/pulls/comments/{id}"),
            );
            match review {
                Some(r) => j.u("pull_request_review_id", r),
                None => j.n("pull_request_review_id"),
            }
            j.u("id", id);
            j.s("node_id", &node_id("PRRC", id));
            j.f(
                "diff_hunk",
                format_args!("@@ -{line},7 +{line},8 @@\n context line\n-old line\n+new line"),
            );
            j.s("path", path);
            j.s("commit_id", &head);
            j.s("original_commit_id", &original);
            self.user(j, "user", author);
            j.s("body", body);
            j.t("created_at", created);
            j.t("updated_at", updated);
            j.f(
                "html_url",
                format_args!("{html}/{full}/pull/{n}#discussion_r{id}"),
            );
            j.f(
                "pull_request_url",
                format_args!("{api}/repos/{full}/pulls/{n}"),
            );
            j.s("author_association", Self::association(author));
            j.o("_links", |j| {
                j.o("self", |j| {
                    j.f(
                        "href",
                        format_args!("{api}/repos/{full}/pulls/comments/{id}"),
                    );
                });
                j.o("html", |j| {
                    j.f(
                        "href",
                        format_args!("{html}/{full}/pull/{n}#discussion_r{id}"),
                    );
                });
                j.o("pull_request", |j| {
                    j.f("href", format_args!("{api}/repos/{full}/pulls/{n}"));
                });
            });
            reactions(
                j,
                format_args!("{api}/repos/{full}/pulls/comments/{id}/reactions"),
            );
            j.n("start_line");
            j.n("original_start_line");
            j.n("start_side");
            j.i("line", line);
            j.i("original_line", line);
            j.s("side", "RIGHT");
            if let Some(parent) = reply_to {
                j.u("in_reply_to_id", parent);
            }
            j.i("original_position", line % 7 + 1);
            j.i("position", line % 7 + 1);
            j.s("subject_type", "line");
        });
    }

    /// Issue comment `i`, in the issues/comments form, after its `edit` if any.
    pub(crate) fn issue_comment(
        &self,
        j: &mut Json,
        i: usize,
        times: &[(i64, i64)],
        edit: Option<Edit>,
    ) {
        let mut rng = self.rng(Child::IssueComment.detail_salt(), i);
        let (created, updated) = times
            .get(i)
            .copied()
            .unwrap_or((self.facts.created, self.facts.created));
        let id = time_id(
            created,
            child_ordinal(&self.g.spec, Child::IssueComment, self.r, self.k, i),
        );
        let (author, body) = match rng.below(100) {
            0..6 => (ACTIONS_BOT, BOT_COMMENT),
            6..9 => (
                GHOST,
                ISSUE_COMMENT_BODIES[rng.below(ISSUE_COMMENT_BODIES.len())],
            ),
            _ => (
                rng.below(HUMANS) as u8,
                ISSUE_COMMENT_BODIES[rng.below(ISSUE_COMMENT_BODIES.len())],
            ),
        };
        match edit {
            Some(e) => self.write_issue_comment(j, id, author, &e.body(body), created, e.at),
            None => self.write_issue_comment(j, id, author, body, created, updated),
        }
    }

    /// A comment added by `bump_updated` (after any `edit_comments`).
    pub(crate) fn extra_comment(&self, j: &mut Json, extra: &Extra) {
        let body = ISSUE_COMMENT_BODIES[extra.body % ISSUE_COMMENT_BODIES.len()];
        let edited = extra.edit.map(|e| e.body(body));
        let body = edited.as_deref().unwrap_or(body);
        self.write_issue_comment(j, extra.id, extra.user, body, extra.at, extra.updated());
    }

    fn write_issue_comment(
        &self,
        j: &mut Json,
        id: u64,
        author: u8,
        body: &str,
        created: i64,
        updated: i64,
    ) {
        let (api, html, full, n) = (&self.root.api, &self.root.html, self.full, self.number());
        j.obj(|j| {
            j.f(
                "url",
                format_args!("{api}/repos/{full}/issues/comments/{id}"),
            );
            j.f(
                "html_url",
                format_args!("{html}/{full}/pull/{n}#issuecomment-{id}"),
            );
            j.f("issue_url", format_args!("{api}/repos/{full}/issues/{n}"));
            j.u("id", id);
            j.s("node_id", &node_id("IC", id));
            self.user(j, "user", author);
            j.t("created_at", created);
            j.t("updated_at", updated);
            j.s("author_association", Self::association(author));
            j.s("body", body);
            reactions(
                j,
                format_args!("{api}/repos/{full}/issues/comments/{id}/reactions"),
            );
            j.n("performed_via_github_app");
        });
    }
}

fn sha_for(view: &PrView<'_>, salt: u64, i: usize) -> String {
    sha(&[view.seed(), view.r as u64, view.k as u64, salt, i as u64])
}

fn reactions(j: &mut Json, url: std::fmt::Arguments<'_>) {
    j.o("reactions", |j| {
        j.f("url", url);
        j.u("total_count", 0);
        for key in [
            "+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes",
        ] {
            j.u(key, 0);
        }
    });
}
