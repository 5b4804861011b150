//! Health of custom resources decided by CEL expressions (Kustomization `spec.healthCheckExprs`),
//! as Flux's `runtime/cel` status evaluator does (RFC 0009).
//!
//! The object's top-level fields (`apiVersion`, `kind`, `metadata`, `spec`, `status`, and any
//! other) are the expressions' variables. An object whose `status.observedGeneration` differs
//! from `metadata.generation` is InProgress whatever the expressions say; otherwise `inProgress`,
//! `failed` and `current` are tried in that order and the first that is true decides; when none
//! is true the object is InProgress.

use std::fmt;

use cel_interpreter::{Context, Program, Value as CelValue};
use serde_json::Value;

use crate::{Error, Status, StatusResult, fields};

/// One `healthCheckExprs` entry, as written in the Kustomization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthCheckExpr {
    pub api_version: String,
    pub kind: String,
    pub current: String,
    pub in_progress: Option<String>,
    pub failed: Option<String>,
}

/// A CEL expression that failed to parse, or an entry without its required `current`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to create custom status evaluator for healthchecks[{index}]: {message}")]
pub struct ConfigError {
    /// Position of the entry in `healthCheckExprs`.
    pub index: usize,
    pub message: String,
}

/// A parsed expression with its source, for error messages.
struct Expression {
    source: String,
    program: Program,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Expression {
    fn parse(which: &str, source: &str) -> Result<Expression, String> {
        let fail = |detail: &str| {
            format!(
                "failed to parse the expression {which}: failed to parse the CEL expression '{source}': {}",
                one_line(detail)
            )
        };
        // The parser panics on some malformed input; an expression from a user's spec must
        // fail the Kustomization, never the controller.
        let program = std::panic::catch_unwind(|| Program::compile(source))
            .map_err(|_| fail("syntax error"))?
            .map_err(|e| fail(&e.to_string()))?;
        Ok(Expression {
            source: source.to_string(),
            program,
        })
    }

    fn evaluate(&self, ctx: &Context) -> Result<bool, String> {
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.program.execute(ctx)))
                .map_err(|_| {
                    format!(
                        "failed to evaluate the CEL expression '{}': interpreter panicked",
                        self.source
                    )
                })?;
        match result {
            Ok(CelValue::Bool(b)) => Ok(b),
            Ok(_) => Err(format!(
                "failed to evaluate CEL expression as boolean: '{}'",
                self.source
            )),
            Err(e) => Err(format!(
                "failed to evaluate the CEL expression '{}': {e}",
                self.source
            )),
        }
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The expressions of one kind (Flux's `StatusEvaluator`).
#[derive(Debug)]
pub struct StatusEvaluator {
    current: Expression,
    failed: Option<Expression>,
    in_progress: Option<Expression>,
}

impl StatusEvaluator {
    /// Parses the expressions; `current` is required, empty optional ones are ignored.
    pub fn new(
        current: &str,
        in_progress: Option<&str>,
        failed: Option<&str>,
    ) -> Result<StatusEvaluator, String> {
        if current.is_empty() {
            return Err("expression Current not specified".to_string());
        }
        let optional = |which: &str, source: Option<&str>| {
            source
                .filter(|s| !s.is_empty())
                .map(|s| Expression::parse(which, s))
                .transpose()
        };
        Ok(StatusEvaluator {
            current: Expression::parse("Current", current)?,
            failed: optional("Failed", failed)?,
            in_progress: optional("InProgress", in_progress)?,
        })
    }

    /// The status of `obj` by these expressions. An expression that cannot be evaluated
    /// (a field the object does not have yet, a non-boolean result) is an error, which health
    /// checks treat as a status not known yet.
    pub fn evaluate(&self, obj: &Value) -> Result<StatusResult, Error> {
        let Some(map) = obj.as_object() else {
            return Err(Error::NotAnObject);
        };
        let observed = fields::nested_i64(obj, &["status", "observedGeneration"])?;
        let generation = fields::nested_i64(obj, &["metadata", "generation"])?;
        if let (Some(observed), Some(generation)) = (observed, generation)
            && observed != generation
        {
            return Ok(StatusResult::plain(
                Status::InProgress,
                format!("observed generation {observed} is not generation {generation}"),
            ));
        }
        let mut ctx = Context::default();
        for (name, value) in map {
            let value = cel_interpreter::to_value(value)
                .map_err(|e| Error::Expression(format!("field {name}: {e}")))?;
            ctx.add_variable_from_value(name.as_str(), value);
        }
        let order = [
            (self.in_progress.as_ref(), Status::InProgress),
            (self.failed.as_ref(), Status::Failed),
            (Some(&self.current), Status::Current),
        ];
        for (expr, status) in order {
            let Some(expr) = expr else { continue };
            if expr.evaluate(&ctx).map_err(Error::Expression)? {
                return Ok(StatusResult::plain(
                    status,
                    format!("healthCheckExprs: {}", expr.source),
                ));
            }
        }
        Ok(StatusResult::plain(
            Status::InProgress,
            "healthCheckExprs: no expression is true",
        ))
    }
}

/// The `healthCheckExprs` of a Kustomization, by group and kind.
#[derive(Debug, Default)]
pub struct CustomHealthChecks {
    by_kind: Vec<(String, String, StatusEvaluator)>,
}

impl CustomHealthChecks {
    /// Parses every entry. Only the first entry of a group and kind counts, as in Flux; the
    /// version in `apiVersion` is not compared.
    pub fn new<'a>(
        checks: impl IntoIterator<Item = &'a HealthCheckExpr>,
    ) -> Result<CustomHealthChecks, ConfigError> {
        let mut by_kind: Vec<(String, String, StatusEvaluator)> = Vec::new();
        for (index, check) in checks.into_iter().enumerate() {
            let group = group_of(&check.api_version);
            if by_kind
                .iter()
                .any(|(g, k, _)| g == group && *k == check.kind)
            {
                continue;
            }
            let evaluator = StatusEvaluator::new(
                &check.current,
                check.in_progress.as_deref(),
                check.failed.as_deref(),
            )
            .map_err(|message| ConfigError { index, message })?;
            by_kind.push((group.to_string(), check.kind.clone(), evaluator));
        }
        Ok(CustomHealthChecks { by_kind })
    }

    pub fn is_empty(&self) -> bool {
        self.by_kind.is_empty()
    }

    /// The evaluator for objects of `group` and `kind`, if one was given.
    pub fn evaluator(&self, group: &str, kind: &str) -> Option<&StatusEvaluator> {
        self.by_kind
            .iter()
            .find(|(g, k, _)| g == group && k == kind)
            .map(|(_, _, e)| e)
    }

    /// The status of `obj`: by its kind's expressions when there are some, else by
    /// [`crate::compute_flux`].
    pub fn compute(&self, obj: &Value) -> Result<StatusResult, Error> {
        let (group, kind) = crate::group_kind(obj);
        match self.evaluator(group, kind) {
            Some(evaluator) => evaluator.evaluate(obj),
            None => crate::compute_flux(obj),
        }
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CURRENT: &str =
        "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')";
    const FAILED: &str =
        "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')";

    fn widget(generation: i64, observed: i64, ready: &str) -> Value {
        json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default", "generation": generation},
            "spec": {"size": 3},
            "status": {
                "observedGeneration": observed,
                "conditions": [{"type": "Ready", "status": ready, "reason": "R"}],
            },
        })
    }

    fn checks(entries: &[HealthCheckExpr]) -> CustomHealthChecks {
        CustomHealthChecks::new(entries).expect("valid expressions")
    }

    fn entry(current: &str, in_progress: Option<&str>, failed: Option<&str>) -> HealthCheckExpr {
        HealthCheckExpr {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            current: current.into(),
            in_progress: in_progress.map(String::from),
            failed: failed.map(String::from),
        }
    }

    fn status(c: &CustomHealthChecks, obj: &Value) -> Status {
        c.compute(obj).expect("evaluated").status
    }

    #[test]
    fn current_failed_and_neither() {
        let c = checks(&[entry(CURRENT, None, Some(FAILED))]);
        assert_eq!(status(&c, &widget(1, 1, "True")), Status::Current);
        assert_eq!(status(&c, &widget(1, 1, "False")), Status::Failed);
        // Neither expression holds: still in progress, not failed.
        assert_eq!(status(&c, &widget(1, 1, "Unknown")), Status::InProgress);
    }

    #[test]
    fn in_progress_is_checked_before_failed_and_current() {
        let c = checks(&[entry("true", Some("spec.size > 2"), Some("true"))]);
        assert_eq!(status(&c, &widget(1, 1, "True")), Status::InProgress);
        let c = checks(&[entry("true", Some("spec.size > 5"), Some("true"))]);
        assert_eq!(status(&c, &widget(1, 1, "True")), Status::Failed);
    }

    #[test]
    fn stale_observed_generation_is_in_progress_whatever_the_expressions() {
        let c = checks(&[entry("true", None, None)]);
        assert_eq!(status(&c, &widget(2, 1, "True")), Status::InProgress);
        let mut no_observed = widget(2, 1, "True");
        no_observed["status"]
            .as_object_mut()
            .unwrap()
            .remove("observedGeneration");
        assert_eq!(status(&c, &no_observed), Status::Current);
    }

    #[test]
    fn metadata_and_other_top_level_fields_are_variables() {
        let c = checks(&[entry(
            "metadata.name == 'w' && kind == 'Widget' && apiVersion.startsWith('example.com/')",
            None,
            None,
        )]);
        assert_eq!(status(&c, &widget(1, 1, "False")), Status::Current);
    }

    #[test]
    fn missing_fields_and_non_boolean_results_are_errors_not_verdicts() {
        let c = checks(&[entry("status.phase == 'Ready'", None, None)]);
        assert!(matches!(
            c.compute(&widget(1, 1, "True")),
            Err(Error::Expression(_))
        ));
        let c = checks(&[entry("spec.size", None, None)]);
        let err = c.compute(&widget(1, 1, "True")).unwrap_err();
        assert!(err.to_string().contains("as boolean"), "{err}");
        // has() guards a field that is not there yet.
        let c = checks(&[entry(
            "has(status.phase) && status.phase == 'Ready'",
            None,
            None,
        )]);
        assert_eq!(status(&c, &widget(1, 1, "True")), Status::InProgress);
    }

    #[test]
    fn cheatsheet_style_expressions() {
        let obj = widget(1, 1, "True");
        for (expr, want) in [
            (
                "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')",
                Status::Current,
            ),
            (
                "has(status.conditions) && size(status.conditions) == 1",
                Status::Current,
            ),
            (
                "status.observedGeneration == metadata.generation && spec.size >= 3.0",
                Status::Current,
            ),
            (
                "status.conditions.map(e, e.type) == ['Ready'] && metadata.name in ['w', 'x']",
                Status::Current,
            ),
            (
                "status.conditions.exists_one(e, e.reason == 'Nope')",
                Status::InProgress,
            ),
        ] {
            let c = checks(&[entry(expr, None, None)]);
            assert_eq!(status(&c, &obj), want, "{expr}");
        }
    }

    #[test]
    fn other_kinds_keep_the_kstatus_rules() {
        let c = checks(&[entry("false", None, None)]);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(status(&c, &cm), Status::Current);
        // The same kind in another group is not matched.
        let mut other = widget(1, 1, "True");
        other["apiVersion"] = json!("other.example.com/v1");
        assert_eq!(status(&c, &other), Status::Current);
        // The version is not compared.
        let mut v2 = widget(1, 1, "True");
        v2["apiVersion"] = json!("example.com/v2");
        assert_eq!(status(&c, &v2), Status::InProgress);
    }

    #[test]
    fn the_first_entry_of_a_kind_wins() {
        let c = checks(&[entry("false", None, None), entry("true", None, None)]);
        assert_eq!(status(&c, &widget(1, 1, "True")), Status::InProgress);
    }

    #[test]
    fn later_entries_of_a_kind_are_not_even_parsed() {
        let c = CustomHealthChecks::new(&[
            entry(CURRENT, None, None),
            entry(CURRENT, None, Some("status.conditions.filter(e, ")),
        ]);
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn invalid_and_missing_expressions_are_configuration_errors() {
        let mut other = entry(CURRENT, None, Some("status.conditions.filter(e, "));
        other.kind = "Gadget".into();
        let err = CustomHealthChecks::new(&[entry(CURRENT, None, None), other]).unwrap_err();
        assert_eq!(err.index, 1);
        let text = err.to_string();
        assert!(
            text.starts_with(
                "failed to create custom status evaluator for healthchecks[1]: failed to parse the expression Failed: failed to parse the CEL expression 'status.conditions.filter(e, ': "
            ),
            "{text}"
        );
        let err = CustomHealthChecks::new(&[entry("status.phase ==", None, None)]).unwrap_err();
        assert!(
            err.to_string().contains(
                "failed to parse the expression Current: failed to parse the CEL expression 'status.phase ==': "
            ),
            "{err}"
        );
        let err = CustomHealthChecks::new(&[entry("", None, None)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to create custom status evaluator for healthchecks[0]: expression Current not specified"
        );
    }
}
