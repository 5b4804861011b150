//! Server-side apply and field ownership recorded in `metadata.managedFields`, following
//! structured-merge-diff's `merge.Updater` and the API server's field manager.
//!
//! Not modelled: the cap of ten update managers (older ones folded into "ancient-changes")
//! and conversion of field sets between API versions.

mod field_set;
mod walk;

pub use field_set::{FieldSet, FieldsV1Error, Path, PathElement, path_string};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, Time};
use serde_json::Value;

use crate::merge_schema::{MergeSchema, Node};
use walk::{Comparison, compare, merge, remove_path};

/// The manager name the API server gives fields that existed before the first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// The result of a server-side apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The object after the apply, without `metadata.managedFields` (set it from
    /// `managed_fields`).
    pub object: Value,
    /// The new managed fields of the object.
    pub managed_fields: Vec<ManagedFieldsEntry>,
}

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// The manager as the API server prints it: `"kubectl"`, or for updaters
    /// `"kubectl-edit" using apps/v1`.
    pub described: String,
    /// The field path as structured-merge-diff prints it, e.g. `.spec.replicas`.
    pub path: String,
}

/// Conflicts that make a non-forced apply fail with 409 Conflict. The message is the API
/// server's; each conflict is also a `FieldManagerConflict` status cause with message
/// `conflict with <described>` and field `path`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", conflicts_message(.conflicts))]
pub struct ApplyConflicts {
    /// Each conflicting field.
    pub conflicts: Vec<Conflict>,
}

fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.described, one.path
        );
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.described.as_str()).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for manager in managers {
        lines.push(format!("conflicts with {manager}:"));
        for c in conflicts.iter().filter(|c| c.described == manager) {
            lines.push(format!("- {}", c.path));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Why a server-side apply failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// Fields owned by other managers would change; retry with force to take them.
    #[error(transparent)]
    Conflicts(#[from] ApplyConflicts),
    /// The configuration is not an object or is otherwise unusable.
    #[error("invalid apply configuration: {0}")]
    Invalid(String),
}

/// Settings beyond the manager itself.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// The subresource the request went to (`status`), recorded in the entry.
    pub subresource: Option<&'a str>,
    /// The merge schema of the kind (built-in or from the CRD); deduced when `None`.
    pub schema: Option<&'a MergeSchema>,
    /// Paths the endpoint resets and nobody owns through it, e.g. `status` for the main
    /// resource of a kind with a status subresource, `spec` for its `/status` endpoint.
    pub reset_paths: Vec<Path>,
}

impl<'a> Options<'a> {
    /// Options for the main endpoint of a kind whose status is a subresource.
    pub fn main_resource_with_status(schema: Option<&'a MergeSchema>) -> Options<'a> {
        Options {
            subresource: None,
            schema,
            reset_paths: vec![vec![PathElement::Field("status".into())]],
        }
    }

    /// Options for the `/status` endpoint: only status (and metadata) changes are kept.
    pub fn status_subresource(schema: Option<&'a MergeSchema>) -> Options<'a> {
        Options {
            subresource: Some("status"),
            schema,
            reset_paths: vec![vec![PathElement::Field("spec".into())]],
        }
    }
}

/// What is left out of every manager's set: the fields the API server never tracks (exact
/// paths, as its `stripMeta`) and the endpoint's reset paths with everything below them.
struct Ignored {
    exact: FieldSet,
    prefixes: Vec<Path>,
}

impl Ignored {
    fn new(options: &Options<'_>) -> Ignored {
        Ignored {
            exact: untracked_paths().into_iter().collect(),
            prefixes: options.reset_paths.clone(),
        }
    }

    fn strip(&self, set: FieldSet) -> FieldSet {
        set.difference(&self.exact).without_prefixes(&self.prefixes)
    }
}

/// Fields the API server never tracks in managed fields.
fn untracked_paths() -> Vec<Path> {
    let f = |s: &str| PathElement::Field(s.into());
    let mut paths = vec![vec![f("apiVersion")], vec![f("kind")], vec![f("metadata")]];
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        paths.push(vec![f("metadata"), f(name)]);
    }
    paths
}

#[derive(Debug, Clone)]
struct Manager {
    manager: String,
    operation: String,
    subresource: Option<String>,
    api_version: Option<String>,
    time: Option<Time>,
    set: FieldSet,
}

impl Manager {
    fn same_identity(&self, other: &Manager) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == "Apply" || self.api_version == other.api_version)
    }

    /// `printManager` of the API server's field manager.
    fn described(&self) -> String {
        let mut out = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            out.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == "Update" {
            out.push_str(&format!(
                " using {}",
                self.api_version.as_deref().unwrap_or_default()
            ));
        }
        out
    }
}

fn decode(managed: &[ManagedFieldsEntry]) -> Vec<Manager> {
    managed
        .iter()
        .filter_map(|e| {
            // An entry whose fields cannot be read owns nothing; the API server would reset
            // such managed fields too.
            let set = FieldSet::from_fields_v1(&e.fields_v1.as_ref()?.0).ok()?;
            Some(Manager {
                manager: e.manager.clone().unwrap_or_default(),
                operation: e.operation.clone().unwrap_or_else(|| "Update".into()),
                subresource: e.subresource.clone().filter(|s| !s.is_empty()),
                api_version: e.api_version.clone(),
                time: e.time.clone(),
                set,
            })
        })
        .collect()
}

fn encode(mut managers: Vec<Manager>) -> Vec<ManagedFieldsEntry> {
    managers.retain(|m| !m.set.is_empty());
    // The API server's order: operation, then time, manager, API version, subresource.
    managers.sort_by(|a, b| {
        (
            a.operation.as_str(),
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                b.operation.as_str(),
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    managers
        .into_iter()
        .map(|m| ManagedFieldsEntry {
            api_version: m.api_version,
            fields_type: Some("FieldsV1".into()),
            fields_v1: Some(FieldsV1(m.set.to_fields_v1())),
            manager: Some(m.manager),
            operation: Some(m.operation),
            subresource: m.subresource,
            time: m.time,
        })
        .collect()
}

/// The `metadata.managedFields` of an object; entries that do not decode are skipped.
pub fn managed_fields_of(obj: &Value) -> Vec<ManagedFieldsEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| serde_json::from_value(e.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The managed fields a write starts from, picked as the API server's field manager does:
/// the request's own `metadata.managedFields` when it carries any (clients such as Flux edit
/// them directly, and `[{}]` clears them), otherwise the live object's. Writes to a
/// subresource always start from the live object's.
pub fn managed_fields_for_write(
    live: Option<&Value>,
    request: &Value,
    subresource: Option<&str>,
) -> Vec<ManagedFieldsEntry> {
    let requested = request
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .filter(|entries| !entries.is_empty());
    match requested {
        Some(_) if subresource.is_none() => managed_fields_of(request)
            .into_iter()
            .filter(|e| e.manager.is_some() || e.fields_v1.is_some())
            .collect(),
        _ => live.map(managed_fields_of).unwrap_or_default(),
    }
}

fn strip_managed_fields(obj: &mut Value) {
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        meta.shift_remove("managedFields");
    }
}

fn root<'a>(schema: Option<&'a MergeSchema>, deduced: &'a Node) -> &'a Node {
    schema.map_or(deduced, |s| &s.root)
}

fn comparison(old: &Value, new: &Value, node: &Node, builtin: bool) -> Comparison {
    let mut out = Comparison::default();
    compare(
        Some(old),
        Some(new),
        node,
        &mut Vec::new(),
        &mut out,
        builtin,
        builtin,
    );
    out
}

/// Server-side apply of `config` by `manager` onto `live` (`None` when creating), with the
/// merge schema of the kind. See [`apply_with`].
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    managed: &[ManagedFieldsEntry],
    now: Time,
    schema: Option<&MergeSchema>,
) -> Result<Applied, ApplyError> {
    let options = Options {
        schema,
        ..Options::default()
    };
    apply_with(live, config, manager, force, managed, now, &options)
}

/// Server-side apply, as structured-merge-diff's `Updater.Apply`:
/// the configuration is merged into the live object; the manager now owns exactly the
/// fields it applied; fields it applied last time but not now are removed unless another
/// manager owns them; fields owned by another manager with a different value are conflicts,
/// unless `force` moves them to this manager.
pub fn apply_with(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    managed: &[ManagedFieldsEntry],
    now: Time,
    options: &Options<'_>,
) -> Result<Applied, ApplyError> {
    if !config.is_object() {
        return Err(ApplyError::Invalid(
            "the configuration must be an object".into(),
        ));
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::Invalid(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let deduced = Node::Deduced;
    let node = root(options.schema, &deduced);
    if let Some(duplicate) = walk::find_duplicate(config, node, &mut Vec::new()) {
        return Err(ApplyError::Invalid(duplicate));
    }
    let ignored = Ignored::new(options);

    let mut live_obj = live
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    strip_managed_fields(&mut live_obj);
    let mut config = config.clone();
    strip_managed_fields(&mut config);

    let mut managers = if live.is_some() {
        decode(managed)
    } else {
        Vec::new()
    };
    if live.is_some() && managers.is_empty() {
        let set = ignored.strip(FieldSet::from_object(&live_obj, options.schema));
        managers.push(Manager {
            manager: BEFORE_FIRST_APPLY.into(),
            operation: "Update".into(),
            subresource: None,
            api_version: live_obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .map(String::from),
            time: Some(now.clone()),
            set,
        });
    }

    let me = Manager {
        manager: manager.into(),
        operation: "Apply".into(),
        subresource: options.subresource.map(String::from),
        api_version: config
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(String::from),
        time: Some(now),
        set: ignored.strip(FieldSet::from_object(&config, options.schema)),
    };
    let previous = managers.iter().position(|m| m.same_identity(&me));
    let last_set = previous
        .map(|i| managers[i].set.clone())
        .unwrap_or_default();

    let mut merged = merge(&live_obj, &config, node);

    // Prune what this manager stopped applying and nobody else owns.
    let others_owned = managers
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != previous)
        .fold(FieldSet::new(), |acc, (_, m)| acc.union(&m.set));
    let stale = last_set.difference(&me.set).difference(&others_owned);
    // Shortest first: a list item goes before its fields are touched, since removing its
    // key fields first would leave an item that no longer matches its own key.
    let mut stale_paths: Vec<&Path> = stale.iter().collect();
    stale_paths.sort_by_key(|p| p.len());
    for path in stale_paths {
        remove_path(&mut merged, path);
    }

    let diff = comparison(
        &live_obj,
        &merged,
        node,
        options.schema.is_some_and(|s| s.builtin),
    );
    let changed = ignored.strip(diff.changed());
    let mut conflicts = Vec::new();
    for (i, other) in managers.iter().enumerate() {
        if Some(i) == previous {
            continue;
        }
        for path in other.set.intersection(&changed).iter() {
            conflicts.push(Conflict {
                manager: other.manager.clone(),
                described: other.described(),
                path: path_string(path),
            });
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(ApplyConflicts { conflicts }.into());
    }
    for (i, other) in managers.iter_mut().enumerate() {
        if Some(i) == previous {
            continue;
        }
        other.set = other.set.difference(&changed).difference(&diff.removed);
    }

    // The entry's time moves only when the apply changed the object, as in the API server.
    let mut me = me;
    if let Some(i) = previous
        && merged == live_obj
    {
        me.time = managers[i].time.clone();
    }
    match previous {
        Some(i) => managers[i] = me,
        None => managers.push(me),
    }
    Ok(Applied {
        object: merged,
        managed_fields: encode(managers),
    })
}

/// Records ownership for a create, update or patch by a non-apply manager (`operation` is
/// normally `"Update"`). See [`update_with`].
pub fn update(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    operation: &str,
    managed: &[ManagedFieldsEntry],
    now: Time,
    schema: Option<&MergeSchema>,
) -> Vec<ManagedFieldsEntry> {
    let options = Options {
        schema,
        ..Options::default()
    };
    update_with(old, new, manager, operation, managed, now, &options)
}

/// Ownership after a non-apply write, as structured-merge-diff's `Updater.Update`: the fields
/// the write added or changed move to `manager`; removed fields leave every manager.
pub fn update_with(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    operation: &str,
    managed: &[ManagedFieldsEntry],
    now: Time,
    options: &Options<'_>,
) -> Vec<ManagedFieldsEntry> {
    let deduced = Node::Deduced;
    let node = root(options.schema, &deduced);
    let ignored = Ignored::new(options);

    let mut old_obj = old
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    strip_managed_fields(&mut old_obj);
    let mut new_obj = new.clone();
    strip_managed_fields(&mut new_obj);

    let mut managers = decode(managed);
    let diff = comparison(
        &old_obj,
        &new_obj,
        node,
        options.schema.is_some_and(|s| s.builtin),
    );
    if diff.is_same() {
        return encode(managers);
    }
    let changed = ignored.strip(diff.changed());
    let me_template = Manager {
        manager: manager.into(),
        operation: operation.into(),
        subresource: options.subresource.map(String::from),
        api_version: new_obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(String::from),
        time: Some(now),
        set: FieldSet::new(),
    };
    let mine = managers.iter().position(|m| m.same_identity(&me_template));
    for (i, other) in managers.iter_mut().enumerate() {
        if Some(i) != mine {
            other.set = other.set.difference(&changed).difference(&diff.removed);
        }
    }
    let previous_set = mine.map(|i| managers[i].set.clone()).unwrap_or_default();
    let set = previous_set.difference(&diff.removed).union(&changed);
    match mine {
        // Only removals: the updater took no field, so its entry (and time) stay as they were.
        Some(i) if changed.is_empty() => managers[i].set = set,
        Some(i) => managers[i] = Manager { set, ..me_template },
        None => managers.push(Manager { set, ..me_template }),
    }
    encode(managers)
}
