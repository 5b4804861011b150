//! A set of associated templates, like Go's `*template.Template`: parse once, execute many times.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::Node;
use crate::error::Error;
use crate::exec;
use crate::func::{Func, FuncMap};
use crate::parse::parse;
use crate::value::Value;

/// What a missing map key evaluates to (Go's `missingkey=` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default` / `invalid`: no value; prints `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the map's zero element, which for `map[string]interface{}` is nil —
    /// it still prints `<no value>`, and fields of it fail with `nil pointer evaluating`.
    Zero,
    /// `missingkey=error`: execution stops with `map has no entry for key "k"`.
    Error,
}

/// One parsed template body.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The name of the text it was parsed from (locations in errors use it).
    pub parse_name: String,
    /// The source, for turning byte offsets into line:column.
    pub src: Arc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `IsEmptyTree`: only whitespace text (and nothing else).
    fn is_empty(&self) -> bool {
        self.root
            .iter()
            .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
    }
}

/// Default limit on nested template executions (`template`, `include`, `tpl`): deep enough for
/// real charts, shallow enough that the native stack never overflows.
pub const DEFAULT_MAX_DEPTH: usize = 1000;

/// A set of associated templates sharing functions and options.
#[derive(Clone)]
pub struct Template {
    name: String,
    pub(crate) trees: HashMap<String, Arc<Tree>>,
    pub(crate) funcs: Arc<FuncMap>,
    pub(crate) missing_key: MissingKey,
    pub(crate) max_depth: usize,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("templates", &self.defined_templates())
            .finish()
    }
}

impl Template {
    /// An empty set whose main template is `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            trees: HashMap::new(),
            funcs: Arc::new(FuncMap::new()),
            missing_key: MissingKey::Default,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// The set's main template name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the `missingkey` option.
    pub fn option_missingkey(&mut self, mk: MissingKey) -> &mut Self {
        self.missing_key = mk;
        self
    }

    /// Limits nested template executions; deeper nesting fails with a clear error.
    pub fn max_depth(&mut self, depth: usize) -> &mut Self {
        self.max_depth = depth;
        self
    }

    /// Adds functions (later additions replace earlier ones of the same name). Functions must be
    /// added before parsing templates that call them, as in Go.
    pub fn funcs(&mut self, funcs: FuncMap) -> &mut Self {
        let map = Arc::make_mut(&mut self.funcs);
        map.extend(funcs);
        self
    }

    /// Adds one function.
    pub fn func(&mut self, name: impl Into<String>, f: Func) -> &mut Self {
        Arc::make_mut(&mut self.funcs).insert(name.into(), f);
        self
    }

    /// Whether `name` is callable in templates of this set (builtin or added).
    pub fn has_func(&self, name: &str) -> bool {
        self.funcs.contains_key(name) || exec::is_builtin(name)
    }

    /// Parses `text` as the template `name`, adding it and every `define`/`block` in it to the
    /// set. As in Go, a later definition replaces an earlier one unless it is empty.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let parsed = parse(name, text, &|f| self.has_func(f))?;
        let src: Arc<str> = Arc::from(text);
        let mk = |root| {
            Arc::new(Tree {
                parse_name: name.to_string(),
                src: src.clone(),
                root,
            })
        };
        let main = mk(parsed.root);
        self.associate(name.to_string(), main);
        for (def_name, root) in parsed.defines {
            let t = mk(root);
            self.associate(def_name, t);
        }
        Ok(())
    }

    fn associate(&mut self, name: String, tree: Arc<Tree>) {
        if let Some(old) = self.trees.get(&name)
            && tree.is_empty()
            && !old.is_empty()
        {
            return;
        }
        self.trees.insert(name, tree);
    }

    /// Whether a template of that name has been parsed into the set.
    pub fn lookup(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of all templates in the set, sorted.
    pub fn defined_templates(&self) -> Vec<String> {
        let mut v: Vec<String> = self.trees.keys().cloned().collect();
        v.sort();
        v
    }

    /// Executes the template `name` with `data` as dot and `$`.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        exec::execute(self, name, data, &mut out, 0)?;
        Ok(out)
    }

    /// Executes the set's main template.
    pub fn execute_main(&self, data: &Value) -> Result<String, Error> {
        self.execute(&self.name.clone(), data)
    }
}
