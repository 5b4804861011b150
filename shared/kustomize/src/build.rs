//! The build: load a kustomization, accumulate resources, components and generators, run the
//! transformers in kustomize's order, then hash suffixes, name references and sorting.

use std::path::{Path, PathBuf};

use crate::fieldspec::FieldSpec;
use crate::generators::{self, Options};
use crate::kustfile::{Kustomization, find_file};
use crate::loader::{Loader, is_remote};
use crate::resource::Resource;
use crate::select::Selector;
use crate::transform::{self, ImageRule};
use crate::yaml::{Node, parse_documents};
use crate::{Error, json6902, nameref, smp, sort};

pub struct Builder {
    loader: Loader,
    stack: Vec<PathBuf>,
    /// A kustomization used for one directory instead of its (missing) file.
    root_override: Option<(PathBuf, String)>,
    /// The canonical build root, for origin paths.
    root: PathBuf,
    /// `vars` declared anywhere in the tree, resolved once at the end.
    vars: Vec<Node>,
    /// Field specs added by `configurations` files.
    config: Config,
    /// List merge keys per kind from `openapi` schemas.
    openapi: std::collections::HashMap<String, smp::Keys>,
}

/// Transformer configuration added by `configurations` files.
#[derive(Default)]
struct Config {
    name_refs: Vec<(String, FieldSpec)>,
    labels: Vec<FieldSpec>,
    annotations: Vec<FieldSpec>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            loader: Loader,
            stack: Vec::new(),
            root_override: None,
            root: PathBuf::new(),
            vars: Vec::new(),
            config: Config::default(),
            openapi: std::collections::HashMap::new(),
        }
    }

    pub fn set_root_override(&mut self, dir: &Path, text: String) -> Result<(), Error> {
        let canon = dir.canonicalize().map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        self.root_override = Some((canon, text));
        Ok(())
    }

    fn load_kust(&self, dir: &Path) -> Result<Kustomization, Error> {
        if let Some((d, text)) = &self.root_override
            && dir.canonicalize().ok().as_ref() == Some(d)
        {
            return Kustomization::parse(text, dir, "generated kustomization.yaml");
        }
        Kustomization::load(dir)
    }

    /// Builds the kustomization at `dir` into the final, sorted resource list.
    pub fn build_root(&mut self, dir: &Path) -> Result<Vec<Resource>, Error> {
        self.root = dir.canonicalize().map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let k = self.load_kust(dir)?;
        if k.is_component() {
            return Err(Error::InvalidKustomization(format!(
                "expected kind 'Kustomization' for path '{}' but got 'Component'",
                dir.display()
            )));
        }
        let mut res = self.accumulate(dir, Vec::new(), false)?;
        for r in res.iter_mut() {
            if r.needs_hash {
                let h = generators::content_hash(&r.node);
                let name = format!("{}-{h}", r.name());
                r.set_name(&name);
            }
        }
        nameref::fix(&mut res, &self.config.name_refs);
        let build_meta = k.strings("buildMetadata")?;
        for r in res.iter_mut() {
            if build_meta.iter().any(|m| m == "originAnnotations")
                && let Some(origin) = r.origin.clone()
                && let Some(meta) = r.node.get_mut("metadata")
                && let Some(ann) = meta.ensure_map("annotations")
            {
                ann.insert("config.kubernetes.io/origin".into(), Node::Str(origin));
            }
            if build_meta.iter().any(|m| m == "managedByLabel")
                && let Some(meta) = r.node.get_mut("metadata")
                && let Some(labels) = meta.ensure_map("labels")
            {
                labels.insert(
                    "app.kubernetes.io/managed-by".into(),
                    Node::Str("kustomize-(devel)".into()),
                );
            }
        }
        crate::vars::apply(&mut res, &self.vars)?;
        let sort_opts = k.get("sortOptions");
        match sort_opts.and_then(|s| s.get_str("order")) {
            Some("fifo") => {}
            _ => {
                let list = |key: &str| {
                    sort_opts
                        .and_then(|s| s.get_path(&["legacySortOptions", key]))
                        .and_then(Node::as_seq)
                        .map(|s| s.iter().filter_map(Node::scalar_text).collect())
                };
                sort::legacy(&mut res, list("orderFirst"), list("orderLast"));
            }
        }
        Ok(res)
    }

    fn accumulate(
        &mut self,
        dir: &Path,
        input: Vec<Resource>,
        as_component: bool,
    ) -> Result<Vec<Resource>, Error> {
        let canon = dir.canonicalize().map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if self.stack.contains(&canon) {
            return Err(Error::Cycle(canon));
        }
        self.stack.push(canon.clone());
        let r = self.accumulate_inner(&canon, input, as_component);
        self.stack.pop();
        r
    }

    fn accumulate_inner(
        &mut self,
        dir: &Path,
        mut res: Vec<Resource>,
        as_component: bool,
    ) -> Result<Vec<Resource>, Error> {
        let k = self.load_kust(dir)?;
        if as_component && !k.is_component() {
            return Err(Error::InvalidKustomization(format!(
                "expected kind 'Component' for path '{}' but got 'Kustomization'",
                dir.display()
            )));
        }
        if !as_component && k.is_component() {
            return Err(Error::InvalidKustomization(format!(
                "expected kind != 'Component' for path '{}'",
                dir.display()
            )));
        }
        if k.get("helmCharts").is_some() || k.get("helmChartInflationGenerator").is_some() {
            return Err(Error::Unsupported {
                feature: "helmCharts",
                detail: dir.display().to_string(),
            });
        }
        for key in ["validators"] {
            if k.get(key).is_some() {
                return Err(Error::Unsupported {
                    feature: "plugins (generators/transformers/validators)",
                    detail: dir.display().to_string(),
                });
            }
        }
        for c in k.strings("configurations")? {
            self.load_configuration(dir, &c)?;
        }
        if let Some(path) = k.get("openapi").and_then(|o| o.get_str("path")) {
            self.load_openapi(dir, path)?;
        }
        for c in k.strings("crds")? {
            self.load_crd_refs(dir, &c)?;
        }
        self.vars.extend(k.items("vars")?.into_iter().cloned());
        let mut entries = k.strings("resources")?;
        entries.extend(k.strings("bases")?);
        let mut ids: std::collections::HashSet<String> = res.iter().map(id_key).collect();
        for entry in entries {
            let loaded = self.load_entry(dir, &entry)?;
            for r in loaded {
                if !ids.insert(id_key(&r)) {
                    return Err(Error::DuplicateId(r.id_string()));
                }
                res.push(r);
            }
        }
        for c in k.strings("components")? {
            if is_remote(&c) {
                return Err(Error::Unsupported {
                    feature: "remote resources",
                    detail: c,
                });
            }
            let cdir = dir.join(&c);
            res = self.accumulate(&cdir, res, true)?;
        }
        self.generate(&k, dir, &mut res)?;
        self.transform(&k, dir, &mut res)?;
        Ok(res)
    }

    fn load_configuration(&mut self, dir: &Path, file: &str) -> Result<(), Error> {
        let text = self.loader.read_string(dir, file)?;
        let docs = parse_documents(&text).map_err(|source| Error::Yaml {
            file: file.to_string(),
            source,
        })?;
        for d in docs {
            for nr in d
                .get("nameReference")
                .and_then(Node::as_seq)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                let kind = nr.get_str("kind").unwrap_or("").to_string();
                for fs in nr
                    .get("fieldSpecs")
                    .and_then(Node::as_seq)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    self.config
                        .name_refs
                        .push((kind.clone(), FieldSpec::from_node(fs)));
                }
            }
            for fs in d
                .get("commonLabels")
                .and_then(Node::as_seq)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                self.config.labels.push(FieldSpec::from_node(fs));
            }
            for fs in d
                .get("commonAnnotations")
                .and_then(Node::as_seq)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                self.config.annotations.push(FieldSpec::from_node(fs));
            }
        }
        Ok(())
    }

    /// `crds`: OpenAPI definitions whose properties carry `x-kubernetes-object-ref-kind`
    /// become name references (`<path>/name`) inside the custom kind.
    fn load_crd_refs(&mut self, dir: &Path, file: &str) -> Result<(), Error> {
        let text = self.loader.read_string(dir, file)?;
        let docs = parse_documents(&text).map_err(|source| Error::Yaml {
            file: file.to_string(),
            source,
        })?;
        for defs in docs.iter().filter_map(Node::as_map) {
            for (key, def) in defs {
                let props = def.get_path(&["Schema", "properties"]);
                if props.is_some_and(|p| p.get("kind").is_some() && p.get("apiVersion").is_some()) {
                    let kind = key.rsplit('.').next().unwrap_or(key).to_string();
                    let mut out = Vec::new();
                    crd_refs(defs, props, "", &mut out, 0);
                    for (target, path) in out {
                        self.config.name_refs.push((
                            target,
                            FieldSpec::new(Some(&kind), &format!("{path}/name"), false),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// `openapi: {path: ...}`: list merge keys (`x-kubernetes-patch-merge-key` with the merge
    /// strategy) of the kinds the schema describes.
    fn load_openapi(&mut self, dir: &Path, file: &str) -> Result<(), Error> {
        let text = self.loader.read_string(dir, file)?;
        let docs = parse_documents(&text).map_err(|source| Error::Yaml {
            file: file.to_string(),
            source,
        })?;
        let Some(defs) = docs
            .first()
            .and_then(|d| d.get("definitions"))
            .and_then(Node::as_map)
        else {
            return Ok(());
        };
        for def in defs.values() {
            let kinds: Vec<String> = def
                .get("x-kubernetes-group-version-kind")
                .and_then(Node::as_seq)
                .map(|v| {
                    v.iter()
                        .filter_map(|g| g.get_str("kind").map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if kinds.is_empty() {
                continue;
            }
            let mut keys = smp::Keys::new();
            schema_keys(defs, def, &mut keys, 0);
            for kind in kinds {
                self.openapi.entry(kind).or_default().extend(keys.clone());
            }
        }
        Ok(())
    }

    fn load_entry(&mut self, dir: &Path, entry: &str) -> Result<Vec<Resource>, Error> {
        if is_remote(entry) {
            return Err(Error::Unsupported {
                feature: "remote resources",
                detail: entry.to_string(),
            });
        }
        let path = dir.join(entry);
        if path.is_dir() {
            if find_file(&path).is_none() {
                return Err(Error::Resource {
                    path: entry.to_string(),
                    message: format!(
                        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
                        path.display()
                    ),
                });
            }
            return self.accumulate(&path, Vec::new(), false);
        }
        if !path.exists() {
            return Err(Error::Resource {
                path: entry.to_string(),
                message: format!(
                    "evalsymlink failure on '{}' : lstat {}: no such file or directory",
                    path.display(),
                    path.display()
                ),
            });
        }
        let text = self.loader.read_string(dir, entry)?;
        let mut loaded = load_resources(&text, entry)?;
        let origin = format!("path: {}\n", relative(&self.root, &path));
        for r in loaded.iter_mut() {
            r.origin = Some(origin.clone());
        }
        Ok(loaded)
    }

    fn generator_origin(&self, dir: &Path, kind: &str) -> String {
        let kfile = find_file(dir).unwrap_or_else(|| dir.join("kustomization.yaml"));
        format!(
            "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n",
            relative(&self.root, &kfile)
        )
    }

    fn generate(
        &mut self,
        k: &Kustomization,
        dir: &Path,
        res: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let opts = Options::from_node(k.get("generatorOptions"))?;
        for (key, secret) in [("configMapGenerator", false), ("secretGenerator", true)] {
            for entry in k.items(key)? {
                let mut g = generators::generate(entry, secret, &opts, &self.loader, dir, None)?;
                g.origin = Some(self.generator_origin(
                    dir,
                    if secret {
                        "SecretGenerator"
                    } else {
                        "ConfigMapGenerator"
                    },
                ));
                merge_generated(res, g)?;
            }
        }
        // `generators:` entries configuring kustomize's builtin generators.
        for entry in k.strings("generators")? {
            let text = if entry.contains('\n') {
                entry.clone()
            } else {
                self.loader.read_string(dir, &entry)?
            };
            let docs = parse_documents(&text).map_err(|source| Error::Yaml {
                file: entry.clone(),
                source,
            })?;
            for doc in docs {
                let kind = doc.get_str("kind").unwrap_or("");
                let secret = match (doc.get_str("apiVersion"), kind) {
                    (Some("builtin"), "ConfigMapGenerator") => false,
                    (Some("builtin"), "SecretGenerator") => true,
                    _ => {
                        return Err(Error::Unsupported {
                            feature: "generator plugins",
                            detail: format!(
                                "external plugins disabled; unable to load external plugin '{kind}'"
                            ),
                        });
                    }
                };
                let mut cfg = doc.clone();
                if let Some(m) = cfg.as_map_mut() {
                    for f in ["name", "namespace"] {
                        if let Some(v) = doc.get_path(&["metadata", f]).cloned() {
                            m.insert(f.to_string(), v);
                        }
                    }
                }
                let mut g = generators::generate(&cfg, secret, &opts, &self.loader, dir, None)?;
                g.origin = Some(self.generator_origin(dir, kind));
                merge_generated(res, g)?;
            }
        }
        Ok(())
    }

    fn transform(
        &mut self,
        k: &Kustomization,
        dir: &Path,
        res: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        for p in k.items("patchesStrategicMerge")? {
            let text = match p {
                Node::Str(s) if !s.contains('\n') && !s.contains(": ") => {
                    self.loader.read_string(dir, s)?
                }
                Node::Str(s) => s.clone(),
                _ => {
                    return Err(Error::Patch(
                        "patchesStrategicMerge entries must be strings".into(),
                    ));
                }
            };
            for doc in crate::yaml::parse_documents_plain(&text).map_err(|source| Error::Yaml {
                file: "patch".into(),
                source,
            })? {
                apply_smp(res, &doc, None, false, &self.openapi)?;
            }
        }
        for p in k.items("patches")? {
            self.apply_patch_entry(dir, res, p, false)?;
        }
        if let Some(ns) = k.str("namespace").filter(|s| !s.is_empty()) {
            transform::namespace(res, ns);
        }
        let prefix = k.str("namePrefix").unwrap_or("");
        let suffix = k.str("nameSuffix").unwrap_or("");
        if !prefix.is_empty() || !suffix.is_empty() {
            transform::prefix_suffix(res, prefix, suffix);
        }
        let common = k.string_map("commonLabels")?;
        let mut label_specs = transform::common_label_specs();
        label_specs.extend(self.config.labels.iter().cloned());
        transform::add_pairs(res, &common, &label_specs);
        for l in k.items("labels")? {
            let pairs = crate::kustfile::string_map(l.get("pairs"), "pairs")?;
            let selectors = matches!(l.get("includeSelectors"), Some(Node::Bool(true)));
            let templates = matches!(l.get("includeTemplates"), Some(Node::Bool(true)));
            let mut specs = if selectors {
                transform::common_label_specs()
            } else {
                let mut v = vec![crate::fieldspec::FieldSpec::new(
                    None,
                    "metadata/labels",
                    true,
                )];
                if templates {
                    v.extend(transform::template_label_specs());
                }
                v
            };
            if let Some(Node::Seq(fs)) = l.get("fields") {
                specs.extend(fs.iter().map(crate::fieldspec::FieldSpec::from_node));
            }
            transform::add_pairs(res, &pairs, &specs);
        }
        let ann = k.string_map("commonAnnotations")?;
        let mut ann_specs = transform::annotation_specs();
        ann_specs.extend(self.config.annotations.iter().cloned());
        transform::add_pairs(res, &ann, &ann_specs);
        for p in k.items("patchesJson6902")? {
            self.apply_patch_entry(dir, res, p, true)?;
        }
        for r in k.items("replicas")? {
            let name = r.get_str("name").unwrap_or("");
            let count = match r.get("count") {
                Some(Node::Int(i)) => *i,
                _ => {
                    return Err(Error::Transform(format!(
                        "replicas entry {name:?} needs an integer count"
                    )));
                }
            };
            transform::replicas(res, name, count).map_err(Error::Transform)?;
        }
        let mut rules = Vec::new();
        for i in k.items("images")? {
            let field = |f: &str| -> Result<Option<String>, Error> {
                match i.get(f) {
                    None | Some(Node::Null) => Ok(None),
                    Some(Node::Str(s)) => Ok(Some(s.clone())),
                    Some(other) => Err(Error::InvalidKustomization(format!(
                        "json: cannot unmarshal {} into Go struct field Image.images.{f} of type string",
                        crate::kustfile::go_type(other)
                    ))),
                }
            };
            rules.push(ImageRule {
                name: field("name")?.unwrap_or_default(),
                new_name: field("newName")?,
                new_tag: field("newTag")?,
                digest: field("digest")?,
            });
        }
        transform::images(res, &rules);
        if !k.items("replacements")?.is_empty() {
            crate::replacements::apply(res, &k.items("replacements")?, &self.loader, dir)?;
        }
        for entry in k.strings("transformers")? {
            let text = if entry.contains('\n') {
                entry.clone()
            } else {
                self.loader.read_string(dir, &entry)?
            };
            let docs = parse_documents(&text).map_err(|source| Error::Yaml {
                file: entry.clone(),
                source,
            })?;
            for doc in docs {
                self.run_builtin_transformer(dir, res, &doc)?;
            }
        }
        Ok(())
    }

    /// A `transformers:` entry configuring one of kustomize's builtin transformers.
    fn run_builtin_transformer(
        &mut self,
        dir: &Path,
        res: &mut Vec<Resource>,
        t: &Node,
    ) -> Result<(), Error> {
        let kind = t.get_str("kind").unwrap_or("");
        if t.get_str("apiVersion") != Some("builtin") {
            return Err(Error::Unsupported {
                feature: "transformer plugins",
                detail: format!("{kind} ({})", dir.display()),
            });
        }
        let specs = |default: Vec<FieldSpec>| -> Vec<FieldSpec> {
            match t.get("fieldSpecs").and_then(Node::as_seq) {
                Some(fs) => fs.iter().map(FieldSpec::from_node).collect(),
                None => default,
            }
        };
        match kind {
            "NamespaceTransformer" => {
                if let Some(ns) = t
                    .get_path(&["metadata", "namespace"])
                    .and_then(Node::as_str)
                {
                    transform::namespace(res, ns);
                }
            }
            "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
                transform::prefix_suffix(
                    res,
                    t.get_str("prefix").unwrap_or(""),
                    t.get_str("suffix").unwrap_or(""),
                );
            }
            "LabelTransformer" => {
                let pairs = crate::kustfile::string_map(t.get("labels"), "labels")?;
                transform::add_pairs(res, &pairs, &specs(transform::common_label_specs()));
            }
            "AnnotationsTransformer" => {
                let pairs = crate::kustfile::string_map(t.get("annotations"), "annotations")?;
                transform::add_pairs(res, &pairs, &specs(transform::annotation_specs()));
            }
            "ImageTagTransformer" => {
                let i = t.get("imageTag").unwrap_or(&Node::Null);
                let rule = ImageRule {
                    name: i.get_str("name").unwrap_or("").to_string(),
                    new_name: i.get_str("newName").map(str::to_string),
                    new_tag: i.get_str("newTag").map(str::to_string),
                    digest: i.get_str("digest").map(str::to_string),
                };
                transform::images(res, &[rule]);
            }
            "ReplicaCountTransformer" => {
                let r = t.get("replica").unwrap_or(&Node::Null);
                let count = match r.get("count") {
                    Some(Node::Int(i)) => *i,
                    _ => 0,
                };
                transform::replicas(res, r.get_str("name").unwrap_or(""), count)
                    .map_err(Error::Transform)?;
            }
            "PatchTransformer" => self.apply_patch_entry(dir, res, t, false)?,
            "PatchJson6902Transformer" => {
                let mut entry = t.clone();
                if let (Some(op), Some(m)) = (t.get("jsonOp").cloned(), entry.as_map_mut()) {
                    m.insert("patch".into(), op);
                }
                self.apply_patch_entry(dir, res, &entry, true)?;
            }
            "PatchStrategicMergeTransformer" => {
                let mut texts = Vec::new();
                for p in t
                    .get("paths")
                    .and_then(Node::as_seq)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    texts.push(self.loader.read_string(dir, p.as_str().unwrap_or(""))?);
                }
                if let Some(inline) = t.get_str("patches") {
                    texts.push(inline.to_string());
                }
                for text in texts {
                    let docs = crate::yaml::parse_documents_plain(&text).map_err(|source| {
                        Error::Yaml {
                            file: "patch".into(),
                            source,
                        }
                    })?;
                    for doc in docs {
                        apply_smp(res, &doc, None, false, &self.openapi)?;
                    }
                }
            }
            "ReplacementTransformer" => {
                let items: Vec<&Node> = t
                    .get("replacements")
                    .and_then(Node::as_seq)
                    .map(|v| v.iter().collect())
                    .unwrap_or_default();
                crate::replacements::apply(res, &items, &self.loader, dir)?;
            }
            other => {
                return Err(Error::Unsupported {
                    feature: "transformer plugins",
                    detail: other.to_string(),
                });
            }
        }
        Ok(())
    }

    fn apply_patch_entry(
        &mut self,
        dir: &Path,
        res: &mut Vec<Resource>,
        p: &Node,
        json_only: bool,
    ) -> Result<(), Error> {
        let text = if let Some(path) = p.get_str("path") {
            self.loader.read_string(dir, path)?
        } else if let Some(s) = p.get_str("patch") {
            s.to_string()
        } else if json_only && let Some(ops) = p.get("patch") {
            crate::yaml::emit_document(ops)
        } else {
            return Err(Error::Patch(
                "patch entry needs either a path or a patch".into(),
            ));
        };
        let selector = match p.get("target") {
            Some(t) if !t.is_null() => Some(Selector::from_node(t)?),
            _ => None,
        };
        // kustomize loads a targeted patch as a resource, so its labels and annotations are
        // read as strings (`null` included); a patch by name keeps `null` as a deletion.
        let parse = if selector.is_some() {
            parse_documents
        } else {
            crate::yaml::parse_documents_plain
        };
        let mut docs = parse(&text).map_err(|source| Error::Yaml {
            file: "patch".into(),
            source,
        })?;
        if selector.is_some() {
            for d in docs.iter_mut() {
                if let Some(Node::Map(labels)) =
                    d.get_mut("metadata").and_then(|m| m.get_mut("labels"))
                {
                    for v in labels.values_mut() {
                        if !matches!(v, Node::Map(_) | Node::Seq(_)) {
                            *v = Node::Str(v.scalar_text().unwrap_or_else(|| "null".to_string()));
                        }
                    }
                }
            }
        }
        let is_json = json_only || matches!(docs.first(), Some(Node::Seq(_)));
        let allow_name_change = matches!(
            p.get_path(&["options", "allowNameChange"]),
            Some(Node::Bool(true))
        );
        if is_json {
            let ops = docs.into_iter().next().unwrap_or(Node::Seq(Vec::new()));
            let Some(sel) = selector else {
                return Err(Error::Patch("a JSON patch needs a target".into()));
            };
            let mut matched = false;
            for r in res.iter_mut().filter(|r| sel.matches(r)) {
                matched = true;
                json6902::apply(&mut r.node, &ops).map_err(Error::Patch)?;
            }
            let _ = matched;
            return Ok(());
        }
        for doc in docs {
            apply_smp(
                res,
                &doc,
                selector.as_ref(),
                allow_name_change,
                &self.openapi,
            )?;
        }
        Ok(())
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

fn apply_smp(
    res: &mut Vec<Resource>,
    patch: &Node,
    selector: Option<&Selector>,
    allow_name_change: bool,
    openapi: &std::collections::HashMap<String, smp::Keys>,
) -> Result<(), Error> {
    let no_keys = smp::Keys::new();
    let name = patch
        .get_path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    let kind = patch.get_str("kind").unwrap_or("").to_string();
    let ns = patch
        .get_path(&["metadata", "namespace"])
        .and_then(Node::as_str)
        .map(str::to_string);
    let mut delete = Vec::new();
    let mut matched = false;
    for (i, r) in res.iter_mut().enumerate() {
        let hit = match selector {
            Some(s) => s.matches(r),
            None => {
                r.kind() == kind
                    && r.had_name(&name)
                    && ns
                        .as_deref()
                        .is_none_or(|n| n == r.namespace() || r.history.iter().any(|(_, o)| o == n))
            }
        };
        if !hit {
            continue;
        }
        matched = true;
        let mut p = patch.clone();
        if selector.is_some() {
            // With a target the patch's own identity does not matter.
            if let Some(meta) = p.get_mut("metadata").and_then(Node::as_map_mut) {
                if !allow_name_change {
                    meta.shift_remove("name");
                }
                meta.shift_remove("namespace");
            }
            if let Some(m) = p.as_map_mut() {
                m.shift_remove("kind");
                m.shift_remove("apiVersion");
            }
        }
        let keys = openapi.get(r.kind()).unwrap_or(&no_keys);
        match smp::apply_with_keys(&r.node, &p, keys) {
            smp::Outcome::Keep(mut n) => {
                let old = (r.name().to_string(), r.namespace().to_string());
                if selector.is_none() {
                    drop_emptied_metadata(&mut n, patch);
                }
                r.node = n;
                if r.name() != old.0 && r.history.last() != Some(&old) {
                    r.history.push(old);
                }
            }
            smp::Outcome::Delete => delete.push(i),
        }
    }
    if !matched && selector.is_none() {
        return Err(Error::Patch(format!(
            "no resource matches strategic merge patch \"{kind}.{}/{name}.{}\"",
            crate::resource::Gvk::of(patch).version,
            ns.as_deref().unwrap_or("[noNs]")
        )));
    }
    for i in delete.into_iter().rev() {
        res.remove(i);
    }
    Ok(())
}

/// kustomize rewrites labels and annotations a patch touched; left empty, they disappear.
fn drop_emptied_metadata(n: &mut Node, patch: &Node) {
    for field in ["labels", "annotations"] {
        if patch.get_path(&["metadata", field]).is_some()
            && let Some(meta) = n.get_mut("metadata").and_then(Node::as_map_mut)
            && meta
                .get(field)
                .and_then(Node::as_map)
                .is_some_and(|m| m.is_empty())
        {
            meta.shift_remove(field);
        }
    }
}

/// Parses a resource file; `List` kinds are expanded into their items.
pub fn load_resources(text: &str, label: &str) -> Result<Vec<Resource>, Error> {
    let docs = parse_documents(text).map_err(|source| Error::Yaml {
        file: label.to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for d in docs {
        if !matches!(d, Node::Map(_)) {
            return Err(Error::Resource {
                path: label.to_string(),
                message: "resource is not a YAML mapping".into(),
            });
        }
        let is_list = d.get_str("kind").is_some_and(|k| k.ends_with("List"))
            && matches!(d.get("items"), Some(Node::Seq(_)));
        if is_list {
            if let Some(Node::Seq(items)) = d.get("items") {
                for it in items {
                    out.push(check(it.clone(), label)?);
                }
            }
        } else {
            out.push(check(d, label)?);
        }
    }
    Ok(out)
}

fn check(d: Node, label: &str) -> Result<Resource, Error> {
    if d.get_str("kind").is_none_or(str::is_empty) {
        return Err(Error::Resource {
            path: label.to_string(),
            message: "missing kind in object".into(),
        });
    }
    if d.get_path(&["metadata", "name"]).is_none_or(Node::is_null) {
        return Err(Error::Resource {
            path: label.to_string(),
            message: "missing metadata.name".into(),
        });
    }
    Ok(Resource::new(d))
}

/// Identity of a resource for duplicate detection: kind, group, name and namespace.
fn id_key(r: &Resource) -> String {
    let g = r.gvk();
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        g.kind,
        g.group,
        r.name(),
        r.namespace()
    )
}

fn merge_generated(res: &mut Vec<Resource>, g: Resource) -> Result<(), Error> {
    let behavior = g.behavior.clone().unwrap_or_else(|| "create".into());
    let pos = res.iter().position(|x| {
        x.kind() == g.kind()
            && x.had_name(g.name())
            && (g.namespace().is_empty() || x.namespace() == g.namespace())
    });
    match (behavior.as_str(), pos) {
        ("create", None) => res.push(g),
        ("create", Some(_)) => return Err(Error::DuplicateId(g.id_string())),
        ("merge", Some(i)) | ("replace", Some(i)) => {
            let target = &mut res[i];
            // Labels and annotations are merged either way; data maps are merged or replaced,
            // and a data map left empty disappears (kyaml's SetDataMap).
            for field in ["labels", "annotations"] {
                if let Some(Node::Map(gl)) = g.node.get_path(&["metadata", field]).cloned()
                    && let Some(meta) = target.node.get_mut("metadata")
                    && let Some(tl) = meta.ensure_map(field)
                {
                    for (k, v) in gl {
                        tl.insert(k, v);
                    }
                }
            }
            for field in ["data", "binaryData"] {
                let mut merged = match (behavior.as_str(), target.node.get(field)) {
                    ("merge", Some(Node::Map(td))) => td.clone(),
                    _ => crate::yaml::Map::new(),
                };
                if let Some(Node::Map(gd)) = g.node.get(field) {
                    for (k, v) in gd {
                        merged.insert(k.clone(), v.clone());
                    }
                }
                if let Some(m) = target.node.as_map_mut() {
                    if merged.is_empty() {
                        m.shift_remove(field);
                    } else {
                        m.insert(field.to_string(), Node::Map(merged));
                    }
                }
            }
            // Either side disabling the hash suffix disables it, as kustomize does.
            target.needs_hash = target.needs_hash && g.needs_hash;
        }
        (b, None) if b == "merge" || b == "replace" => {
            return Err(Error::Generator(format!(
                "id {} does not exist; cannot merge or replace",
                g.id_string()
            )));
        }
        (b, _) => {
            return Err(Error::Generator(format!(
                "unknown generator behavior {b:?}"
            )));
        }
    }
    Ok(())
}

/// Collects (referenced kind, path) for properties marked with `x-kubernetes-object-ref-kind`,
/// following `$ref`s between definitions.
fn crd_refs(
    defs: &crate::yaml::Map,
    props: Option<&Node>,
    prefix: &str,
    out: &mut Vec<(String, String)>,
    depth: usize,
) {
    let Some(props) = props.and_then(Node::as_map) else {
        return;
    };
    if depth > 20 {
        return;
    }
    for (name, p) in props {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if let Some(kind) = p.get_str("x-kubernetes-object-ref-kind") {
            out.push((kind.to_string(), path));
        } else if let Some(r) = p.get_str("$ref") {
            crd_refs(
                defs,
                defs.get(r)
                    .and_then(|d| d.get_path(&["Schema", "properties"])),
                &path,
                out,
                depth + 1,
            );
        }
    }
}

/// `path` relative to `root` (with `..` where it lies outside), `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let rc: Vec<_> = root.components().collect();
    let pc: Vec<_> = path.components().collect();
    let common = rc.iter().zip(&pc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); rc.len() - common];
    parts.extend(
        pc[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    parts.join("/")
}

/// Collects list merge keys from a schema node, following local `$ref`s.
fn schema_keys(defs: &crate::yaml::Map, node: &Node, keys: &mut smp::Keys, depth: usize) {
    if depth > 30 {
        return;
    }
    let node = match node
        .get_str("$ref")
        .and_then(|r| r.strip_prefix("#/definitions/"))
    {
        Some(name) => match defs.get(name) {
            Some(d) => d,
            None => return,
        },
        None => node,
    };
    let Some(props) = node.get("properties").and_then(Node::as_map) else {
        return;
    };
    for (field, p) in props {
        let strategy = p.get_str("x-kubernetes-patch-strategy").unwrap_or("");
        if let Some(key) = p.get_str("x-kubernetes-patch-merge-key")
            && strategy.split(',').any(|s| s == "merge")
        {
            keys.insert(field.clone(), key.to_string());
        }
        schema_keys(defs, p, keys, depth + 1);
        if let Some(items) = p.get("items") {
            schema_keys(defs, items, keys, depth + 1);
        }
    }
}
