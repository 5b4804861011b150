//! Live progress of `flux local run` on stderr: on a terminal, one line per Flux object with a
//! spinner, redrawn in place; otherwise a plain line each time an object's state changes, so
//! CI logs stay readable.

use std::io::Write;

use super::report::ObjectReport;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

pub struct Progress<'a> {
    out: &'a mut dyn Write,
    live: bool,
    /// Lines of the live block currently on screen.
    drawn: usize,
    frame: usize,
    width: usize,
}

impl<'a> Progress<'a> {
    /// `live` redraws in place (for a terminal); plain lines otherwise.
    pub fn new(out: &'a mut dyn Write, live: bool) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100usize)
            .max(40);
        Progress {
            out,
            live,
            drawn: 0,
            frame: 0,
            width,
        }
    }

    /// A one-off message, printed above the live block.
    pub fn message(&mut self, text: &str) {
        self.clear();
        let _ = writeln!(self.out, "{text}");
    }

    /// Shows `current` after `previous`; called on every poll, changed or not.
    pub fn show(&mut self, previous: &[ObjectReport], current: &[ObjectReport]) {
        if self.live {
            self.frame = (self.frame + 1) % SPINNER.len();
            self.clear();
            for o in current {
                let line = format!(
                    "{} {}/{}/{}  {}",
                    self.mark(o),
                    o.kind,
                    o.namespace,
                    o.name,
                    o.message
                );
                let _ = writeln!(self.out, "{}", truncate(&line, self.width));
            }
            self.drawn = current.len();
        } else {
            for o in current.iter().filter(|o| !previous.contains(o)) {
                let mark = if o.is_ready() { "✔" } else { "…" };
                let _ = writeln!(
                    self.out,
                    "{mark} {}/{}/{}: {}",
                    o.kind, o.namespace, o.name, o.message
                );
            }
        }
        let _ = self.out.flush();
    }

    /// Removes the live block, before the report is printed.
    pub fn finish(&mut self) {
        self.clear();
        let _ = self.out.flush();
    }

    fn mark(&self, o: &ObjectReport) -> char {
        match o.ready.as_str() {
            "True" => '✔',
            "False" => '✗',
            _ => SPINNER[self.frame],
        }
    }

    fn clear(&mut self) {
        if self.live && self.drawn > 0 {
            // Up to the first line of the block, then erase to the end of the screen.
            let _ = write!(self.out, "\x1b[{}A\x1b[J", self.drawn);
            self.drawn = 0;
        }
    }
}

fn truncate(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, ready: &str) -> ObjectReport {
        ObjectReport {
            kind: "Kustomization".into(),
            namespace: "flux-system".into(),
            name: name.into(),
            ready: ready.into(),
            reason: String::new(),
            message: format!("{name} is {ready}"),
            revision: None,
            applied: None,
            parent: None,
        }
    }

    #[test]
    fn plain_mode_prints_only_changes() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, false);
        let first = vec![obj("a", "Unknown"), obj("b", "Unknown")];
        p.show(&[], &first);
        let second = vec![obj("a", "True"), obj("b", "Unknown")];
        p.show(&first, &second);
        p.show(&second, &second);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "… Kustomization/flux-system/a: a is Unknown\n… Kustomization/flux-system/b: b is Unknown\n✔ Kustomization/flux-system/a: a is True\n"
        );
    }

    #[test]
    fn live_mode_redraws_the_block_in_place() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, true);
        let objects = vec![obj("a", "True"), obj("b", "Unknown")];
        p.show(&[], &objects);
        p.show(&objects, &objects);
        p.message("► done");
        let text = String::from_utf8(out).unwrap();
        // The second frame moves up over the two lines of the first and erases them.
        assert_eq!(text.matches("\x1b[2A\x1b[J").count(), 2, "{text:?}");
        assert!(text.contains("✔ Kustomization/flux-system/a  a is True\n"));
        assert!(
            text.contains(&format!("{} Kustomization/flux-system/b", SPINNER[2])),
            "{text:?}"
        );
        assert!(text.ends_with("► done\n"));
    }
}
