//! `flux helm template [NAME] CHART [flags]`: what `helm template` prints, rendered by flux-helm.
//!
//! The arguments after `template` are taken raw and read here with Helm's flag syntax (pflag:
//! `--flag value`, `--flag=value`, `-f value`, `-fvalue`, flags between positionals, `--`),
//! so that `-n` means Helm's namespace (default `default`), not flux's global one.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use flux_helm::{Error as HelmError, TemplateOptions, template, template_args};

use super::CommandError;

#[derive(Debug, Clone, Subcommand)]
pub enum HelmCommand {
    /// Render a chart locally and print the manifests, as `helm template` does.
    ///
    /// Flags: --set, --set-string, --set-json, --set-file, --set-literal, -f/--values,
    /// --kube-version, -a/--api-versions, --include-crds, --skip-tests, --no-hooks,
    /// -s/--show-only, --name-template, -n/--namespace, --is-upgrade,
    /// --skip-schema-validation, --debug.
    Template(TemplateArgs),
}

#[derive(Debug, Clone, Args)]
#[command(override_usage = "flux helm template [NAME] CHART [flags]")]
pub struct TemplateArgs {
    /// [NAME] CHART followed by helm template's flags.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
    /// Takes the id of flux's global `--namespace`, which clap then does not add here, so that
    /// `-n` anywhere after `template` reaches Helm's parser (Helm's default namespace is
    /// `default`, not `flux-system`). Never set.
    #[arg(id = "namespace", long = "flux-global-namespace", hide = true)]
    pub shadowed_namespace: Option<String>,
}

pub fn run(cmd: &HelmCommand, out: &mut dyn Write) -> Result<(), CommandError> {
    match cmd {
        HelmCommand::Template(args) => {
            let (chart, opts) = parse_template_args(&args.args)?;
            match template(&chart, &opts) {
                Ok(text) => Ok(out.write_all(text.as_bytes())?),
                // Helm prints what rendered under --debug before failing on invalid YAML.
                Err(HelmError::WithOutput { output, message }) => {
                    out.write_all(output.as_bytes())?;
                    Err(CommandError::Build(message))
                }
                Err(e) => Err(CommandError::Build(e.to_string())),
            }
        }
    }
}

/// How a flag takes its value, as Helm declares it to pflag.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    /// One string; the last occurrence wins.
    String,
    /// Repeatable, each occurrence one value (pflag StringArray).
    Array,
    /// Repeatable, each occurrence a comma-separated list (pflag StringSlice).
    Slice,
}

/// `(long, short, kind)` for every flag of `helm template` that flux-helm implements.
const FLAGS: &[(&str, Option<char>, Kind)] = &[
    ("set", None, Kind::Array),
    ("set-string", None, Kind::Array),
    ("set-json", None, Kind::Array),
    ("set-file", None, Kind::Array),
    ("set-literal", None, Kind::Array),
    ("values", Some('f'), Kind::Slice),
    ("kube-version", None, Kind::String),
    ("api-versions", Some('a'), Kind::Slice),
    ("include-crds", None, Kind::Bool),
    ("skip-tests", None, Kind::Bool),
    ("no-hooks", None, Kind::Bool),
    ("show-only", Some('s'), Kind::Array),
    ("name-template", None, Kind::String),
    ("namespace", Some('n'), Kind::String),
    ("is-upgrade", None, Kind::Bool),
    ("skip-schema-validation", None, Kind::Bool),
    ("debug", None, Kind::Bool),
];

/// Flags of `helm template` that need a cluster, a repository or a file system to write to:
/// refused by name rather than ignored, so nobody gets output that silently differs from helm's.
const UNSUPPORTED: &[&str] = &[
    "generate-name",
    "output-dir",
    "release-name",
    "validate",
    "dry-run",
    "version",
    "repo",
    "devel",
    "dependency-update",
    "post-renderer",
    "post-renderer-args",
    "verify",
    "keyring",
    "kubeconfig",
    "kube-context",
];

/// Reads `helm template`'s arguments: the chart path and the options, or Helm's error.
pub fn parse_template_args(args: &[String]) -> Result<(PathBuf, TemplateOptions), CommandError> {
    let mut opts = TemplateOptions::default();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            positional.extend(it.by_ref().cloned());
            break;
        }
        let (spec, inline) = if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let spec = FLAGS.iter().find(|f| f.0 == name).ok_or_else(|| {
                if UNSUPPORTED.contains(&name) {
                    CommandError::Unsupported(format!(
                        "flag --{name} is not supported by flux helm template"
                    ))
                } else {
                    CommandError::Unsupported(format!("unknown flag: --{name}"))
                }
            })?;
            (spec, inline)
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let c = short.chars().next().unwrap_or_default();
            let spec = FLAGS.iter().find(|f| f.1 == Some(c)).ok_or_else(|| {
                CommandError::Unsupported(format!("unknown shorthand flag: '{c}' in {arg}"))
            })?;
            // pflag reads `-fvalue` and `-f=value` as `-f value`.
            let rest = &short[c.len_utf8()..];
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (spec, (!rest.is_empty()).then(|| rest.to_string()))
        } else {
            positional.push(arg.clone());
            continue;
        };
        let (name, _, kind) = *spec;
        let value = match (kind, inline) {
            (Kind::Bool, None) => "true".to_string(),
            (_, Some(v)) => v,
            (_, None) => it.next().cloned().ok_or_else(|| {
                CommandError::Unsupported(format!("flag needs an argument: --{name}"))
            })?,
        };
        apply(&mut opts, name, kind, value)?;
    }
    let chart =
        template_args(&positional, &mut opts).map_err(|e| CommandError::Build(e.to_string()))?;
    Ok((chart, opts))
}

fn apply(
    opts: &mut TemplateOptions,
    name: &str,
    kind: Kind,
    value: String,
) -> Result<(), CommandError> {
    if let Kind::Bool = kind {
        let on = match value.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            _ => {
                return Err(CommandError::Unsupported(format!(
                    "invalid argument \"{value}\" for \"--{name}\" flag: strconv.ParseBool: parsing \"{value}\": invalid syntax"
                )));
            }
        };
        match name {
            "include-crds" => opts.include_crds = on,
            "skip-tests" => opts.skip_tests = on,
            "no-hooks" => opts.no_hooks = on,
            "is-upgrade" => opts.is_upgrade = on,
            "skip-schema-validation" => opts.skip_schema_validation = on,
            _ => opts.debug = on,
        }
        return Ok(());
    }
    let values = match kind {
        Kind::Slice => split_csv(&value),
        _ => vec![value],
    };
    for v in values {
        match name {
            "set" => opts.set.push(v),
            "set-string" => opts.set_string.push(v),
            "set-json" => opts.set_json.push(v),
            "set-file" => opts.set_file.push(v),
            "set-literal" => opts.set_literal.push(v),
            "values" => opts.values_files.push(PathBuf::from(v)),
            "kube-version" => opts.kube_version = Some(v),
            "api-versions" => opts.api_versions.push(v),
            "show-only" => opts.show_only.push(v),
            "name-template" => opts.name_template = Some(v),
            _ => opts.namespace = v,
        }
    }
    Ok(())
}

/// A pflag StringSlice value: one CSV record, so `"a,b",c` is two values.
fn split_csv(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("one field at least");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            ',' if !quoted => fields.push(String::new()),
            c => field.push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(PathBuf, TemplateOptions), CommandError> {
        parse_template_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn flags_take_pflag_forms_between_positionals() {
        let (chart, o) = parse(&[
            "-fa.yaml,b.yaml",
            "web",
            "--set=x=1",
            "--set",
            "y=2",
            "./chart",
            "-n=team",
            "--include-crds",
            "--skip-tests=false",
            "-s",
            "templates/a.yaml",
        ])
        .unwrap();
        assert_eq!(chart, PathBuf::from("./chart"));
        assert_eq!(o.release_name, "web");
        assert_eq!(
            o.values_files,
            [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        assert_eq!(o.set, ["x=1", "y=2"]);
        assert_eq!(o.namespace, "team");
        assert!(o.include_crds && !o.skip_tests);
        assert_eq!(o.show_only, ["templates/a.yaml"]);
    }

    #[test]
    fn set_values_keep_their_commas_and_slices_read_csv() {
        let (_, o) =
            parse(&["c", "--set", "a=1,b=2", "--api-versions", "\"x/v1,y\",z/v1"]).unwrap();
        assert_eq!(o.set, ["a=1,b=2"]);
        assert_eq!(o.api_versions, ["x/v1,y", "z/v1"]);
    }

    #[test]
    fn double_dash_ends_flags() {
        let (chart, o) = parse(&["--", "--odd-name", "chart"]).unwrap();
        assert_eq!(
            (o.release_name.as_str(), chart),
            ("--odd-name", PathBuf::from("chart"))
        );
    }

    #[test]
    fn unknown_unsupported_and_valueless_flags_are_errors() {
        let e = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert_eq!(e(&["c", "--bogus"]), "unknown flag: --bogus");
        assert_eq!(e(&["c", "-x"]), "unknown shorthand flag: 'x' in -x");
        assert_eq!(e(&["c", "--set"]), "flag needs an argument: --set");
        assert_eq!(
            e(&["c", "--output-dir", "/tmp/x"]),
            "flag --output-dir is not supported by flux helm template"
        );
        assert!(e(&["c", "--debug=maybe"]).contains("invalid argument \"maybe\""));
    }
}
