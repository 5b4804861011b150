//! The executor: walks a tree with data, following Go's text/template/exec.go (variable scoping,
//! missing keys, nil handling, pipelines passing their value as the last argument, and errors
//! with `executing "NAME" at <NODE>`).

use crate::ast::{Arg, Branch, Command, Node, Pipe};
use crate::builtins;
use crate::error::Error;
use crate::func::{FuncContext, FuncError};
use crate::template::{MissingKey, Template, Tree};
use crate::value::Value;

/// `range` over an integer larger than this is refused: it could only spin for hours.
const MAX_RANGE_COUNT: i64 = 10_000_000;

/// Output beyond this size stops execution instead of exhausting memory.
pub const MAX_OUTPUT: usize = 256 * 1024 * 1024;

/// Stack kept free before recursing, and the size of each extra segment.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

pub(crate) fn is_builtin(name: &str) -> bool {
    matches!(name, "and" | "or") || builtins::lookup(name).is_some()
}

/// Executes template `name` of `t` into `out`.
pub(crate) fn execute(
    t: &Template,
    name: &str,
    data: &Value,
    out: &mut String,
    depth: usize,
) -> Result<(), Error> {
    let Some(tree) = t.trees.get(name) else {
        return Err(Error::Template {
            name: t.name().to_string(),
            message: format!(
                "no template {} associated with template {}",
                crate::gofmt::quote(name),
                crate::gofmt::quote(t.name())
            ),
        });
    };
    let mut st = State {
        t,
        name,
        tree,
        vars: vec![("$".to_string(), data.clone())],
        depth,
    };
    stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
        st.walk_list(data, &tree.root, out).map(|_| ())
    })
}

enum Flow {
    Normal,
    Break,
    Continue,
}

/// A receiver in a field chain: Go distinguishes an invalid value (a missing key) from a nil
/// interface (a key holding nil), and only the latter is an error to dereference.
enum Recv {
    Invalid,
    NilIface,
    Val(Value, bool),
}

/// What failed and where; turned into an `Error::Exec` with the node's text.
struct At<'n> {
    pos: usize,
    context: &'n dyn std::fmt::Display,
}

struct State<'a> {
    t: &'a Template,
    name: &'a str,
    tree: &'a Tree,
    vars: Vec<(String, Value)>,
    depth: usize,
}

type R<T> = Result<T, Error>;

impl<'a> State<'a> {
    fn error(&self, at: &At<'_>, message: impl Into<String>) -> Error {
        let (line, col) = line_col(&self.tree.src, at.pos);
        Error::Exec {
            location: format!("{}:{}:{}", self.tree.parse_name, line, col),
            name: self.name.to_string(),
            context: at.context.to_string(),
            message: message.into(),
        }
    }

    fn output_too_large(&self) -> Error {
        Error::Template {
            name: self.name.to_string(),
            message: format!("output exceeds the limit of {MAX_OUTPUT} bytes"),
        }
    }

    fn walk_list(&mut self, dot: &Value, list: &[Node], out: &mut String) -> R<Flow> {
        for n in list {
            match self.walk(dot, n, out)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node, out: &mut String) -> R<Flow> {
        match node {
            Node::Text(s) => {
                if out.len() + s.len() > MAX_OUTPUT {
                    return Err(self.output_too_large());
                }
                out.push_str(s);
                return Ok(Flow::Normal);
            }
            Node::If(_) | Node::With(_) | Node::Range(_) => {
                return stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
                    self.walk_node(dot, node, out)
                });
            }
            _ => {}
        }
        self.walk_node(dot, node, out)
    }

    fn walk_node(&mut self, dot: &Value, node: &Node, out: &mut String) -> R<Flow> {
        match node {
            Node::Text(s) => out.push_str(s),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    print_value(&v, out);
                    if out.len() > MAX_OUTPUT {
                        return Err(self.output_too_large());
                    }
                }
            }
            Node::If(b) => return self.walk_if_with(dot, b, false, out),
            Node::With(b) => return self.walk_if_with(dot, b, true, out),
            Node::Range(b) => return self.walk_range(dot, b, out),
            Node::Template { pos, name, pipe } => self.walk_template(dot, *pos, name, pipe, out)?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with(
        &mut self,
        dot: &Value,
        b: &Branch,
        is_with: bool,
        out: &mut String,
    ) -> R<Flow> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.truthy() {
                let d = if is_with { &val } else { dot };
                self.walk_list(d, &b.list, out)
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e, out)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Value, b: &Branch, out: &mut String) -> R<Flow> {
        let mark = self.vars.len();
        let r = self.walk_range_inner(dot, b, out);
        self.vars.truncate(mark);
        r.map(|_| Flow::Normal)
    }

    fn walk_range_inner(&mut self, dot: &Value, b: &Branch, out: &mut String) -> R<()> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let val = match val {
            Value::Object(o) => o.data(),
            v => v,
        };
        enum Items {
            List(std::sync::Arc<Vec<Value>>),
            Map(Vec<(String, Value)>),
            Count,
        }
        let (items, len) = match &val {
            Value::Nil => (Items::Count, 0),
            Value::List(l) => (Items::List(l.clone()), l.len()),
            Value::Map(m) => {
                let entries: Vec<(String, Value)> = m
                    .read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let n = entries.len();
                (Items::Map(entries), n)
            }
            Value::Int(n) => {
                let at = At {
                    pos: b.pipe.pos,
                    context: &b.pipe,
                };
                if b.pipe.decl.len() > 1 {
                    return Err(self.error(
                        &at,
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                if *n > MAX_RANGE_COUNT {
                    return Err(self.error(
                        &at,
                        format!("range over {n} exceeds the limit of {MAX_RANGE_COUNT} iterations"),
                    ));
                }
                (Items::Count, usize::try_from((*n).max(0)).unwrap_or(0))
            }
            other => {
                return Err(self.error(
                    &At {
                        pos: b.pipe.pos,
                        context: &b.pipe,
                    },
                    format!("range can't iterate over {}", crate::gofmt::format_v(other)),
                ));
            }
        };
        if len == 0 {
            if let Some(e) = &b.else_list {
                self.walk_list(dot, e, out)?;
            }
            return Ok(());
        }
        let mark = self.vars.len();
        for idx in 0..len {
            let (index, elem) = match &items {
                Items::List(l) => (Value::from(idx), l[idx].clone()),
                Items::Map(m) => (Value::String(m[idx].0.clone()), m[idx].1.clone()),
                Items::Count => (Value::from(idx), Value::from(idx)),
            };
            let decl = &b.pipe.decl;
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    if decl.len() > 1 {
                        self.set_var(&decl[0], index.clone(), &b.pipe)?;
                        self.set_var(&decl[1], elem.clone(), &b.pipe)?;
                    } else {
                        self.set_var(&decl[0], elem.clone(), &b.pipe)?;
                    }
                } else {
                    // The pipeline pushed the declared variables; the last is the element.
                    let n = self.vars.len();
                    if decl.len() > 1 && n >= 2 {
                        self.vars[n - 2].1 = index.clone();
                    }
                    if n >= 1 {
                        self.vars[n - 1].1 = elem.clone();
                    }
                }
            }
            let flow = self.walk_list(&elem, &b.list, out);
            self.vars.truncate(mark);
            match flow? {
                Flow::Break => break,
                Flow::Normal | Flow::Continue => {}
            }
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        dot: &Value,
        pos: usize,
        name: &str,
        pipe: &Option<Pipe>,
        out: &mut String,
    ) -> R<()> {
        struct Ctx<'n>(&'n str, &'n Option<Pipe>);
        impl std::fmt::Display for Ctx<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{{{{template {}", crate::gofmt::quote(self.0))?;
                if let Some(p) = self.1 {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
        }
        let ctx = Ctx(name, pipe);
        let at = At { pos, context: &ctx };
        if !self.t.trees.contains_key(name) {
            return Err(self.error(
                &at,
                format!("template {} not defined", crate::gofmt::quote(name)),
            ));
        }
        if self.depth + 1 > self.t.max_depth {
            return Err(self.error(
                &at,
                format!("exceeded maximum template depth ({})", self.t.max_depth),
            ));
        }
        let data = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        execute(self.t, name, &data, out, self.depth + 1)
    }

    fn set_var(&mut self, name: &str, value: Value, pipe: &Pipe) -> R<()> {
        for v in self.vars.iter_mut().rev() {
            if v.0 == name {
                v.1 = value;
                return Ok(());
            }
        }
        Err(self.error(
            &At {
                pos: pipe.pos,
                context: pipe,
            },
            format!("undefined variable: {name}"),
        ))
    }

    fn var_value(&self, name: &str, at: &At<'_>) -> R<Value> {
        for v in self.vars.iter().rev() {
            if v.0 == name {
                return Ok(v.1.clone());
            }
        }
        Err(self.error(at, format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> R<Value> {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            self.eval_pipeline_inner(dot, pipe)
        })
    }

    fn eval_pipeline_inner(&mut self, dot: &Value, pipe: &Pipe) -> R<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone(), pipe)?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, final_: &Option<Value>) -> R<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            let first = &cmd.args[0];
            return Err(self.error(
                &At {
                    pos: first.pos(),
                    context: first,
                },
                format!("can't give argument to non-function {first}"),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Command, final_: Option<Value>) -> R<Value> {
        let Some(first) = cmd.args.first() else {
            return Ok(Value::Nil);
        };
        let rest = &cmd.args[1..];
        match first {
            Arg::Field { pos, idents } => {
                let at = At {
                    pos: *pos,
                    context: first,
                };
                self.eval_field_chain(dot, recv_of(dot), idents, rest, final_, &at)
            }
            Arg::Variable { pos, idents } => {
                let at = At {
                    pos: *pos,
                    context: first,
                };
                let v = self.var_value(&idents[0], &at)?;
                if idents.len() == 1 {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, recv_of(&v), &idents[1..], rest, final_, &at)
            }
            Arg::Chain { pos, node, fields } => {
                let at = At {
                    pos: *pos,
                    context: first,
                };
                let v = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv_of(&v), fields, rest, final_, &at)
            }
            Arg::Ident { pos, name } => self.eval_function(dot, *pos, name, cmd, rest, final_),
            Arg::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                self.eval_pipeline(dot, p)
            }
            Arg::Nil(pos) => Err(self.error(
                &At {
                    pos: *pos,
                    context: first,
                },
                "nil is not a command",
            )),
            Arg::Dot(_) => {
                self.not_a_function(cmd, &final_)?;
                Ok(dot.clone())
            }
            Arg::Bool(_, b) => {
                self.not_a_function(cmd, &final_)?;
                Ok(Value::Bool(*b))
            }
            Arg::Number { value, .. } => {
                self.not_a_function(cmd, &final_)?;
                Ok(value.clone())
            }
            Arg::Str { value, .. } => {
                self.not_a_function(cmd, &final_)?;
                Ok(Value::String(value.clone()))
            }
        }
    }

    /// Evaluates an argument (not in command position).
    fn eval_arg(&mut self, dot: &Value, arg: &Arg) -> R<Value> {
        match arg {
            Arg::Field { pos, idents } => {
                let at = At {
                    pos: *pos,
                    context: arg,
                };
                self.eval_field_chain(dot, recv_of(dot), idents, &[], None, &at)
            }
            Arg::Variable { pos, idents } => {
                let at = At {
                    pos: *pos,
                    context: arg,
                };
                let v = self.var_value(&idents[0], &at)?;
                if idents.len() == 1 {
                    return Ok(v);
                }
                self.eval_field_chain(dot, recv_of(&v), &idents[1..], &[], None, &at)
            }
            Arg::Chain { pos, node, fields } => {
                let at = At {
                    pos: *pos,
                    context: arg,
                };
                let v = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv_of(&v), fields, &[], None, &at)
            }
            Arg::Ident { pos, name } => {
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.eval_function(dot, *pos, name, &cmd, &[], None)
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Value::Nil),
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Number { value, .. } => Ok(value.clone()),
            Arg::Str { value, .. } => Ok(Value::String(value.clone())),
        }
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut recv: Recv,
        idents: &[String],
        args: &[Arg],
        final_: Option<Value>,
        at: &At<'_>,
    ) -> R<Value> {
        let n = idents.len();
        for (i, name) in idents.iter().enumerate() {
            let last = i + 1 == n;
            let (a, f) = if last {
                (args, final_.clone())
            } else {
                (&[][..], None)
            };
            recv = self.eval_field(dot, name, recv, a, f, at)?;
        }
        Ok(match recv {
            Recv::Invalid | Recv::NilIface => Value::Nil,
            Recv::Val(v, _) => v,
        })
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        recv: Recv,
        args: &[Arg],
        final_: Option<Value>,
        at: &At<'_>,
    ) -> R<Recv> {
        let has_args = !args.is_empty() || final_.is_some();
        let (v, in_iface) = match recv {
            Recv::Invalid => {
                if self.t.missing_key == MissingKey::Error {
                    return Err(self.error(
                        at,
                        format!("nil data; no entry for key {}", crate::gofmt::quote(name)),
                    ));
                }
                return Ok(Recv::Invalid);
            }
            Recv::NilIface => {
                return Err(self.error(at, format!("nil pointer evaluating interface {{}}.{name}")));
            }
            Recv::Val(v, in_iface) => (v, in_iface),
        };
        match &v {
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(at, format!("{name} is not a method but has arguments")));
                }
                match m.get(name) {
                    Some(Value::Nil) => Ok(Recv::NilIface),
                    Some(x) => Ok(Recv::Val(x, true)),
                    None => match self.t.missing_key {
                        MissingKey::Default => Ok(Recv::Invalid),
                        MissingKey::Zero => Ok(Recv::NilIface),
                        MissingKey::Error => Err(self.error(
                            at,
                            format!("map has no entry for key {}", crate::gofmt::quote(name)),
                        )),
                    },
                }
            }
            Value::Object(o) => {
                let mut argv = Vec::with_capacity(args.len() + 1);
                for a in args {
                    argv.push(self.eval_arg(dot, a)?);
                }
                if let Some(f) = final_ {
                    argv.push(f);
                }
                let r = if argv.is_empty() {
                    o.field(name)
                } else {
                    o.call_method(name, &argv)
                };
                match r {
                    Some(Ok(Value::Nil)) => Ok(Recv::Invalid),
                    Some(Ok(x)) => Ok(Recv::Val(x, false)),
                    Some(Err(e)) => Err(self.error(at, func_error_message(name, e))),
                    None => {
                        if !argv.is_empty() && o.field(name).is_some() {
                            return Err(self.error(
                                at,
                                format!("{name} has arguments but cannot be invoked as function"),
                            ));
                        }
                        Err(self.error(
                            at,
                            format!("can't evaluate field {name} in type {}", o.type_name()),
                        ))
                    }
                }
            }
            other => {
                let typ = if in_iface {
                    "interface {}".to_string()
                } else {
                    other.type_name()
                };
                Err(self.error(at, format!("can't evaluate field {name} in type {typ}")))
            }
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        pos: usize,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let at = At {
            pos: cmd.pos.min(pos),
            context: cmd,
        };
        let user = self.t.funcs.get(name).cloned();
        if user.is_none() && (name == "and" || name == "or") {
            return self.eval_and_or(dot, name == "and", args, final_, &at);
        }
        let mut argv = Vec::with_capacity(args.len() + 1);
        for a in args {
            argv.push(self.eval_arg(dot, a)?);
        }
        if let Some(f) = final_ {
            argv.push(f);
        }
        let result = if let Some(f) = user {
            f(self, &argv)
        } else if let Some(b) = builtins::lookup(name) {
            b(&argv)
        } else {
            return Err(self.error(
                &at,
                format!("{} is not a defined function", crate::gofmt::quote(name)),
            ));
        };
        result.map_err(|e| self.error(&at, func_error_message(name, e)))
    }

    /// `and`/`or` evaluate arguments left to right and stop at the first that decides.
    fn eval_and_or(
        &mut self,
        dot: &Value,
        is_and: bool,
        args: &[Arg],
        final_: Option<Value>,
        at: &At<'_>,
    ) -> R<Value> {
        let name = if is_and { "and" } else { "or" };
        let total = args.len() + usize::from(final_.is_some());
        if total < 1 {
            return Err(self.error(
                at,
                format!("wrong number of args for {name}: want at least 1 got 0"),
            ));
        }
        let mut v = Value::Nil;
        for a in args {
            v = self.eval_arg(dot, a)?;
            if v.truthy() != is_and {
                return Ok(v);
            }
        }
        if let Some(f) = final_ {
            v = f;
        }
        Ok(v)
    }
}

fn recv_of(v: &Value) -> Recv {
    match v {
        Value::Nil => Recv::Invalid,
        v => Recv::Val(v.clone(), false),
    }
}

/// Go's wording for a failed call of `name`.
fn func_error_message(name: &str, e: FuncError) -> String {
    match e {
        FuncError::Arity { want, got } => {
            format!("wrong number of args for {name}: want {want} got {got}")
        }
        e @ (FuncError::WrongType { .. } | FuncError::Invalid { .. }) => e.to_string(),
        FuncError::Failed(m) => format!("error calling {name}: {m}"),
        FuncError::Template(e) => format!("error calling {name}: {e}"),
    }
}

/// Prints an action's value: nil (or missing) prints `<no value>`, everything else as `%v`.
fn print_value(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("<no value>"),
        Value::String(s) => out.push_str(s),
        v => crate::gofmt::write_v(v, out),
    }
}

/// Go's `line:col` for a byte offset (col is the 0-based byte offset within the line).
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src.as_bytes()[..pos];
    let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
    let col = match before.iter().rposition(|&c| c == b'\n') {
        Some(nl) => pos - (nl + 1),
        None => pos,
    };
    (line, col)
}

impl FuncContext for State<'_> {
    fn execute_template(&mut self, name: &str, data: &Value) -> Result<String, Error> {
        if self.depth + 1 > self.t.max_depth {
            return Err(Error::DepthExceeded {
                name: name.to_string(),
                limit: self.t.max_depth,
            });
        }
        let mut out = String::new();
        execute(self.t, name, data, &mut out, self.depth + 1)?;
        Ok(out)
    }

    fn execute_text(&mut self, name: &str, text: &str, data: &Value) -> Result<String, Error> {
        if self.depth + 1 > self.t.max_depth {
            return Err(Error::DepthExceeded {
                name: name.to_string(),
                limit: self.t.max_depth,
            });
        }
        let mut t = self.t.clone();
        t.parse(name, text)?;
        let mut out = String::new();
        execute(&t, name, data, &mut out, self.depth + 1)?;
        Ok(out)
    }

    fn template_name(&self) -> &str {
        self.name
    }

    fn root_name(&self) -> &str {
        self.t.name()
    }

    fn depth(&self) -> usize {
        self.depth
    }
}
