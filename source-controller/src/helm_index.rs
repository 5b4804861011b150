//! Helm repository index (`index.yaml`): parsing only the fields a chart lookup needs, version
//! resolution with Masterminds ranges as Flux's `ChartRepository.Get`, and chart URL joining.
//!
//! Real indexes run to tens of megabytes; a pull parser walks the YAML events once and keeps
//! only these fields, skipping every other one (descriptions, maintainers, annotations) without
//! building a YAML tree or buffering the event stream.

use std::collections::BTreeMap;

use flux_git::SemverRange;
use yaml_rust2::Event;
use yaml_rust2::parser::Parser;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexError {
    #[error("empty index.yaml file")]
    Empty,
    #[error("{0}")]
    Yaml(String),
    #[error("no API version specified")]
    NoApiVersion,
    #[error("no chart name found")]
    NoChartName,
    #[error("no chart version found for {0}")]
    NoChartVersion(String),
    #[error("invalid version constraint '{range}': {message}")]
    InvalidRange { range: String, message: String },
    #[error("no '{name}' chart with version matching '{range}' found")]
    NoMatch { name: String, range: String },
    #[error("chart '{0}' has no downloadable URLs")]
    NoUrls(String),
    #[error("invalid chart URL format '{url}': {message}")]
    InvalidUrl { url: String, message: String },
}

/// One chart version of the index, with only what lookup and download need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartVersion {
    pub name: String,
    pub version: String,
    pub urls: Vec<String>,
    pub created: Option<String>,
    pub digest: Option<String>,
}

/// The parsed index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    pub api_version: String,
    pub entries: BTreeMap<String, Vec<Option<ChartVersion>>>,
}

impl Index {
    /// Parses and validates an index as Helm's `loadIndex`: it must be YAML (or JSON), carry an
    /// `apiVersion`, and its `entries` must be a map of chart name to a list of versions.
    pub fn parse(bytes: &[u8]) -> Result<Index, IndexError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(IndexError::Empty);
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| IndexError::Yaml(format!("index is not UTF-8 text: {e}")))?;
        let index = Events::new(text).index()?;
        if index.api_version.is_empty() {
            return Err(IndexError::NoApiVersion);
        }
        Ok(index)
    }

    /// The version of `name` that `range` selects: an exact version string first, then the
    /// highest semver match (`*` or empty: the latest stable), ties broken by `created`.
    pub fn get(&self, name: &str, range: &str) -> Result<&ChartVersion, IndexError> {
        let versions: Vec<&ChartVersion> = self
            .entries
            .get(name)
            .ok_or(IndexError::NoChartName)?
            .iter()
            .flatten()
            .collect();
        if versions.is_empty() {
            return Err(IndexError::NoChartVersion(name.to_string()));
        }
        let range = range.trim();
        if !range.is_empty()
            && let Some(exact) = versions.iter().find(|v| v.version == range)
        {
            return Ok(exact);
        }
        let text = if range.is_empty() { "*" } else { range };
        let parsed = SemverRange::parse(text).map_err(|e| IndexError::InvalidRange {
            range: text.to_string(),
            message: e.to_string(),
        })?;
        let mut best: Option<(semver_key::Key, &ChartVersion)> = None;
        for cv in versions {
            let Some(v) = semver_key::parse(&cv.version) else {
                continue;
            };
            if !parsed.matches(&v) {
                continue;
            }
            let key = semver_key::Key {
                version: v,
                created: cv.created.clone().unwrap_or_default(),
            };
            if best.as_ref().is_none_or(|(b, _)| key > *b) {
                best = Some((key, cv));
            }
        }
        best.map(|(_, cv)| cv).ok_or_else(|| IndexError::NoMatch {
            name: name.to_string(),
            range: range.to_string(),
        })
    }
}

/// The YAML event stream of an index, read once.
struct Events<'a> {
    parser: Parser<std::str::Chars<'a>>,
}

impl<'a> Events<'a> {
    fn new(text: &'a str) -> Self {
        Events {
            parser: Parser::new_from_str(text),
        }
    }

    fn next(&mut self) -> Result<Event, IndexError> {
        self.parser
            .next_token()
            .map(|(event, _)| event)
            .map_err(|e| IndexError::Yaml(e.to_string()))
    }

    /// Consumes the rest of the node that started with `first`.
    fn skip(&mut self, first: Event) -> Result<(), IndexError> {
        let mut depth = match first {
            Event::MappingStart(..) | Event::SequenceStart(..) => 1usize,
            _ => return Ok(()),
        };
        while depth > 0 {
            match self.next()? {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth -= 1,
                Event::StreamEnd => return Err(IndexError::Yaml("unexpected end of YAML".into())),
                _ => {}
            }
        }
        Ok(())
    }

    /// A scalar value as a string; other nodes are skipped and read as empty.
    fn scalar(&mut self) -> Result<Option<String>, IndexError> {
        match self.next()? {
            Event::Scalar(value, style, ..) => Ok(Some(value).filter(|v| {
                style != yaml_rust2::scanner::TScalarStyle::Plain
                    || !matches!(v.as_str(), "~" | "null" | "Null" | "NULL" | "")
            })),
            other => {
                self.skip(other)?;
                Ok(None)
            }
        }
    }

    fn index(mut self) -> Result<Index, IndexError> {
        let mut index = Index::default();
        loop {
            match self.next()? {
                Event::StreamStart | Event::DocumentStart => continue,
                Event::StreamEnd => return Err(IndexError::Empty),
                Event::MappingStart(..) => break,
                _ => return Err(IndexError::Yaml("index.yaml is not a YAML map".into())),
            }
        }
        loop {
            match self.next()? {
                Event::MappingEnd => return Ok(index),
                Event::Scalar(key, ..) if key == "apiVersion" => {
                    index.api_version = self.scalar()?.unwrap_or_default();
                }
                Event::Scalar(key, ..) if key == "entries" => self.entries(&mut index)?,
                key => {
                    self.skip(key)?;
                    let value = self.next()?;
                    self.skip(value)?;
                }
            }
        }
    }

    fn entries(&mut self, index: &mut Index) -> Result<(), IndexError> {
        match self.next()? {
            Event::MappingStart(..) => {}
            Event::Scalar(v, ..) if matches!(v.as_str(), "~" | "null" | "") => return Ok(()),
            _ => return Err(IndexError::Yaml("entries: not a map of chart names".into())),
        }
        loop {
            let name = match self.next()? {
                Event::MappingEnd => return Ok(()),
                Event::Scalar(name, ..) => name,
                other => {
                    self.skip(other)?;
                    let value = self.next()?;
                    self.skip(value)?;
                    continue;
                }
            };
            let mut versions = Vec::new();
            match self.next()? {
                Event::SequenceStart(..) => loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        Event::MappingStart(..) => versions.push(Some(self.chart_version()?)),
                        Event::Scalar(..) | Event::Alias(..) => versions.push(None),
                        other => {
                            return Err(IndexError::Yaml(format!(
                                "entries.{name}: unexpected {other:?}"
                            )));
                        }
                    }
                },
                Event::Scalar(v, ..) if matches!(v.as_str(), "~" | "null" | "") => {}
                _ => {
                    return Err(IndexError::Yaml(format!(
                        "entries.{name}: not a list of chart versions"
                    )));
                }
            }
            index.entries.insert(name, versions);
        }
    }

    /// The fields of one chart version; its mapping start is already read.
    fn chart_version(&mut self) -> Result<ChartVersion, IndexError> {
        let mut cv = ChartVersion::default();
        loop {
            match self.next()? {
                Event::MappingEnd => return Ok(cv),
                Event::Scalar(key, ..) => match key.as_str() {
                    "name" => cv.name = self.scalar()?.unwrap_or_default(),
                    "version" => cv.version = self.scalar()?.unwrap_or_default(),
                    "created" => cv.created = self.scalar()?,
                    "digest" => cv.digest = self.scalar()?,
                    "urls" => match self.next()? {
                        Event::SequenceStart(..) => loop {
                            match self.next()? {
                                Event::SequenceEnd => break,
                                Event::Scalar(url, ..) => cv.urls.push(url),
                                other => self.skip(other)?,
                            }
                        },
                        other => self.skip(other)?,
                    },
                    _ => {
                        let value = self.next()?;
                        self.skip(value)?;
                    }
                },
                other => {
                    self.skip(other)?;
                    let value = self.next()?;
                    self.skip(value)?;
                }
            }
        }
    }
}

/// Ordering of candidate versions: semver precedence, then creation time (RFC 3339 strings
/// compare chronologically), so builds differing only in metadata pick the newest.
mod semver_key {
    #[derive(Debug, PartialEq, Eq)]
    pub struct Key {
        pub version: semver::Version,
        pub created: String,
    }

    impl PartialOrd for Key {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for Key {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.version
                .cmp_precedence(&other.version)
                .then_with(|| self.created.cmp(&other.created))
        }
    }

    pub fn parse(text: &str) -> Option<semver::Version> {
        super::parse_version(text)
    }
}

/// Parses a chart version leniently (a `v` prefix and `1.2` short forms, as Masterminds).
pub fn parse_version(text: &str) -> Option<semver::Version> {
    let t = text.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    let (core, suffix) = match t.find(['-', '+']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let dots = core.matches('.').count();
    if dots >= 2 || core.is_empty() || !core.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    semver::Version::parse(&format!("{core}{}{suffix}", ".0".repeat(2 - dots))).ok()
}

/// The download URL of a chart: absolute URLs as they are, relative ones resolved against the
/// repository URL (with a trailing slash, keeping the repository's query), as Flux does.
pub fn chart_url(repo_url: &str, chart: &ChartVersion) -> Result<reqwest::Url, IndexError> {
    let first = chart
        .urls
        .first()
        .ok_or_else(|| IndexError::NoUrls(chart.name.clone()))?;
    if let Ok(abs) = reqwest::Url::parse(first) {
        return Ok(abs);
    }
    let mut base = reqwest::Url::parse(repo_url).map_err(|e| IndexError::InvalidUrl {
        url: repo_url.to_string(),
        message: e.to_string(),
    })?;
    let query = base.query().map(str::to_string);
    let path = format!("{}/", base.path().trim_end_matches('/'));
    base.set_path(&path);
    base.set_query(None);
    let mut joined = base.join(first).map_err(|e| IndexError::InvalidUrl {
        url: first.clone(),
        message: e.to_string(),
    })?;
    if query.is_some() {
        joined.set_query(query.as_deref());
    }
    Ok(joined)
}

/// The index URL of a repository: `<url>/index.yaml`, keeping any query.
pub fn index_url(repo_url: &str) -> Result<reqwest::Url, IndexError> {
    let mut url = reqwest::Url::parse(repo_url).map_err(|e| IndexError::InvalidUrl {
        url: repo_url.to_string(),
        message: e.to_string(),
    })?;
    let path = format!("{}/index.yaml", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

/// Size as Docker's `units.HumanSize` prints it (decimal units, 4 significant digits), which
/// Flux uses in its NewArtifact event.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", format_g4(size), UNITS[unit])
}

/// `%.4g` for values below 1000: four significant digits, trailing zeros dropped.
fn format_g4(value: f64) -> String {
    let digits_before = if value < 1.0 {
        1
    } else {
        (value.log10().floor() as i32 + 1).max(1)
    };
    let decimals = (4 - digits_before).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"apiVersion: v1
entries:
  podinfo:
  - name: podinfo
    version: 6.1.6
    description: ignored
    maintainers: [{name: x}]
    urls: [podinfo-6.1.6.tgz]
    created: "2022-05-01T00:00:00Z"
  - name: podinfo
    version: 6.2.0-rc.1
    urls: [https://charts.example.com/podinfo-6.2.0-rc.1.tgz]
  - name: podinfo
    version: 5.0.0
    urls: [podinfo-5.0.0.tgz]
  - null
  empty: []
generated: "2022-05-01T00:00:00Z"
"#;

    #[test]
    fn parse_keeps_only_lookup_fields_and_tolerates_null_entries() {
        let index = Index::parse(INDEX.as_bytes()).expect("index");
        assert_eq!(index.api_version, "v1");
        assert_eq!(index.entries["podinfo"].len(), 4);
        assert_eq!(
            index.entries["podinfo"][0].as_ref().map(|v| v.urls.clone()),
            Some(vec!["podinfo-6.1.6.tgz".to_string()])
        );
    }

    #[test]
    fn json_indexes_and_skipped_nested_fields_parse_like_yaml_ones() {
        let json = br#"{"apiVersion":"v1","entries":{"app":[{"name":"app","version":"1.0.0",
            "maintainers":[{"name":"x","urls":["a"]}],"annotations":{"urls":"no"},
            "urls":["app-1.0.0.tgz"],"digest":"abc"}]},"generated":"2026-01-01T00:00:00Z"}"#;
        let index = Index::parse(json).expect("json index");
        let cv = index.get("app", "*").expect("app");
        assert_eq!(cv.urls, vec!["app-1.0.0.tgz".to_string()]);
        assert_eq!(cv.digest.as_deref(), Some("abc"));
        let anchored = b"apiVersion: v1\nentries:\n  a:\n  - &base\n    name: a\n    version: 1.0.0\n    urls: [a.tgz]\n  - *base\n";
        let index = Index::parse(anchored).expect("anchors");
        assert_eq!(index.entries["a"].len(), 2);
        assert_eq!(index.get("a", "*").expect("a").version, "1.0.0");
    }

    #[test]
    fn index_without_api_version_or_not_yaml_is_refused() {
        assert_eq!(
            Index::parse(b"entries: {}\n"),
            Err(IndexError::NoApiVersion)
        );
        assert_eq!(Index::parse(b"  \n"), Err(IndexError::Empty));
        assert!(matches!(
            Index::parse(b"<html><body>not found</body></html>"),
            Err(IndexError::Yaml(_))
        ));
        assert!(matches!(
            Index::parse(b"apiVersion: v1\nentries: [1, 2]\n"),
            Err(IndexError::Yaml(_))
        ));
    }

    #[test]
    fn star_and_empty_pick_latest_stable_and_ranges_pick_highest_match() {
        let index = Index::parse(INDEX.as_bytes()).expect("index");
        assert_eq!(index.get("podinfo", "*").expect("*").version, "6.1.6");
        assert_eq!(index.get("podinfo", "").expect("empty").version, "6.1.6");
        assert_eq!(index.get("podinfo", "<6.0.0").expect("<6").version, "5.0.0");
        assert_eq!(
            index.get("podinfo", ">=6.2.0-rc.0").expect("rc").version,
            "6.2.0-rc.1"
        );
        assert_eq!(
            index.get("podinfo", "6.2.0-rc.1").expect("exact").version,
            "6.2.0-rc.1"
        );
    }

    #[test]
    fn lookups_that_match_nothing_say_why() {
        let index = Index::parse(INDEX.as_bytes()).expect("index");
        assert_eq!(
            index
                .get("podinfo", ">=9.0.0")
                .expect_err("none")
                .to_string(),
            "no 'podinfo' chart with version matching '>=9.0.0' found"
        );
        assert_eq!(index.get("nginx", "*"), Err(IndexError::NoChartName));
        assert!(matches!(
            index.get("empty", "*"),
            Err(IndexError::NoChartVersion(_))
        ));
        assert!(matches!(
            index.get("podinfo", ">=x"),
            Err(IndexError::InvalidRange { .. })
        ));
    }

    #[test]
    fn relative_chart_urls_resolve_against_the_repository_and_keep_its_query() {
        let index = Index::parse(INDEX.as_bytes()).expect("index");
        let cv = index.get("podinfo", "6.1.6").expect("cv");
        assert_eq!(
            chart_url("http://127.0.0.1:8080/charts?token=a", cv)
                .expect("url")
                .as_str(),
            "http://127.0.0.1:8080/charts/podinfo-6.1.6.tgz?token=a"
        );
        let abs = index.get("podinfo", "6.2.0-rc.1").expect("cv");
        assert_eq!(
            chart_url("http://127.0.0.1:8080/charts/", abs)
                .expect("url")
                .as_str(),
            "https://charts.example.com/podinfo-6.2.0-rc.1.tgz"
        );
        assert_eq!(
            index_url("http://h/charts/").expect("index").as_str(),
            "http://h/charts/index.yaml"
        );
    }

    #[test]
    fn human_size_matches_docker_units() {
        assert_eq!(human_size(40898), "40.9kB");
        assert_eq!(human_size(30880), "30.88kB");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(1_234_567), "1.235MB");
    }
}
