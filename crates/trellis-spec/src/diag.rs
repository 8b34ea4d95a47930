use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor, Config, Styles, StylesWriter};

/// A spec file's name (as given on the command line) and text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// A place in a spec: a byte range, with the 1-based line and column of its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub col: usize,
}

/// Where each line of a text starts, as a byte and as a character offset. A position is
/// found by a binary search and a walk along its one line, so giving every node of a
/// large spec its line and column costs the spec's size, not its size squared.
pub(crate) struct LineIndex {
    /// `(byte, char)` of each line's first character.
    starts: Vec<(usize, usize)>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![(0, 0)];
        for (chars, (byte, c)) in text.char_indices().enumerate() {
            if c == '\n' {
                starts.push((byte + 1, chars + 1));
            }
        }
        LineIndex { starts }
    }

    /// The span of `len` characters starting at character index `char_index` of `text`.
    pub(crate) fn span_at(&self, text: &str, char_index: usize, len: usize) -> Span {
        let line = self.starts.partition_point(|&(_, c)| c <= char_index) - 1;
        let (line_byte, line_char) = self.starts[line];
        let start = nth_char(text, line_byte, char_index - line_char);
        let end = nth_char(text, start, len);
        Span { start, end, line: line + 1, col: char_index - line_char + 1 }
    }

    /// A span `offset` characters further into the same line as `span` (for positions
    /// inside a scalar, such as a `${...}` reference).
    pub(crate) fn shift(&self, text: &str, span: Span, offset: usize, len: usize) -> Span {
        let (line_byte, line_char) = self.starts[span.line.max(1) - 1];
        let char_index = line_char + text[line_byte..span.start].chars().count() + offset;
        self.span_at(text, char_index, len)
    }
}

/// The byte offset `n` characters after byte `from` (the text's end when it is shorter).
fn nth_char(text: &str, from: usize, n: usize) -> usize {
    text[from..].char_indices().nth(n).map(|(b, _)| from + b).unwrap_or(text.len())
}

/// One problem with a spec: what is wrong, where, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Option<Span>,
    /// A short note under the marked place.
    pub label: Option<String>,
    /// What to do: a did-you-mean, the expected form.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Option<Span>) -> Self {
        Diagnostic { message: message.into(), span, label: None, help: None }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// Every problem found in one spec, with the file they refer to, and those found in the
/// files of the components it uses, each with its own file.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    pub file: SourceFile,
    pub items: Vec<Diagnostic>,
    pub more: Vec<Diagnostics>,
}

impl Diagnostics {
    pub fn new(file: SourceFile, items: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics { file, items, more: Vec::new() }
    }

    /// Every problem, in every file.
    pub fn count(&self) -> usize {
        self.items.len() + self.more.iter().map(Diagnostics::count).sum::<usize>()
    }

    /// Every problem with the name of its file, this file's first.
    pub fn all(&self) -> Vec<(&str, &Diagnostic)> {
        let mut out: Vec<(&str, &Diagnostic)> = self.items.iter().map(|d| (self.file.name.as_str(), d)).collect();
        out.extend(self.more.iter().flat_map(Diagnostics::all));
        out
    }

    /// Renders every diagnostic as `error: ...` with `--> file:line:col`, the line
    /// marked, and the help; with ANSI colours when `color` is set.
    pub fn render(&self, color: bool) -> String {
        let files = SimpleFile::new(self.file.name.as_str(), self.file.text.as_str());
        let config = Config::default();
        let mut out = Vec::new();
        for d in &self.items {
            let diag = self.to_codespan(d);
            let result = if color {
                let styles = Styles::default();
                let mut w = StylesWriter::new(termcolor::Ansi::new(&mut out), &styles);
                term::emit_to_write_style(&mut w, &config, &files, &diag)
            } else {
                term::emit_to_io_write(&mut out, &config, &files, &diag)
            };
            if result.is_err() {
                out.extend_from_slice(format!("error: {}\n", d.message).as_bytes());
            }
        }
        let n = self.items.len();
        if n > 0 || self.more.is_empty() {
            let line = format!("{n} error{} in {}\n", if n == 1 { "" } else { "s" }, self.file.name);
            out.extend_from_slice(line.as_bytes());
        }
        let mut text = String::from_utf8_lossy(&out).into_owned();
        for more in &self.more {
            text.push_str(&more.render(color));
        }
        text
    }

    fn to_codespan(&self, d: &Diagnostic) -> CsDiagnostic<()> {
        let mut diag = CsDiagnostic::error().with_message(&d.message);
        if let Some(span) = d.span {
            let range: Range<usize> = span.start..span.end.max(span.start);
            let mut label = Label::primary((), range);
            if let Some(l) = &d.label {
                label = label.with_message(l);
            }
            diag = diag.with_labels(vec![label]);
        }
        if let Some(h) = &d.help {
            diag = diag.with_notes(vec![format!("help: {h}")]);
        }
        diag
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Jaro-Winkler ranks long names well; short words (`tpc` for `tcp`) need an edit
    // distance, where one swap or typo is a likely slip.
    candidates
        .into_iter()
        .map(|c| {
            let close_edit = word.len() >= 3 && strsim::damerau_levenshtein(word, c) <= 1;
            (strsim::jaro_winkler(word, c).max(if close_edit { 0.85 } else { 0.0 }), c)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("cidr_blok", ["cidr_block", "vpc_id"]), Some("cidr_block"));
        assert_eq!(did_you_mean("zzz", ["cidr_block", "vpc_id"]), None);
        assert_eq!(did_you_mean("tpc", ["tcp", "udp", "icmp", "all"]), Some("tcp"));
    }

    #[test]
    fn spans_count_lines_and_columns_from_one() {
        let text = "a: 1\nbb: ä2\n";
        let index = LineIndex::new(text);
        let s = index.span_at(text, 9, 2);
        assert_eq!((s.line, s.col), (2, 5));
        assert_eq!(&text[s.start..s.end], "ä2");
    }

    #[test]
    fn every_position_is_where_counting_from_the_start_puts_it() {
        let text = "stack: ä\n\n  x: ${a.b}\nlast ü line";
        let index = LineIndex::new(text);
        for (i, (byte, _)) in text.char_indices().enumerate() {
            let before = &text[..byte];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
            let s = index.span_at(text, i, 1);
            assert_eq!((s.start, s.line, s.col), (byte, line, col), "character {i}");
            assert_eq!(index.shift(text, s, 2, 1), index.span_at(text, i + 2, 1), "shift from {i}");
        }
        assert_eq!(index.span_at(text, 1000, 3).start, text.len(), "past the end clamps");
    }
}
