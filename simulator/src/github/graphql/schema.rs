//! The part of GitHub's GraphQL schema the simulator serves: names, types, nullability and
//! arguments as in GitHub's schema, except that `additions`, `deletions` and `changedFiles`
//! may be null (the recorded list-form pull requests lack them).

/// An argument's or input field's type: a named type, maybe a list of non-null items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TypeRef {
    pub(crate) name: &'static str,
    pub(crate) list: bool,
    pub(crate) non_null: bool,
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.list {
            true => write!(f, "[{}!]", self.name)?,
            false => f.write_str(self.name)?,
        }
        if self.non_null {
            f.write_str("!")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Arg {
    pub(crate) name: &'static str,
    pub(crate) ty: TypeRef,
}

#[derive(Debug)]
pub(crate) struct FieldDef {
    pub(crate) name: &'static str,
    /// The named type it returns (a list of it for `nodes` and `edges`).
    pub(crate) ty: &'static str,
    pub(crate) non_null: bool,
    pub(crate) args: &'static [Arg],
}

impl FieldDef {
    /// A connection: paginated with `first`/`last`, priced and counted in nodes.
    pub(crate) fn connection(&self) -> bool {
        self.ty.ends_with("Connection")
    }
}

const fn ty(name: &'static str, non_null: bool) -> TypeRef {
    TypeRef {
        name,
        list: false,
        non_null,
    }
}

const fn arg(name: &'static str, ty: TypeRef) -> Arg {
    Arg { name, ty }
}

/// A field returning `ty`, non-null when `non_null`.
const fn field(name: &'static str, ty: &'static str, non_null: bool) -> FieldDef {
    FieldDef {
        name,
        ty,
        non_null,
        args: &[],
    }
}

const fn with_args(
    name: &'static str,
    ty: &'static str,
    non_null: bool,
    args: &'static [Arg],
) -> FieldDef {
    FieldDef {
        name,
        ty,
        non_null,
        args,
    }
}

const PAGING: [Arg; 4] = [
    arg("first", ty("Int", false)),
    arg("after", ty("String", false)),
    arg("last", ty("Int", false)),
    arg("before", ty("String", false)),
];

const CONNECTION_ARGS: &[Arg] = &PAGING;

const PULL_REQUESTS_ARGS: &[Arg] = &[
    PAGING[0],
    PAGING[1],
    PAGING[2],
    PAGING[3],
    arg(
        "states",
        TypeRef {
            name: "PullRequestState",
            list: true,
            non_null: false,
        },
    ),
    arg("orderBy", ty("IssueOrder", false)),
];

const QUERY: &[FieldDef] = &[
    field("rateLimit", "RateLimit", false),
    with_args(
        "repository",
        "Repository",
        false,
        &[
            arg("owner", ty("String", true)),
            arg("name", ty("String", true)),
            arg("followRenames", ty("Boolean", false)),
        ],
    ),
    field("viewer", "User", true),
];

const RATE_LIMIT: &[FieldDef] = &[
    field("cost", "Int", true),
    field("limit", "Int", true),
    field("nodeCount", "Int", true),
    field("remaining", "Int", true),
    field("resetAt", "DateTime", true),
    field("used", "Int", true),
];

const REPOSITORY: &[FieldDef] = &[
    field("id", "ID", true),
    field("databaseId", "Int", false),
    field("name", "String", true),
    field("nameWithOwner", "String", true),
    field("url", "URI", true),
    with_args(
        "pullRequests",
        "PullRequestConnection",
        true,
        PULL_REQUESTS_ARGS,
    ),
    with_args(
        "pullRequest",
        "PullRequest",
        false,
        &[arg("number", ty("Int", true))],
    ),
];

const PAGE_INFO: &[FieldDef] = &[
    field("hasNextPage", "Boolean", true),
    field("hasPreviousPage", "Boolean", true),
    field("startCursor", "String", false),
    field("endCursor", "String", false),
];

const PULL_REQUEST: &[FieldDef] = &[
    field("id", "ID", true),
    field("databaseId", "Int", false),
    field("number", "Int", true),
    field("title", "String", true),
    field("body", "String", true),
    field("state", "PullRequestState", true),
    field("isDraft", "Boolean", true),
    field("merged", "Boolean", true),
    field("closed", "Boolean", true),
    field("author", "Actor", false),
    field("baseRefName", "String", true),
    field("headRefName", "String", true),
    field("headRefOid", "GitObjectID", true),
    field("createdAt", "DateTime", true),
    field("updatedAt", "DateTime", true),
    field("mergedAt", "DateTime", false),
    field("closedAt", "DateTime", false),
    field("additions", "Int", false),
    field("deletions", "Int", false),
    field("changedFiles", "Int", false),
    field("mergedBy", "Actor", false),
    field("url", "URI", true),
    with_args(
        "commits",
        "PullRequestCommitConnection",
        true,
        CONNECTION_ARGS,
    ),
    with_args(
        "reviews",
        "PullRequestReviewConnection",
        false,
        CONNECTION_ARGS,
    ),
    with_args("comments", "IssueCommentConnection", true, CONNECTION_ARGS),
];

/// Fields of every account type (and of the Actor interface, but `id` and `databaseId`).
const ACCOUNT: &[FieldDef] = &[
    field("login", "String", true),
    field("url", "URI", true),
    field("avatarUrl", "URI", true),
    field("databaseId", "Int", false),
    field("id", "ID", true),
    field("name", "String", false),
];

const ACTOR: &[FieldDef] = &[
    field("login", "String", true),
    field("url", "URI", true),
    field("avatarUrl", "URI", true),
];

const PULL_REQUEST_COMMIT: &[FieldDef] = &[field("commit", "Commit", true)];

const COMMIT: &[FieldDef] = &[
    field("oid", "GitObjectID", true),
    field("message", "String", true),
    field("url", "URI", true),
    field("author", "GitActor", false),
    field("committer", "GitActor", false),
];

const GIT_ACTOR: &[FieldDef] = &[
    field("name", "String", false),
    field("email", "String", false),
    field("date", "GitTimestamp", false),
    field("user", "User", false),
];

const REVIEW: &[FieldDef] = &[
    field("id", "ID", true),
    field("databaseId", "Int", false),
    field("author", "Actor", false),
    field("state", "PullRequestReviewState", true),
    field("body", "String", true),
    field("submittedAt", "DateTime", false),
    field("commit", "Commit", false),
    field("url", "URI", true),
];

const ISSUE_COMMENT: &[FieldDef] = &[
    field("id", "ID", true),
    field("databaseId", "Int", false),
    field("author", "Actor", false),
    field("body", "String", true),
    field("createdAt", "DateTime", true),
    field("updatedAt", "DateTime", true),
    field("url", "URI", true),
];

/// The connection and edge types: (connection, edge, node).
const CONNECTIONS: [(&str, &str, &str); 4] = [
    ("PullRequestConnection", "PullRequestEdge", "PullRequest"),
    (
        "PullRequestCommitConnection",
        "PullRequestCommitEdge",
        "PullRequestCommit",
    ),
    (
        "PullRequestReviewConnection",
        "PullRequestReviewEdge",
        "PullRequestReview",
    ),
    ("IssueCommentConnection", "IssueCommentEdge", "IssueComment"),
];

macro_rules! connection {
    ($name:ident, $edge_name:ident, $node:literal, $edge:literal) => {
        const $name: &[FieldDef] = &[
            field("totalCount", "Int", true),
            field("pageInfo", "PageInfo", true),
            field("nodes", $node, false),
            field("edges", $edge, false),
        ];
        const $edge_name: &[FieldDef] =
            &[field("cursor", "String", true), field("node", $node, false)];
    };
}

connection!(PR_CONNECTION, PR_EDGE, "PullRequest", "PullRequestEdge");
connection!(
    COMMIT_CONNECTION,
    COMMIT_EDGE,
    "PullRequestCommit",
    "PullRequestCommitEdge"
);
connection!(
    REVIEW_CONNECTION,
    REVIEW_EDGE,
    "PullRequestReview",
    "PullRequestReviewEdge"
);
connection!(
    COMMENT_CONNECTION,
    COMMENT_EDGE,
    "IssueComment",
    "IssueCommentEdge"
);

/// The fields of an object or interface type; None for anything else.
pub(crate) fn fields(type_name: &str) -> Option<&'static [FieldDef]> {
    Some(match type_name {
        "Query" => QUERY,
        "Mutation" | "Subscription" => &[],
        "RateLimit" => RATE_LIMIT,
        "Repository" => REPOSITORY,
        "PageInfo" => PAGE_INFO,
        "PullRequest" => PULL_REQUEST,
        "Actor" => ACTOR,
        "User" | "Bot" | "Organization" | "Mannequin" => ACCOUNT,
        "PullRequestCommit" => PULL_REQUEST_COMMIT,
        "Commit" => COMMIT,
        "GitActor" => GIT_ACTOR,
        "PullRequestReview" => REVIEW,
        "IssueComment" => ISSUE_COMMENT,
        "PullRequestConnection" => PR_CONNECTION,
        "PullRequestCommitConnection" => COMMIT_CONNECTION,
        "PullRequestReviewConnection" => REVIEW_CONNECTION,
        "IssueCommentConnection" => COMMENT_CONNECTION,
        "PullRequestEdge" => PR_EDGE,
        "PullRequestCommitEdge" => COMMIT_EDGE,
        "PullRequestReviewEdge" => REVIEW_EDGE,
        "IssueCommentEdge" => COMMENT_EDGE,
        _ => return None,
    })
}

/// The edge type of a connection type.
pub(crate) fn edge_of(connection: &str) -> &'static str {
    CONNECTIONS
        .iter()
        .find(|(c, _, _)| *c == connection)
        .map_or("", |(_, edge, _)| edge)
}

/// The object types an abstract type stands for; empty for any other type.
pub(crate) fn possible_types(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "Actor" => &["User", "Bot", "Organization", "Mannequin"],
        _ => &[],
    }
}

/// Every object and interface type.
pub(crate) const OBJECTS: [&str; 25] = [
    "Query",
    "Mutation",
    "Subscription",
    "RateLimit",
    "Repository",
    "PageInfo",
    "PullRequest",
    "Actor",
    "User",
    "Bot",
    "Organization",
    "Mannequin",
    "PullRequestCommit",
    "Commit",
    "GitActor",
    "PullRequestReview",
    "IssueComment",
    "PullRequestConnection",
    "PullRequestCommitConnection",
    "PullRequestReviewConnection",
    "IssueCommentConnection",
    "PullRequestEdge",
    "PullRequestCommitEdge",
    "PullRequestReviewEdge",
    "IssueCommentEdge",
];

pub(crate) const ENUMS: [&str; 4] = [
    "PullRequestState",
    "IssueOrderField",
    "OrderDirection",
    "PullRequestReviewState",
];

/// The values of an enum type; None for any other type.
pub(crate) fn enum_values(type_name: &str) -> Option<&'static [&'static str]> {
    Some(match type_name {
        "PullRequestState" => &["OPEN", "CLOSED", "MERGED"],
        "IssueOrderField" => &["CREATED_AT", "UPDATED_AT", "COMMENTS"],
        "OrderDirection" => &["ASC", "DESC"],
        "PullRequestReviewState" => &[
            "PENDING",
            "COMMENTED",
            "APPROVED",
            "CHANGES_REQUESTED",
            "DISMISSED",
        ],
        _ => return None,
    })
}

pub(crate) const SCALARS: [&str; 9] = [
    "Int",
    "Float",
    "String",
    "Boolean",
    "ID",
    "DateTime",
    "URI",
    "GitObjectID",
    "GitTimestamp",
];

/// A scalar or an enum: selected without a selection set.
pub(crate) fn is_leaf(type_name: &str) -> bool {
    SCALARS.contains(&type_name) || enum_values(type_name).is_some()
}

/// The fields of an input object type; None for any other type.
pub(crate) fn input_fields(type_name: &str) -> Option<&'static [Arg]> {
    const ISSUE_ORDER: &[Arg] = &[
        arg("field", ty("IssueOrderField", true)),
        arg("direction", ty("OrderDirection", true)),
    ];
    match type_name {
        "IssueOrder" => Some(ISSUE_ORDER),
        _ => None,
    }
}

/// A type variables may have: a scalar accepted as input, an enum or an input object.
pub(crate) fn is_input(type_name: &str) -> bool {
    ["Int", "Float", "String", "Boolean", "ID", "DateTime", "URI"].contains(&type_name)
        || enum_values(type_name).is_some()
        || input_fields(type_name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_returned_type_is_known() {
        let mut types = vec!["Query"];
        let mut seen = Vec::new();
        while let Some(t) = types.pop() {
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            let fields = fields(t).unwrap_or_else(|| panic!("{t} has no fields"));
            for f in fields {
                assert!(
                    is_leaf(f.ty) || fields_known(f.ty),
                    "{t}.{} returns unknown {}",
                    f.name,
                    f.ty
                );
                if !is_leaf(f.ty) {
                    types.push(f.ty);
                }
                for a in f.args {
                    assert!(is_input(a.ty.name), "{t}.{}({})", f.name, a.name);
                }
                if f.connection() {
                    assert!(!edge_of(f.ty).is_empty());
                }
            }
            for p in possible_types(t) {
                types.push(p);
            }
        }
        assert!(seen.len() > 15);
        for t in OBJECTS {
            assert!(fields(t).is_some(), "{t}");
        }
        for t in ENUMS {
            assert!(enum_values(t).is_some(), "{t}");
        }
        assert_eq!(
            TypeRef {
                name: "PullRequestState",
                list: true,
                non_null: true
            }
            .to_string(),
            "[PullRequestState!]!"
        );
    }

    fn fields_known(t: &str) -> bool {
        fields(t).is_some()
    }
}
