//! GitHub's GraphQL API (POST /graphql) over the data the REST endpoints serve: every object
//! is the REST answer mapped field by field (`exec`), so a client mapping either lands the
//! same rows.
//!
//! A query is answered as GitHub does, in this order, the first five spending nothing:
//! * a body that is not JSON: 400 "Problems parsing JSON";
//! * a token whose `graphql` budget is spent: 200 with a RATE_LIMITED error and
//!   `x-ratelimit-remaining: 0`;
//! * a syntax error, an unknown field or type, a wrong or missing argument, a bad variable,
//!   an unused variable or fragment (`plan`): 200 with `errors` and no `data`;
//! * a connection without `first`/`last` or asking for more than 100, or a query requesting
//!   more nodes than the node limit (`plan::price`): the same, with GitHub's error types;
//! * a cost (GitHub's rule, see `plan::price`) above the points left: RATE_LIMITED;
//! * an armed secondary limit: 403 with `retry-after` when armed with one;
//! * an armed GraphQL error: 200 `{"data": null, "errors": [...]}`, spending the cost;
//! * otherwise the query runs and spends its cost. Errors found while running (an unknown
//!   repository or pull request, a bad cursor) null the field, or the nearest nullable field
//!   above it, and are listed with their `path`, as GitHub does.

mod exec;
mod plan;
mod schema;

use axum::http::StatusCode;
use graphql_parser::Pos;
use serde_json::{Map, Value, json};

use super::server::user_id;
use super::state::{GhShared, RateView, Resource};

/// What the server answers to a GraphQL request.
pub(crate) enum GqlAnswer {
    /// HTTP `status` with `body`, and the rate-limit headers of `view`.
    Done {
        status: StatusCode,
        body: String,
        view: RateView,
    },
    /// 400 "Problems parsing JSON".
    BadJson,
    /// 403 for an armed secondary limit.
    Secondary {
        retry_after: Option<u64>,
        view: RateView,
    },
}

/// One entry of `errors`.
#[derive(Debug, Default)]
pub(crate) struct GqlError {
    pub(crate) message: String,
    /// GitHub's `type` (NOT_FOUND, RATE_LIMITED, …), where it gives one.
    pub(crate) kind: Option<&'static str>,
    pub(crate) locations: Vec<Pos>,
    pub(crate) path: Vec<Value>,
    pub(crate) extensions: Option<Value>,
}

impl GqlError {
    pub(crate) fn new(message: impl Into<String>) -> GqlError {
        GqlError {
            message: message.into(),
            ..GqlError::default()
        }
    }

    pub(crate) fn kind(mut self, kind: &'static str) -> GqlError {
        self.kind = Some(kind);
        self
    }

    pub(crate) fn at(mut self, pos: Pos) -> GqlError {
        self.locations.push(pos);
        self
    }

    pub(crate) fn path(mut self, path: Vec<Value>) -> GqlError {
        self.path = path;
        self
    }

    pub(crate) fn extensions(mut self, extensions: Value) -> GqlError {
        self.extensions = Some(extensions);
        self
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(kind) = self.kind {
            out.insert("type".into(), json!(kind));
        }
        if !self.path.is_empty() {
            out.insert("path".into(), Value::Array(self.path.clone()));
        }
        if let Some(extensions) = &self.extensions {
            out.insert("extensions".into(), extensions.clone());
        }
        if !self.locations.is_empty() {
            let locations: Vec<Value> = self
                .locations
                .iter()
                .map(|p| json!({"line": p.line, "column": p.column}))
                .collect();
            out.insert("locations".into(), Value::Array(locations));
        }
        out.insert("message".into(), json!(self.message));
        Value::Object(out)
    }
}

/// `{"errors": [...]}` without data.
fn errors_only(errors: &[GqlError]) -> String {
    let errors: Vec<Value> = errors.iter().map(GqlError::to_json).collect();
    json!({ "errors": errors }).to_string()
}

/// Answers one GraphQL request of `token` (user `user`) at root `root` (0 = /graphql, 1 =
/// GitHub Enterprise Server's /api/graphql).
pub(crate) fn run(
    sim: &GhShared,
    root: usize,
    token: &str,
    user: Option<usize>,
    body: &[u8],
) -> GqlAnswer {
    let answer = answer(sim, root, token, user, body);
    if let GqlAnswer::Done { status, .. } = &answer
        && *status == StatusCode::OK
    {
        sim.note_graphql_query();
    }
    answer
}

fn answer(sim: &GhShared, root: usize, token: &str, user: Option<usize>, body: &[u8]) -> GqlAnswer {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return GqlAnswer::BadJson;
    };
    let before = sim.rate_view(Resource::Graphql, token);
    let refused = |errors: &[GqlError]| GqlAnswer::Done {
        status: StatusCode::OK,
        body: errors_only(errors),
        view: before,
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return refused(&[GqlError::new(
            "A query attribute must be specified and must be a string.",
        )]);
    };
    let variables = match request.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        // some clients send the variables as a JSON text
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => Map::new(),
            _ => return refused(&[GqlError::new("Variables must be a JSON object.")]),
        },
        Some(_) => return refused(&[GqlError::new("Variables must be a JSON object.")]),
    };
    let operation_name = request.get("operationName").and_then(Value::as_str);
    if before.remaining == 0 {
        return rate_limited(before, user);
    }

    let document = match graphql_parser::parse_query::<&str>(query) {
        Ok(document) => document,
        Err(e) => return refused(&[parse_error(&e.to_string())]),
    };
    let fields = match plan::plan(&document, operation_name, &variables) {
        Ok(fields) => fields,
        Err(errors) => return refused(&errors),
    };
    let price = match plan::price(&fields, sim.graphql_node_limit) {
        Ok(price) => price,
        Err(errors) => return refused(&errors),
    };
    if price.cost > before.remaining {
        return rate_limited(before, user);
    }
    if let Some(retry_after) = sim.take_secondary() {
        sim.limits.note_refusal();
        return GqlAnswer::Secondary {
            retry_after,
            view: before,
        };
    }
    let after = match sim.spend(Resource::Graphql, token, price.cost) {
        Ok(after) => after,
        Err(view) => return rate_limited(view, user),
    };
    if let Some((kind, message)) = sim.take_graphql_error() {
        let body = json!({
            "data": null,
            "errors": [{"type": kind, "message": message}],
        });
        return GqlAnswer::Done {
            status: StatusCode::OK,
            body: body.to_string(),
            view: after,
        };
    }
    let rate = exec::Rate {
        cost: price.cost,
        nodes: price.nodes,
        view: after,
    };
    GqlAnswer::Done {
        status: StatusCode::OK,
        body: exec::execute(sim, root, user, &fields, rate),
        view: after,
    }
}

/// GitHub's answer to a query over the GraphQL primary limit: 200, RATE_LIMITED, and
/// `x-ratelimit-remaining: 0`.
fn rate_limited(view: RateView, user: Option<usize>) -> GqlAnswer {
    let error = GqlError::new(format!(
        "API rate limit already exceeded for user ID {}.",
        user_id(user)
    ))
    .kind("RATE_LIMITED");
    GqlAnswer::Done {
        status: StatusCode::OK,
        body: errors_only(&[error]),
        view: RateView {
            remaining: 0,
            ..view
        },
    }
}

/// graphql-parser's "query parse error: Parse error at 3:5\nUnexpected `}[Punctuator]`\n…"
/// as GitHub words it: "Parse error on \"}\" at [3, 5]".
fn parse_error(text: &str) -> GqlError {
    let position = text.split_once(" at ").and_then(|(_, rest)| {
        let place = rest.split_whitespace().next()?;
        let (line, column) = place.split_once(':')?;
        Some(Pos {
            line: line.parse().ok()?,
            column: column.parse().ok()?,
        })
    });
    let token = text
        .lines()
        .find_map(|line| line.strip_prefix("Unexpected "))
        .map(|t| {
            let t = t.trim_matches('`');
            // "}[Punctuator]" -> "}"
            match t.rfind('[') {
                Some(at) if at > 0 && t.ends_with(']') => t[..at].to_owned(),
                _ => t.to_owned(),
            }
        });
    match (position, token) {
        (Some(pos), Some(token)) => GqlError::new(format!(
            "Parse error on \"{token}\" at [{}, {}]",
            pos.line, pos.column
        ))
        .at(pos),
        (Some(pos), None) => {
            GqlError::new(format!("Parse error at [{}, {}]", pos.line, pos.column)).at(pos)
        }
        _ => GqlError::new(format!(
            "Parse error: {}",
            text.trim_start_matches("query parse error: ")
        )),
    }
}

/// `n` with thousands separators, as GitHub's messages write numbers.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_parse_errors_read_like_github() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(30_100), "30,100");
        let e = graphql_parser::parse_query::<&str>("query {\n  repository(owner: \"a\" {\n}")
            .expect_err("syntax error");
        let error = parse_error(&e.to_string());
        assert!(error.message.starts_with("Parse error on "), "{error:?}");
        assert_eq!(error.locations.len(), 1, "{error:?}");
    }
}
