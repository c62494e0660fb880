//! The JQL subset the simulator understands: `project = X`, `project in (A, "B")`,
//! `updated|created >=|>|<=|< date`, `key|issuekey|id = X` / `in (…)`,
//! `development[pullrequests|commits|branches].all` (and `[pullrequests].open`) compared with a
//! number, joined by AND, with
//! `ORDER BY updated|created|key|id [ASC|DESC], …`. Keywords and field names are
//! case-insensitive; values may be quoted or bare. Errors read like Jira's.

use crate::time::parse_jql_date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeField {
    Created,
    Updated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Cmp {
    pub(crate) fn holds(self, value: i64, bound: i64) -> bool {
        match self {
            Cmp::Eq => value == bound,
            Cmp::Ge => value >= bound,
            Cmp::Gt => value > bound,
            Cmp::Le => value <= bound,
            Cmp::Lt => value < bound,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Clause {
    /// Project keys, ids or names.
    Project(Vec<String>),
    /// Issue keys or ids.
    Issue(Vec<String>),
    Time {
        field: TimeField,
        cmp: Cmp,
        at: i64,
    },
    /// `development[…]…` compared with a count (Jira's index of linked development work).
    Development {
        field: DevField,
        cmp: Cmp,
        count: i64,
    },
}

/// What a `development[…]` clause counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DevField {
    PullRequests,
    OpenPullRequests,
    Commits,
    Branches,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortField {
    Updated,
    Created,
    Key,
    Id,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) clauses: Vec<Clause>,
    /// (field, descending); empty means Jira's default for this simulator, `key DESC`.
    pub(crate) order: Vec<(SortField, bool)>,
    /// A relative date (`-1d`) was used, so the result depends on the clock.
    pub(crate) uses_now: bool,
}

impl Query {
    /// Jira refuses searches without any restriction clause.
    pub(crate) fn is_bounded(&self) -> bool {
        !self.clauses.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

struct Token {
    tok: Tok,
    /// 1-based character position, as Jira reports it.
    at: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => w.clone(),
        Tok::Quoted(q) => format!("\"{q}\""),
        Tok::Op(op) => (*op).to_owned(),
        Tok::Open => "(".into(),
        Tok::Close => ")".into(),
        Tok::Comma => ",".into(),
    }
}

fn syntax(message: &str, at: usize) -> String {
    format!("Error in the JQL Query: {message} (line 1, character {at})")
}

fn tokenize(jql: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = jql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, width) = match c {
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            ',' => (Tok::Comma, 1),
            '"' | '\'' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(syntax("The quoted string has not been completed.", at));
                        }
                        Some('\\') => {
                            if let Some(next) = chars.get(j + 1) {
                                text.push(*next);
                            }
                            j += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(other) => {
                            text.push(*other);
                            j += 1;
                        }
                    }
                }
                (Tok::Quoted(text), j + 1 - i)
            }
            _ if [">=", "<=", "!=", "!~"].contains(&two.as_str()) => {
                let op = match two.as_str() {
                    ">=" => ">=",
                    "<=" => "<=",
                    "!=" => "!=",
                    _ => "!~",
                };
                (Tok::Op(op), 2)
            }
            '=' => (Tok::Op("="), 1),
            '>' => (Tok::Op(">"), 1),
            '<' => (Tok::Op("<"), 1),
            '~' => (Tok::Op("~"), 1),
            _ => {
                let mut j = i;
                while j < chars.len()
                    && !chars[j].is_whitespace()
                    && !"()=,!<>~\"'".contains(chars[j])
                {
                    j += 1;
                }
                if j == i {
                    return Err(syntax(
                        &format!("The character '{c}' is a reserved JQL character."),
                        at,
                    ));
                }
                (Tok::Word(chars[i..j].iter().collect()), j - i)
            }
        };
        out.push(Token { tok, at });
        i += width;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
    now: i64,
    zone_offset_ms: i64,
    uses_now: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.tokens.get(self.pos).map(|t| t.tok.clone());
        self.pos += 1;
        tok
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn value(&mut self, what: &str) -> Result<String, String> {
        let at = self.at();
        match self.next() {
            Some(Tok::Word(w) | Tok::Quoted(w)) => Ok(w),
            Some(other) => Err(syntax(
                &format!("Expecting {what} but got '{}'.", describe(&other)),
                at,
            )),
            None => Err(syntax(
                &format!("Expecting {what} before the end of the query."),
                at,
            )),
        }
    }

    /// `= v` or `in (v, …)`; other operators are refused for these fields.
    fn values(&mut self, field: &str) -> Result<Vec<String>, String> {
        let at = self.at();
        match self.next() {
            Some(Tok::Op("=")) => Ok(vec![self.value("a value")?]),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                if self.next() != Some(Tok::Open) {
                    return Err(syntax("Expecting '(' after 'in'.", self.at()));
                }
                let mut values = Vec::new();
                loop {
                    values.push(self.value("a value")?);
                    let at = self.at();
                    match self.next() {
                        Some(Tok::Comma) => {}
                        Some(Tok::Close) => return Ok(values),
                        Some(other) => {
                            return Err(syntax(
                                &format!("Expecting ',' or ')' but got '{}'.", describe(&other)),
                                at,
                            ));
                        }
                        None => {
                            return Err(syntax("Expecting ')' before the end of the query.", at));
                        }
                    }
                }
            }
            Some(other) => Err(format!(
                "The operator '{}' is not supported by the simulator for the '{field}' field.",
                describe(&other)
            )),
            None => Err(syntax(
                "Expecting operator before the end of the query.",
                at,
            )),
        }
    }

    fn clause(&mut self) -> Result<Clause, String> {
        let at = self.at();
        let field = self.value("a field name")?;
        match field.to_ascii_lowercase().as_str() {
            "project" => Ok(Clause::Project(self.values("project")?)),
            "key" | "issuekey" | "issue" | "id" => Ok(Clause::Issue(self.values(&field)?)),
            "updated" | "updateddate" | "created" | "createddate" => {
                let time_field = if field.to_ascii_lowercase().starts_with("updated") {
                    TimeField::Updated
                } else {
                    TimeField::Created
                };
                let op_at = self.at();
                let cmp = match self.next() {
                    Some(Tok::Op(">=")) => Cmp::Ge,
                    Some(Tok::Op(">")) => Cmp::Gt,
                    Some(Tok::Op("<=")) => Cmp::Le,
                    Some(Tok::Op("<")) => Cmp::Lt,
                    Some(other) => {
                        return Err(format!(
                            "The operator '{}' is not supported by the simulator for the '{field}' field.",
                            describe(&other)
                        ));
                    }
                    None => {
                        return Err(syntax(
                            "Expecting operator before the end of the query.",
                            op_at,
                        ));
                    }
                };
                let raw = self.value("a date")?;
                let at = parse_jql_date(&raw, self.now, self.zone_offset_ms).ok_or_else(|| {
                    format!(
                        "Date value '{raw}' for field '{field}' is invalid. Valid formats include: \
                         'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a \
                         period format e.g. '-5d', '4w 2d'."
                    )
                })?;
                let trimmed = raw.trim_start();
                if trimmed.starts_with(['-', '+']) || trimmed.ends_with(['d', 'w', 'h', 'm']) {
                    self.uses_now = true;
                }
                Ok(Clause::Time {
                    field: time_field,
                    cmp,
                    at,
                })
            }
            lower if lower.starts_with("development[") => self.development(&field),
            "order" | "and" | "or" | "not" => Err(syntax(
                &format!("Expecting a field name but got '{field}'."),
                at,
            )),
            "status" | "assignee" | "reporter" | "priority" | "type" | "issuetype" | "labels"
            | "text" | "summary" | "sprint" | "resolution" => Err(format!(
                "Searching by '{field}' is not supported by the simulator."
            )),
            _ => Err(format!(
                "Field '{field}' does not exist or you do not have permission to view it."
            )),
        }
    }

    /// `development[pullrequests].all > 0` and its kin; the field word is already consumed.
    fn development(&mut self, field: &str) -> Result<Clause, String> {
        let lower = field.to_ascii_lowercase();
        let dev_field = match lower.as_str() {
            "development[pullrequests].all" => DevField::PullRequests,
            "development[pullrequests].open" => DevField::OpenPullRequests,
            "development[commits].all" => DevField::Commits,
            "development[branches].all" => DevField::Branches,
            _ => {
                return Err(format!(
                    "Searching by '{field}' is not supported by the simulator."
                ));
            }
        };
        let op_at = self.at();
        let cmp = match self.next() {
            Some(Tok::Op("=")) => Cmp::Eq,
            Some(Tok::Op(">=")) => Cmp::Ge,
            Some(Tok::Op(">")) => Cmp::Gt,
            Some(Tok::Op("<=")) => Cmp::Le,
            Some(Tok::Op("<")) => Cmp::Lt,
            Some(other) => {
                return Err(format!(
                    "The operator '{}' is not supported by the simulator for the '{field}' field.",
                    describe(&other)
                ));
            }
            None => {
                return Err(syntax(
                    "Expecting operator before the end of the query.",
                    op_at,
                ));
            }
        };
        let raw = self.value("a number")?;
        let count = raw
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("The value '{raw}' is not a valid number for '{field}'."))?;
        Ok(Clause::Development {
            field: dev_field,
            cmp,
            count,
        })
    }

    fn order(&mut self) -> Result<Vec<(SortField, bool)>, String> {
        // "order" already consumed
        if !self.keyword("by") {
            return Err(syntax("Expecting 'by' after 'order'.", self.at()));
        }
        self.pos += 1;
        let mut order = Vec::new();
        loop {
            let field = self.value("a field name")?;
            let sort = match field.to_ascii_lowercase().as_str() {
                "updated" | "updateddate" => SortField::Updated,
                "created" | "createddate" => SortField::Created,
                "key" | "issuekey" => SortField::Key,
                "id" => SortField::Id,
                _ => {
                    return Err(format!(
                        "Sorting by '{field}' is not supported by the simulator."
                    ));
                }
            };
            let descending = if self.keyword("desc") {
                self.pos += 1;
                true
            } else {
                if self.keyword("asc") {
                    self.pos += 1;
                }
                false
            };
            order.push((sort, descending));
            let at = self.at();
            match self.next() {
                None => return Ok(order),
                Some(Tok::Comma) => {}
                Some(other) => {
                    return Err(syntax(
                        &format!("Expecting ',' but got '{}'.", describe(&other)),
                        at,
                    ));
                }
            }
        }
    }
}

/// Parses `jql`; `now` anchors relative dates; dates written as text are in the searching
/// user's zone, `zone_offset_ms` east of UTC.
pub(crate) fn parse(jql: &str, now: i64, zone_offset_ms: i64) -> Result<Query, String> {
    let tokens = tokenize(jql)?;
    let mut parser = Parser {
        end: jql.chars().count() + 1,
        tokens,
        pos: 0,
        now,
        zone_offset_ms,
        uses_now: false,
    };
    let mut clauses = Vec::new();
    let mut order = Vec::new();
    while parser.peek().is_some() {
        if parser.keyword("order") {
            parser.pos += 1;
            order = parser.order()?;
            break;
        }
        clauses.push(parser.clause()?);
        let at = parser.at();
        match parser.next() {
            None => break,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("and") => {
                if parser.peek().is_none() {
                    return Err(syntax(
                        "Expecting a field name before the end of the query.",
                        parser.at(),
                    ));
                }
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("order") => {
                order = parser.order()?;
                break;
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("or") => {
                return Err("The simulator supports only AND between clauses, not OR.".into());
            }
            Some(other) => {
                return Err(syntax(
                    &format!(
                        "Expecting either 'OR' or 'AND' but got '{}'.",
                        describe(&other)
                    ),
                    at,
                ));
            }
        }
    }
    Ok(Query {
        clauses,
        order,
        uses_now: parser.uses_now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::utc_ms;

    #[test]
    fn parses_the_subset() {
        let q = parse(
            "Project in (EX, \"ABC\") and UPDATED >= \"2024-03-05 14:22\" ORDER BY updated DESC, key",
            0,
            0,
        )
        .expect("valid");
        assert_eq!(
            q.clauses,
            vec![
                Clause::Project(vec!["EX".into(), "ABC".into()]),
                Clause::Time {
                    field: TimeField::Updated,
                    cmp: Cmp::Ge,
                    at: utc_ms(2024, 3, 5, 14, 22, 0)
                },
            ]
        );
        assert_eq!(
            q.order,
            vec![(SortField::Updated, true), (SortField::Key, false)]
        );
        assert!(!q.uses_now);
        let q = parse("project = P0001 AND updated > '2024-01-01'", 0, 0).expect("valid");
        assert_eq!(q.clauses.len(), 2);
        let q = parse("updated >= -1d", 1_000_000_000, 0).expect("valid");
        assert!(q.uses_now);
        let q = parse(
            "project = \"P\" AND development[pullrequests].all > 0 AND Development[Branches].all = 0",
            0,
            0,
        )
        .expect("valid");
        assert_eq!(
            q.clauses[1..],
            [
                Clause::Development {
                    field: DevField::PullRequests,
                    cmp: Cmp::Gt,
                    count: 0
                },
                Clause::Development {
                    field: DevField::Branches,
                    cmp: Cmp::Eq,
                    count: 0
                }
            ]
        );
        let q = parse("order by id", 0, 0).expect("valid");
        assert!(!q.is_bounded());
        assert!(!parse("", 0, 0).expect("valid").is_bounded());
    }

    #[test]
    fn reports_problems() {
        let err = |jql: &str| parse(jql, 0, 0).expect_err(jql);
        assert!(err("project = ").contains("before the end of the query"));
        assert!(err("project = X foo").contains("Expecting either 'OR' or 'AND' but got 'foo'"));
        assert!(err("project = \"X").contains("quoted string"));
        assert!(err("nosuch = 1").contains("Field 'nosuch' does not exist"));
        assert!(err("updated >= \"yesterday\"").contains("Date value 'yesterday'"));
        assert!(err("project in (A, B").contains("Expecting ')'"));
        assert!(err("project = A OR project = B").contains("OR"));
        assert!(err("project = A ORDER updated").contains("'by'"));
        assert!(err("development[builds].failing > 0").contains("not supported"));
        assert!(err("development[commits].all > many").contains("not a valid number"));
    }
}
