//! From a parsed query to the fields to resolve: the operation is chosen, variables are
//! coerced to their declared types, fragments (named and inline, with `@include`/`@skip`)
//! are flattened, and every field and argument is checked against the schema. Errors carry
//! GitHub's codes (undefinedField, argumentNotAccepted, missingRequiredArguments, …) and a
//! `path` that starts with the operation ("query" or "query Name"), like graphql-ruby's.
//!
//! Then `price` checks pagination and counts what GitHub counts: nodes (each connection's
//! `first`/`last` times those of every connection around it, summed) and cost (for each
//! connection, the requests needed to fill it: the product of the `first`/`last` of every
//! connection around it; summed, divided by 100, rounded, at least 1).

use std::collections::{BTreeMap, HashMap, HashSet};

use graphql_parser::Pos;
use graphql_parser::query::{
    Definition, Directive, Document, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet, Type, TypeCondition, Value as Literal, VariableDefinition,
};
use serde_json::{Map, Value, json};

use super::schema::{self, FieldDef, TypeRef};
use super::{GqlError, grouped};

/// Most records a connection may ask for.
const MAX_PAGE: i64 = 100;

/// A field to resolve, its arguments coerced and its selections flattened.
#[derive(Debug)]
pub(crate) struct Planned<'q> {
    /// Alias, else name: the key in the answer.
    pub(crate) key: &'q str,
    pub(crate) name: &'q str,
    /// None for `__typename`.
    pub(crate) def: Option<&'static FieldDef>,
    /// Only for objects of this type (from a fragment on it inside an abstract type).
    pub(crate) on: Option<&'static str>,
    /// Arguments given (null ones left out).
    pub(crate) args: BTreeMap<&'static str, Value>,
    pub(crate) children: Vec<Planned<'q>>,
    pub(crate) pos: Pos,
}

impl Planned<'_> {
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.args.get(name).and_then(Value::as_i64)
    }

    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(Value::as_str)
    }

    pub(crate) fn non_null(&self) -> bool {
        self.def.is_some_and(|d| d.non_null)
    }
}

type Doc<'q> = Document<'q, &'q str>;
type VarDef<'q> = VariableDefinition<'q, &'q str>;

struct Planner<'q> {
    fragments: HashMap<&'q str, &'q FragmentDefinition<'q, &'q str>>,
    var_defs: HashMap<&'q str, &'q VarDef<'q>>,
    /// Coerced values of the variables given (or defaulted).
    vars: HashMap<&'q str, Value>,
    used_vars: HashSet<&'q str>,
    used_fragments: HashSet<&'q str>,
    /// Fragments being spread, outermost first.
    spreading: Vec<&'q str>,
    /// "query" or "query Name": first element of every path.
    label: String,
    errors: Vec<GqlError>,
}

/// The fields to resolve for the operation `operation_name` (or the only one) of `doc`.
pub(crate) fn plan<'q>(
    doc: &'q Doc<'q>,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Vec<Planned<'q>>, Vec<GqlError>> {
    let mut planner = Planner {
        fragments: HashMap::new(),
        var_defs: HashMap::new(),
        vars: HashMap::new(),
        used_vars: HashSet::new(),
        used_fragments: HashSet::new(),
        spreading: Vec::new(),
        label: String::new(),
        errors: Vec::new(),
    };
    let mut operations = Vec::new();
    for definition in &doc.definitions {
        match definition {
            Definition::Operation(op) => operations.push(op),
            Definition::Fragment(fragment) => {
                if planner.fragments.insert(fragment.name, fragment).is_some() {
                    planner.errors.push(
                        GqlError::new(format!(
                            "Fragment name \"{}\" must be unique",
                            fragment.name
                        ))
                        .at(fragment.position)
                        .extensions(json!({"code": "fragmentNamesAreUnique", "fragmentName": fragment.name})),
                    );
                }
            }
        }
    }
    let op = match operation_name.filter(|n| !n.is_empty()) {
        Some(name) => operations
            .iter()
            .find(|op| operation(op).1 == Some(name))
            .copied()
            .ok_or_else(|| vec![GqlError::new(format!("No operation named \"{name}\""))])?,
        None => match operations.as_slice() {
            [op] => *op,
            [] => return Err(vec![GqlError::new("No operation given")]),
            _ => return Err(vec![GqlError::new("An operation name is required")]),
        },
    };
    let (kind, name, var_defs, directives, set) = operation(op);
    planner.label = match name {
        Some(name) => format!("{kind} {name}"),
        None => kind.to_owned(),
    };
    if kind == "subscription" {
        return Err(vec![GqlError::new(
            "Subscriptions are not supported by GitHub's GraphQL API",
        )]);
    }
    planner.variables(var_defs, variables);
    if !planner.errors.is_empty() {
        return Err(planner.errors);
    }
    let root = if kind == "mutation" {
        "Mutation"
    } else {
        "Query"
    };
    let mut fields = Vec::new();
    let mut path = vec![planner.label.clone()];
    if planner.included(directives) {
        planner.selections(root, None, set, &mut path, &mut fields);
    }
    for def in var_defs {
        if !planner.used_vars.contains(def.name) {
            let message = format!(
                "Variable ${} is declared by {} but not used",
                def.name,
                planner.describe()
            );
            planner.errors.push(
                GqlError::new(message)
                    .at(def.position)
                    .path(vec![json!(planner.label)])
                    .extensions(json!({"code": "variableNotUsed", "variableName": def.name})),
            );
        }
    }
    let mut unused: Vec<&FragmentDefinition<'q, &'q str>> = planner
        .fragments
        .values()
        .filter(|f| !planner.used_fragments.contains(f.name))
        .copied()
        .collect();
    unused.sort_by_key(|f| f.position);
    for fragment in unused {
        planner.errors.push(
            GqlError::new(format!(
                "Fragment {} was defined, but not used",
                fragment.name
            ))
            .at(fragment.position)
            .path(vec![json!(format!("fragment {}", fragment.name))])
            .extensions(json!({"code": "useAndDefineFragment", "fragmentName": fragment.name})),
        );
    }
    if planner.errors.is_empty() {
        Ok(fields)
    } else {
        Err(planner.errors)
    }
}

type Parts<'q> = (
    &'static str,
    Option<&'q str>,
    &'q [VarDef<'q>],
    &'q [Directive<'q, &'q str>],
    &'q SelectionSet<'q, &'q str>,
);

/// (kind, name, variables, directives, selections) of an operation.
fn operation<'q>(op: &'q OperationDefinition<'q, &'q str>) -> Parts<'q> {
    match op {
        OperationDefinition::SelectionSet(set) => ("query", None, &[], &[], set),
        OperationDefinition::Query(q) => (
            "query",
            q.name,
            &q.variable_definitions,
            &q.directives,
            &q.selection_set,
        ),
        OperationDefinition::Mutation(m) => (
            "mutation",
            m.name,
            &m.variable_definitions,
            &m.directives,
            &m.selection_set,
        ),
        OperationDefinition::Subscription(s) => (
            "subscription",
            s.name,
            &s.variable_definitions,
            &s.directives,
            &s.selection_set,
        ),
    }
}

/// The innermost named type of a declared type, whether it is a list, and whether the
/// outermost is non-null.
fn shape<'q>(ty: &Type<'q, &'q str>) -> (&'q str, bool, bool) {
    match ty {
        Type::NamedType(name) => (name, false, false),
        Type::ListType(inner) => (shape(inner).0, true, false),
        Type::NonNullType(inner) => {
            let (name, list, _) = shape(inner);
            (name, list, true)
        }
    }
}

impl<'q> Planner<'q> {
    /// "anonymous query" or "query Name", as graphql-ruby's messages name operations.
    fn describe(&self) -> String {
        match self.label.split_once(' ') {
            Some((kind, name)) => format!("{kind} {name}"),
            None => format!("anonymous {}", self.label),
        }
    }

    fn variables(&mut self, defs: &'q [VarDef<'q>], given: &Map<String, Value>) {
        for def in defs {
            self.var_defs.insert(def.name, def);
            let (named, _, _) = shape(&def.var_type);
            if !schema::is_input(named) {
                self.errors.push(
                    GqlError::new(format!(
                        "{named} isn't a defined input type (on ${})",
                        def.name
                    ))
                    .at(def.position)
                    .path(vec![json!(self.label)])
                    .extensions(json!({"code": "variableRequiresValidType", "typeName": named, "variableName": def.name})),
                );
                continue;
            }
            let value = match given.get(def.name) {
                Some(value) => value.clone(),
                None => match &def.default_value {
                    Some(literal) => constant(literal),
                    None if matches!(def.var_type, Type::NonNullType(_)) => Value::Null,
                    None => continue,
                },
            };
            match coerce(&value, &def.var_type) {
                Ok(coerced) => {
                    self.vars.insert(def.name, coerced);
                }
                Err(explanation) => self.errors.push(
                    GqlError::new(format!(
                        "Variable ${} of type {} was provided invalid value",
                        def.name, def.var_type
                    ))
                    .at(def.position)
                    .extensions(json!({
                        "value": value,
                        "problems": [{"path": [], "explanation": explanation}],
                    })),
                ),
            }
        }
    }

    /// Whether `@include`/`@skip` keep a selection; unknown directives are errors.
    fn included(&mut self, directives: &'q [Directive<'q, &'q str>]) -> bool {
        let mut keep = true;
        for directive in directives {
            let wanted = match directive.name {
                "include" => true,
                "skip" => false,
                other => {
                    self.errors.push(
                        GqlError::new(format!("Directive @{other} is not defined"))
                            .at(directive.position)
                            .extensions(
                                json!({"code": "undefinedDirective", "directiveName": other}),
                            ),
                    );
                    continue;
                }
            };
            let condition = directive
                .arguments
                .iter()
                .find(|(name, _)| *name == "if")
                .map(|(_, value)| match value {
                    Literal::Boolean(b) => Some(*b),
                    Literal::Variable(name) => {
                        self.used_vars.insert(name);
                        self.vars.get(name).and_then(Value::as_bool)
                    }
                    _ => None,
                });
            match condition {
                Some(Some(value)) => keep &= value == wanted,
                _ => self.errors.push(
                    GqlError::new(format!(
                        "Directive @{} requires a Boolean argument `if`",
                        directive.name
                    ))
                    .at(directive.position)
                    .extensions(json!({"code": "missingRequiredArguments", "className": "Directive", "name": directive.name, "arguments": "if"})),
                ),
            }
        }
        keep
    }

    /// Plans `set` as selected on type `scope`; `on` restricts the fields to objects of one
    /// type (inside a fragment on it within an abstract type).
    fn selections(
        &mut self,
        scope: &'static str,
        on: Option<&'static str>,
        set: &'q SelectionSet<'q, &'q str>,
        path: &mut Vec<String>,
        out: &mut Vec<Planned<'q>>,
    ) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    if !self.included(&field.directives) {
                        continue;
                    }
                    let key = field.alias.unwrap_or(field.name);
                    path.push(key.to_owned());
                    if let Some(planned) = self.field(scope, on, field, path) {
                        out.push(planned);
                    }
                    path.pop();
                }
                Selection::InlineFragment(fragment) => {
                    if !self.included(&fragment.directives) {
                        continue;
                    }
                    let condition = fragment
                        .type_condition
                        .as_ref()
                        .map(|TypeCondition::On(name)| *name);
                    path.push(match condition {
                        Some(name) => format!("... on {name}"),
                        None => "...".to_owned(),
                    });
                    if let Some((scope, on)) =
                        self.spread_into(scope, on, condition, fragment.position, path)
                    {
                        self.selections(scope, on, &fragment.selection_set, path, out);
                    }
                    path.pop();
                }
                Selection::FragmentSpread(spread) => {
                    if !self.included(&spread.directives) {
                        continue;
                    }
                    let name = spread.fragment_name;
                    self.used_fragments.insert(name);
                    let Some(fragment) = self.fragments.get(name).copied() else {
                        self.errors.push(
                            GqlError::new(format!("Fragment {name} was used, but not defined"))
                                .at(spread.position)
                                .path(path.iter().map(|p| json!(p)).collect())
                                .extensions(
                                    json!({"code": "useAndDefineFragment", "fragmentName": name}),
                                ),
                        );
                        continue;
                    };
                    if self.spreading.contains(&name) {
                        self.errors.push(
                            GqlError::new(format!("Fragment {name} contains an infinite loop"))
                                .at(spread.position)
                                .extensions(json!({"code": "infiniteLoop", "fragmentName": name})),
                        );
                        continue;
                    }
                    let TypeCondition::On(condition) = fragment.type_condition;
                    path.push(format!("... {name}"));
                    if let Some((scope, on)) =
                        self.spread_into(scope, on, Some(condition), spread.position, path)
                    {
                        self.spreading.push(name);
                        self.selections(scope, on, &fragment.selection_set, path, out);
                        self.spreading.pop();
                    }
                    path.pop();
                }
            }
        }
    }

    /// The (scope, on) inside a fragment on `condition` spread in `scope`, or None (an
    /// error) when it cannot apply there.
    fn spread_into(
        &mut self,
        scope: &'static str,
        on: Option<&'static str>,
        condition: Option<&'q str>,
        position: Pos,
        path: &[String],
    ) -> Option<(&'static str, Option<&'static str>)> {
        let Some(condition) = condition else {
            return Some((scope, on));
        };
        let Some(target) = static_type(condition) else {
            self.errors.push(
                GqlError::new(format!(
                    "No such type {condition}, so it can't be a fragment condition"
                ))
                .at(position)
                .path(path.iter().map(|p| json!(p)).collect())
                .extensions(json!({"code": "undefinedType", "typeName": condition})),
            );
            return None;
        };
        if target == scope || schema::possible_types(target).contains(&scope) {
            return Some((target, on));
        }
        if schema::possible_types(scope).contains(&target) {
            return Some((target, Some(target)));
        }
        self.errors.push(
            GqlError::new(format!(
                "Fragment on {target} can't be spread inside {scope}"
            ))
            .at(position)
            .path(path.iter().map(|p| json!(p)).collect())
            .extensions(
                json!({"code": "cannotSpreadFragment", "typeName": target, "parentName": scope}),
            ),
        );
        None
    }

    fn field(
        &mut self,
        scope: &'static str,
        on: Option<&'static str>,
        field: &'q graphql_parser::query::Field<'q, &'q str>,
        path: &mut Vec<String>,
    ) -> Option<Planned<'q>> {
        let key = field.alias.unwrap_or(field.name);
        let json_path = || path.iter().map(|p| json!(p)).collect::<Vec<Value>>();
        if field.name == "__typename" {
            return Some(Planned {
                key,
                name: field.name,
                def: None,
                on,
                args: BTreeMap::new(),
                children: Vec::new(),
                pos: field.position,
            });
        }
        let Some(def) = schema::fields(scope)
            .unwrap_or(&[])
            .iter()
            .find(|d| d.name == field.name)
        else {
            self.errors.push(
                GqlError::new(format!(
                    "Field '{}' doesn't exist on type '{scope}'",
                    field.name
                ))
                .at(field.position)
                .path(json_path())
                .extensions(
                    json!({"code": "undefinedField", "typeName": scope, "fieldName": field.name}),
                ),
            );
            return None;
        };
        let args = self.arguments(def, field, path);
        let leaf = schema::is_leaf(def.ty);
        let items = &field.selection_set.items;
        if leaf && !items.is_empty() {
            let kind = if schema::enum_values(def.ty).is_some() {
                "enums"
            } else {
                "scalars"
            };
            let names: Vec<&str> = items
                .iter()
                .map(|s| match s {
                    Selection::Field(f) => f.name,
                    _ => "...",
                })
                .collect();
            self.errors.push(
                GqlError::new(format!(
                    "Selections can't be made on {kind} (field '{}' returns {} but has selections [{}])",
                    field.name,
                    def.ty,
                    names.join(", ")
                ))
                .at(field.position)
                .path(json_path())
                .extensions(json!({"code": "selectionMismatch", "nodeName": format!("field '{}'", field.name), "typeName": def.ty})),
            );
            return None;
        }
        if !leaf && items.is_empty() {
            self.errors.push(
                GqlError::new(format!(
                    "Field must have selections (field '{}' returns {} but has no selections. Did you mean '{} {{ ... }}'?)",
                    field.name, def.ty, field.name
                ))
                .at(field.position)
                .path(json_path())
                .extensions(json!({"code": "selectionMismatch", "nodeName": format!("field '{}'", field.name), "typeName": def.ty})),
            );
            return None;
        }
        let mut children = Vec::new();
        if !leaf {
            self.selections(def.ty, None, &field.selection_set, path, &mut children);
        }
        Some(Planned {
            key,
            name: field.name,
            def: Some(def),
            on,
            args: args?,
            children,
            pos: field.position,
        })
    }

    /// The arguments of `field`, checked and coerced; None after an error.
    fn arguments(
        &mut self,
        def: &'static FieldDef,
        field: &'q graphql_parser::query::Field<'q, &'q str>,
        path: &[String],
    ) -> Option<BTreeMap<&'static str, Value>> {
        let mut args = BTreeMap::new();
        let mut ok = true;
        for (name, literal) in &field.arguments {
            let mut arg_path: Vec<Value> = path.iter().map(|p| json!(p)).collect();
            arg_path.push(json!(name));
            let Some(arg) = def.args.iter().find(|a| a.name == *name) else {
                self.errors.push(
                    GqlError::new(format!(
                        "Field '{}' doesn't accept argument '{name}'",
                        def.name
                    ))
                    .at(field.position)
                    .path(arg_path)
                    .extensions(json!({"code": "argumentNotAccepted", "name": def.name, "typeName": "Field", "argumentName": name})),
                );
                ok = false;
                continue;
            };
            if let Literal::Variable(var) = literal {
                match self.variable(var, arg.ty, field.position, &arg_path, name) {
                    Ok(Some(value)) if !value.is_null() => {
                        args.insert(arg.name, value);
                    }
                    Ok(_) => {}
                    Err(()) => ok = false,
                }
                continue;
            }
            match self.literal(literal, arg.ty) {
                Some(value) => {
                    if !value.is_null() {
                        args.insert(arg.name, value);
                    }
                }
                None => {
                    self.errors.push(
                        GqlError::new(format!(
                            "Argument '{name}' on Field '{}' has an invalid value ({literal}). Expected type '{}'.",
                            def.name, arg.ty
                        ))
                        .at(field.position)
                        .path(arg_path)
                        .extensions(json!({"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": name})),
                    );
                    ok = false;
                }
            }
        }
        let missing: Vec<&str> = def
            .args
            .iter()
            .filter(|a| a.ty.non_null && !field.arguments.iter().any(|(n, _)| *n == a.name))
            .map(|a| a.name)
            .collect();
        if !missing.is_empty() {
            let list = missing.join(", ");
            self.errors.push(
                GqlError::new(format!(
                    "Field '{}' is missing required arguments: {list}",
                    def.name
                ))
                .at(field.position)
                .path(path.iter().map(|p| json!(p)).collect())
                .extensions(json!({"code": "missingRequiredArguments", "className": "Field", "name": def.name, "arguments": list})),
            );
            ok = false;
        }
        ok.then_some(args)
    }

    /// The value of variable `name` used for an argument of type `ty`: checks that it is
    /// declared and of a compatible type.
    fn variable(
        &mut self,
        name: &'q str,
        ty: TypeRef,
        position: Pos,
        path: &[Value],
        argument: &str,
    ) -> Result<Option<Value>, ()> {
        self.used_vars.insert(name);
        let Some(def) = self.var_defs.get(name).copied() else {
            let message = format!(
                "Variable ${name} is used by {} but not declared",
                self.describe()
            );
            self.errors.push(
                GqlError::new(message)
                    .at(position)
                    .path(path.to_vec())
                    .extensions(json!({"code": "variableNotDefined", "variableName": name})),
            );
            return Err(());
        };
        let (named, list, non_null) = shape(&def.var_type);
        if named != ty.name || list != ty.list {
            self.errors.push(
                GqlError::new(format!(
                    "Type mismatch on variable ${name} and argument {argument} ({} / {ty})",
                    def.var_type
                ))
                .at(position)
                .path(path.to_vec())
                .extensions(json!({"code": "variableMismatch", "variableName": name, "typeName": def.var_type.to_string(), "argumentName": argument, "errorMessage": "Type mismatch"})),
            );
            return Err(());
        }
        if ty.non_null && !non_null && def.default_value.is_none() {
            self.errors.push(
                GqlError::new(format!(
                    "Nullability mismatch on variable ${name} and argument {argument} ({} / {ty})",
                    def.var_type
                ))
                .at(position)
                .path(path.to_vec())
                .extensions(json!({"code": "variableMismatch", "variableName": name, "typeName": def.var_type.to_string(), "argumentName": argument, "errorMessage": "Nullability mismatch"})),
            );
            return Err(());
        }
        Ok(self.vars.get(name).cloned())
    }

    /// A literal argument value checked against `ty` (variables inside lists and input
    /// objects are taken as given); None when it does not fit.
    fn literal(&mut self, literal: &'q Literal<'q, &'q str>, ty: TypeRef) -> Option<Value> {
        if let Literal::Variable(name) = literal {
            self.used_vars.insert(name);
            return Some(self.vars.get(name).cloned().unwrap_or(Value::Null));
        }
        if let Literal::Null = literal {
            return (!ty.non_null).then_some(Value::Null);
        }
        if ty.list {
            let item = TypeRef {
                list: false,
                non_null: true,
                ..ty
            };
            return match literal {
                Literal::List(items) => items
                    .iter()
                    .map(|i| self.literal(i, item))
                    .collect::<Option<Vec<Value>>>()
                    .map(Value::Array),
                single => self.literal(single, item).map(|v| Value::Array(vec![v])),
            };
        }
        match (ty.name, literal) {
            ("Int", Literal::Int(n)) => n
                .as_i64()
                .filter(|n| i32::try_from(*n).is_ok())
                .map(Value::from),
            ("Float", Literal::Int(n)) => n.as_i64().map(Value::from),
            ("Float", Literal::Float(f)) => Some(json!(f)),
            ("String" | "DateTime" | "URI", Literal::String(s)) => Some(json!(s)),
            ("ID", Literal::String(s)) => Some(json!(s)),
            ("ID", Literal::Int(n)) => n.as_i64().map(|n| json!(n.to_string())),
            ("Boolean", Literal::Boolean(b)) => Some(json!(b)),
            (name, Literal::Enum(value)) => schema::enum_values(name)
                .filter(|values| values.contains(value))
                .map(|_| json!(value)),
            (name, Literal::Object(fields)) => {
                let inputs = schema::input_fields(name)?;
                let mut out = Map::new();
                for (key, value) in fields {
                    let input = inputs.iter().find(|i| i.name == *key)?;
                    let value = self.literal(value, input.ty)?;
                    out.insert((*key).to_owned(), value);
                }
                let complete = inputs
                    .iter()
                    .all(|i| !i.ty.non_null || out.get(i.name).is_some_and(|v| !v.is_null()));
                complete.then_some(Value::Object(out))
            }
            _ => None,
        }
    }
}

/// The `'static` name of a known type.
fn static_type(name: &str) -> Option<&'static str> {
    schema::OBJECTS
        .into_iter()
        .chain(schema::SCALARS)
        .chain(schema::ENUMS)
        .find(|t| *t == name)
}

/// A default value (no variables) as JSON.
fn constant<'a>(literal: &Literal<'a, &'a str>) -> Value {
    match literal {
        Literal::Variable(_) | Literal::Null => Value::Null,
        Literal::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        Literal::Float(f) => json!(f),
        Literal::String(s) => json!(s),
        Literal::Boolean(b) => json!(b),
        Literal::Enum(e) => json!(e),
        Literal::List(items) => Value::Array(items.iter().map(constant).collect()),
        Literal::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), constant(v)))
                .collect(),
        ),
    }
}

/// A variable's JSON value coerced to its declared type, or why it cannot be.
fn coerce<'a>(value: &Value, ty: &Type<'a, &'a str>) -> Result<Value, String> {
    match ty {
        Type::NonNullType(inner) => match value {
            Value::Null => Err("Expected value to not be null".into()),
            _ => coerce(value, inner),
        },
        Type::ListType(inner) => match value {
            Value::Null => Ok(Value::Null),
            Value::Array(items) => items
                .iter()
                .map(|i| coerce(i, inner))
                .collect::<Result<Vec<Value>, String>>()
                .map(Value::Array),
            single => coerce(single, inner).map(|v| Value::Array(vec![v])),
        },
        Type::NamedType(_) if value.is_null() => Ok(Value::Null),
        Type::NamedType(name) => coerce_named(value, name),
    }
}

fn coerce_named(value: &Value, name: &str) -> Result<Value, String> {
    let fail = || format!("Could not coerce value {value} to {name}");
    match name {
        "Int" => value
            .as_i64()
            .filter(|n| i32::try_from(*n).is_ok())
            .map(Value::from)
            .ok_or_else(fail),
        "Float" => value.as_f64().map(|f| json!(f)).ok_or_else(fail),
        "String" | "DateTime" | "URI" => value.as_str().map(|s| json!(s)).ok_or_else(fail),
        "ID" => match value {
            Value::String(s) => Ok(json!(s)),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(json!(n.to_string())),
            _ => Err(fail()),
        },
        "Boolean" => value.as_bool().map(Value::from).ok_or_else(fail),
        _ => {
            if let Some(values) = schema::enum_values(name) {
                return match value.as_str() {
                    Some(v) if values.contains(&v) => Ok(json!(v)),
                    _ => Err(format!(
                        "Expected {value} to be one of: {}",
                        values.join(", ")
                    )),
                };
            }
            let Some(inputs) = schema::input_fields(name) else {
                return Err(fail());
            };
            let Some(object) = value.as_object() else {
                return Err(fail());
            };
            let mut out = Map::new();
            for (key, field_value) in object {
                let Some(input) = inputs.iter().find(|i| i.name == key) else {
                    return Err(format!("Field is not defined on {name}: {key}"));
                };
                let named = Type::NamedType(input.ty.name);
                let coerced = coerce(field_value, &named)?;
                out.insert(key.clone(), coerced);
            }
            for input in inputs.iter().filter(|i| i.ty.non_null) {
                if out.get(input.name).is_none_or(Value::is_null) {
                    return Err(format!(
                        "Expected value to not be null at {name}.{}",
                        input.name
                    ));
                }
            }
            Ok(Value::Object(out))
        }
    }
}

/// What a query costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Price {
    pub(crate) cost: u32,
    pub(crate) nodes: u64,
}

struct Pricing {
    requests: u64,
    nodes: u64,
    limit: u64,
    /// The first connection at which the running node count passed the limit, and it.
    exceeded: Option<(String, u64)>,
    errors: Vec<GqlError>,
}

/// Checks every connection's `first`/`last` and prices the query (see the module doc):
/// errors for pagination or more nodes than `node_limit`.
pub(crate) fn price(fields: &[Planned<'_>], node_limit: u64) -> Result<Price, Vec<GqlError>> {
    let mut pricing = Pricing {
        requests: 0,
        nodes: 0,
        limit: node_limit,
        exceeded: None,
        errors: Vec::new(),
    };
    walk(&mut pricing, fields, 1, &mut Vec::new());
    if !pricing.errors.is_empty() {
        return Err(pricing.errors);
    }
    if let Some((connection, nodes)) = pricing.exceeded {
        return Err(vec![GqlError::new(format!(
            "By the time this query traverses to the {connection} connection, it is requesting up to {} possible nodes which exceeds the maximum limit of {}.",
            grouped(nodes),
            grouped(node_limit)
        ))
        .kind("MAX_NODE_LIMIT_EXCEEDED")]);
    }
    let cost = pricing.requests.saturating_add(50) / 100;
    Ok(Price {
        cost: u32::try_from(cost).unwrap_or(u32::MAX).max(1),
        nodes: pricing.nodes,
    })
}

fn walk(pricing: &mut Pricing, fields: &[Planned<'_>], multiplier: u64, path: &mut Vec<Value>) {
    for field in fields {
        path.push(json!(field.key));
        let connection = field.def.is_some_and(FieldDef::connection);
        let inner = if connection {
            match page_size(field, path) {
                Ok(size) => {
                    pricing.requests = pricing.requests.saturating_add(multiplier);
                    let nodes = multiplier.saturating_mul(size);
                    pricing.nodes = pricing.nodes.saturating_add(nodes);
                    if pricing.nodes > pricing.limit && pricing.exceeded.is_none() {
                        pricing.exceeded = Some((field.name.to_owned(), pricing.nodes));
                    }
                    multiplier.saturating_mul(size)
                }
                Err(error) => {
                    pricing.errors.push(error);
                    multiplier
                }
            }
        } else {
            multiplier
        };
        walk(pricing, &field.children, inner, path);
        path.pop();
    }
}

/// The records a connection asks for (`first` or `last`), or GitHub's pagination error.
fn page_size(field: &Planned<'_>, path: &[Value]) -> Result<u64, GqlError> {
    let error = |message: String| GqlError::new(message).at(field.pos).path(path.to_vec());
    let name = field.name;
    let (bound, value) = match (field.int("first"), field.int("last")) {
        (Some(first), None) => ("first", first),
        (None, Some(last)) => ("last", last),
        (None, None) => {
            return Err(error(format!(
                "You must provide a `first` or `last` value to properly paginate the `{name}` connection."
            ))
            .kind("MISSING_PAGINATION_BOUNDARIES"));
        }
        (Some(_), Some(_)) => {
            return Err(error(format!(
                "Passing both `first` and `last` to paginate the `{name}` connection is not supported."
            )));
        }
    };
    if value > MAX_PAGE {
        return Err(error(format!(
            "Requesting {value} records on the `{name}` connection exceeds the `{bound}` limit of {MAX_PAGE} records."
        ))
        .kind("EXCESSIVE_PAGINATION"));
    }
    if value < 0 {
        return Err(error(format!(
            "`{bound}` on the `{name}` connection cannot be less than zero."
        )));
    }
    Ok(value.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(query: &str, variables: Value) -> Result<Price, Vec<String>> {
        let doc = graphql_parser::parse_query::<&str>(query).expect("parses");
        let variables = variables.as_object().cloned().unwrap_or_default();
        let messages = |errors: Vec<GqlError>| errors.into_iter().map(|e| e.message).collect();
        let fields = plan(&doc, None, &variables).map_err(messages)?;
        price(&fields, 500_000).map_err(messages)
    }

    const PAGE: &str = "query($owner: String!, $name: String!, $first: Int!, $inner: Int!) {
      rateLimit { cost }
      repository(owner: $owner, name: $name) {
        pullRequests(first: $first, orderBy: {field: UPDATED_AT, direction: DESC}) {
          nodes {
            commits(first: $inner) { nodes { commit { oid } } }
            reviews(first: $inner) { nodes { state } }
            comments(first: $inner) { nodes { body } }
          }
        }
      }
    }";

    #[test]
    fn prices_like_github() {
        let vars = |first: i64, inner: i64| json!({"owner": "acme", "name": "repo-01", "first": first, "inner": inner});
        assert_eq!(
            planned(PAGE, vars(100, 100)),
            Ok(Price {
                cost: 3,
                nodes: 30_100
            })
        );
        assert_eq!(
            planned(PAGE, vars(20, 20)),
            Ok(Price {
                cost: 1,
                nodes: 20 + 3 * 400
            })
        );
        // GitHub's documented example: 50 repositories × (20 pull requests × 10 comments …)
        let doc = "{ a: repository(owner: \"o\", name: \"n\") { pullRequests(first: 50) { nodes { comments(first: 10) { totalCount } } } } }";
        assert_eq!(
            planned(doc, json!({})),
            Ok(Price {
                cost: 1,
                nodes: 550
            })
        );
        let errors = planned(PAGE, vars(101, 1)).expect_err("too many");
        assert_eq!(
            errors,
            [
                "Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records."
            ]
        );
    }

    #[test]
    fn validation_errors() {
        let errors = |q: &str, v: Value| planned(q, v).expect_err(q);
        assert_eq!(
            errors(
                "{ repository(owner: \"o\", name: \"n\") { nope } }",
                json!({})
            ),
            ["Field 'nope' doesn't exist on type 'Repository'"]
        );
        assert_eq!(
            errors("{ repository(owner: \"o\") { id } }", json!({})),
            ["Field 'repository' is missing required arguments: name"]
        );
        assert_eq!(
            errors(
                "{ repository(owner: \"o\", name: \"n\", x: 1) { id } }",
                json!({})
            ),
            ["Field 'repository' doesn't accept argument 'x'"]
        );
        assert_eq!(
            errors("{ repository(owner: 1, name: \"n\") { id } }", json!({})),
            [
                "Argument 'owner' on Field 'repository' has an invalid value (1). Expected type 'String!'."
            ]
        );
        assert_eq!(
            errors(
                "query($n: Int!) { repository(owner: \"o\", name: $n) { id } }",
                json!({"n": 1})
            ),
            ["Type mismatch on variable $n and argument name (Int! / String!)"]
        );
        assert_eq!(
            errors(
                "query($n: String!) { repository(owner: \"o\", name: \"n\") { id } }",
                json!({"n": "x"})
            ),
            ["Variable $n is declared by anonymous query but not used"]
        );
        assert_eq!(
            errors(
                "query Q($n: String!) { repository(owner: \"o\", name: $n) { id } }",
                json!({})
            ),
            ["Variable $n of type String! was provided invalid value"]
        );
        assert_eq!(
            errors(
                "{ repository(owner: \"o\", name: \"n\") { pullRequests(first: 1) { totalCount { x } } } }",
                json!({})
            ),
            [
                "Selections can't be made on scalars (field 'totalCount' returns Int but has selections [x])"
            ]
        );
        assert_eq!(
            errors(
                "{ repository(owner: \"o\", name: \"n\") { pullRequests { totalCount } } }",
                json!({})
            ),
            [
                "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection."
            ]
        );
        assert_eq!(
            errors("{ viewer { ... on Bot { login } } }", json!({})),
            ["Fragment on Bot can't be spread inside User"]
        );
        assert_eq!(
            errors(
                "{ viewer { login } } fragment F on User { login }",
                json!({})
            ),
            ["Fragment F was defined, but not used"]
        );
        // fragments, inline fragments, directives and __typename plan fine
        let ok = "query($skip: Boolean!) { viewer { ...F } repository(owner: \"o\", name: \"n\") {
            pullRequest(number: 1) { author { __typename ... on User { databaseId } ... on Actor { login } } title @skip(if: $skip) } } }
            fragment F on User { login }";
        assert!(planned(ok, json!({"skip": true})).is_ok());
    }
}
