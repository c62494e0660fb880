//! The `fields` parameter of issue searches: which parts of an issue to return.

/// What `fields` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FieldSel {
    /// No `fields` at all: search/jql answers `{"id"}` only.
    IdOnly,
    /// Only `id` and/or `key`: `{"id","key","self"}`, no `fields` object.
    KeyOnly,
    Some {
        /// `*all` or `*navigable`.
        all: bool,
        include: Vec<String>,
        /// `-name` entries.
        exclude: Vec<String>,
    },
}

impl FieldSel {
    /// From the raw values (comma lists, possibly repeated); `None` when the parameter is absent.
    pub(crate) fn parse(values: Option<&[String]>) -> FieldSel {
        let Some(values) = values else {
            return FieldSel::IdOnly;
        };
        let names: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return FieldSel::IdOnly;
        }
        if names.iter().all(|n| *n == "id" || *n == "key") {
            return FieldSel::KeyOnly;
        }
        let mut all = false;
        let (mut include, mut exclude) = (Vec::new(), Vec::new());
        for name in names {
            match name {
                "*all" | "*navigable" => all = true,
                "id" | "key" => {}
                _ => match name.strip_prefix('-') {
                    Some(excluded) => exclude.push(excluded.to_owned()),
                    None => include.push(name.to_owned()),
                },
            }
        }
        FieldSel::Some {
            all,
            include,
            exclude,
        }
    }

    /// Whether the issue's `fields` object should carry `field`.
    pub(crate) fn wants(&self, field: &str) -> bool {
        match self {
            FieldSel::IdOnly | FieldSel::KeyOnly => false,
            FieldSel::Some {
                all,
                include,
                exclude,
            } => {
                (*all || include.iter().any(|f| f == field)) && !exclude.iter().any(|f| f == field)
            }
        }
    }

    /// True when issues carry no `fields` object (cheap listings with a higher page cap).
    pub(crate) fn is_light(&self) -> bool {
        matches!(self, FieldSel::IdOnly | FieldSel::KeyOnly)
    }

    /// `*all` with nothing excluded: recorded issues can be served untouched.
    pub(crate) fn is_everything(&self) -> bool {
        matches!(self, FieldSel::Some { all: true, exclude, .. } if exclude.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(v: &[&str]) -> FieldSel {
        let owned: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
        FieldSel::parse(Some(&owned))
    }

    #[test]
    fn parses_the_forms_jira_accepts() {
        assert_eq!(FieldSel::parse(None), FieldSel::IdOnly);
        assert_eq!(sel(&["key"]), FieldSel::KeyOnly);
        assert_eq!(sel(&["id,key"]), FieldSel::KeyOnly);
        let some = sel(&["summary,status", "customfield_10001"]);
        assert!(some.wants("summary") && some.wants("customfield_10001"));
        assert!(!some.wants("description"));
        let all = sel(&["*all,-description"]);
        assert!(all.wants("summary") && !all.wants("description"));
        assert!(!all.is_everything());
        assert!(sel(&["*navigable"]).is_everything());
    }
}
