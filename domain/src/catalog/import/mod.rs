//! Reads a published service standard (standar pelayanan) into a [`ServiceStandard`].
//!
//! Two layouts occur in the wild and both are read by the same pipeline:
//! - Markdown-like: headings with `#`, links in `<...>` or `[text](target)`, hard line breaks
//!   written as two trailing spaces;
//! - plain text: the office letterhead repeated at every page break, items wrapped over lines,
//!   sub-steps inline as "a. ... b. ...", empty sections, and procedure lists printed twice (once
//!   in capitals).
//!
//! The pipeline: clean each line (keeping its number) -> find the section headings -> take the
//! letterhead, title and SK number from what precedes the first heading -> drop repeated
//! letterheads and page numbers from the body -> parse each section into a tree of list items ->
//! interpret each section. Errors name the line and the section; warnings say what was guessed.

mod contacts;
mod text;

use contacts::*;
use text::{Item, Line, MarkerKind};

use std::fmt;

use super::completion::{Completion, parse_completion_time};
use super::model::{Fee, FeeKind, ProcedureStep, Requirement, Section, ServiceKind, ServiceStandard};
use crate::text::{fold, is_shouting, squash, word_similarity};

/// Largest file accepted. Published standards are a few kilobytes.
pub const MAX_STANDARD_BYTES: usize = 512 * 1024;

/// A standard read from a file, with what the reader had to guess.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The standard.
    pub standard: ServiceStandard,
    /// Things worth a look: repaired or left-out parts, empty sections.
    pub warnings: Vec<ImportWarning>,
}

/// Something the reader guessed or left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportWarning {
    /// Line it concerns (1-based), when there is one.
    pub line: Option<usize>,
    /// Section it concerns.
    pub section: Option<Section>,
    /// What happened.
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        locate(f, self.line, self.section)?;
        f.write_str(&self.message)
    }
}

fn locate(f: &mut fmt::Formatter<'_>, line: Option<usize>, section: Option<Section>) -> fmt::Result {
    match (line, section) {
        (Some(l), Some(s)) => write!(f, "line {l}, section '{s}': "),
        (Some(l), None) => write!(f, "line {l}: "),
        (None, Some(s)) => write!(f, "section '{s}': "),
        (None, None) => Ok(()),
    }
}

/// Why a file could not be read as a standard. Nothing is imported from it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    /// Line of the problem (1-based), when it has one.
    pub line: Option<usize>,
    /// Section of the problem.
    pub section: Option<Section>,
    /// The problem.
    pub kind: ImportErrorKind,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        locate(f, self.line, self.section)?;
        write!(f, "{}", self.kind)
    }
}

/// The kinds of unreadable files.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportErrorKind {
    /// Binary data or text that is not UTF-8.
    #[error("this is not a UTF-8 text file")]
    NotText,
    /// Over [`MAX_STANDARD_BYTES`].
    #[error("the file has {0} bytes; a service standard has at most {MAX_STANDARD_BYTES}")]
    TooLarge(usize),
    /// Nothing but whitespace.
    #[error("the file is empty")]
    Empty,
    /// None of the section headings of a service standard occur.
    #[error(
        "not a service standard in either known layout: no section heading such as 'Persyaratan', \
         'Sistem, Mekanisme dan Prosedur' or 'Waktu Penyelesaian' was found"
    )]
    NoSections,
    /// Nothing before the first section that could be the service's name.
    #[error("no service title before the first section")]
    NoTitle,
    /// A section every standard has is missing.
    #[error("the section '{0}' is missing")]
    MissingSection(Section),
    /// The completion time section has text but no duration in it.
    #[error("cannot read a completion time (e.g. '1 Hari kerja', '10 Menit') from \"{0}\"")]
    CompletionTime(String),
}

fn error(line: Option<usize>, section: Option<Section>, kind: ImportErrorKind) -> ImportError {
    ImportError { line, section, kind }
}

/// Reads one published standard. `source` is only used in messages.
pub fn import_standard(bytes: &[u8]) -> Result<Imported, ImportError> {
    if bytes.len() > MAX_STANDARD_BYTES {
        return Err(error(None, None, ImportErrorKind::TooLarge(bytes.len())));
    }
    if bytes.contains(&0) {
        return Err(error(None, None, ImportErrorKind::NotText));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        error(Some(line), None, ImportErrorKind::NotText)
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(error(None, None, ImportErrorKind::Empty));
    }
    let lines = clean_lines(text);
    Reader { lines, warnings: Vec::new() }.read()
}

fn clean_lines(text: &str) -> Vec<Line> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    normalised
        .split('\n')
        .enumerate()
        .map(|(i, raw)| {
            let hard_break = raw.ends_with("  ") || raw.ends_with('\\');
            let mut s: String = raw
                .chars()
                .map(|c| if c.is_whitespace() { ' ' } else { c })
                .filter(|c| !matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'))
                .collect();
            s = s.trim().to_string();
            let hashes = s.chars().take_while(|&c| c == '#').count();
            let level = if (1..=6).contains(&hashes) && s[hashes..].starts_with(' ') {
                s = s[hashes..].trim().to_string();
                hashes
            } else {
                0
            };
            Line { no: i + 1, text: clean_markdown(&s), level, hard_break }
        })
        .collect()
}

/// Removes Markdown decoration: `<url>` -> url, `[text](target)` -> text (plus the target when it
/// says more than the text), `**bold**` -> bold, backslash escapes -> the character.
fn clean_markdown(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '<'
            && let Some(end) = chars[i + 1..].iter().position(|&c| c == '>')
        {
            let inner: String = chars[i + 1..i + 1 + end].iter().collect();
            if inner.starts_with("http") || inner.starts_with("mailto:") || inner.starts_with("www.") {
                out.push_str(inner.trim_start_matches("mailto:"));
                i += end + 2;
                continue;
            }
        }
        if c == '['
            && let Some(close) = find_unescaped(&chars, i + 1, ']')
            && chars.get(close + 1) == Some(&'(')
            && let Some(end) = find_link_end(&chars, close + 2)
        {
            let label = clean_markdown(&chars[i + 1..close].iter().collect::<String>());
            let target: String = chars[close + 2..end].iter().collect();
            let target = target.trim_start_matches("mailto:");
            out.push_str(&label);
            let bare = |t: &str| t.trim_start_matches("https://").trim_start_matches("http://").to_lowercase();
            if !bare(&label).contains(&bare(target)) {
                out.push_str(&format!(" ({target})"));
            }
            i = end + 1;
            continue;
        }
        if (c == '*' || c == '_') && chars.get(i + 1) == Some(&c) {
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    squash(&out)
}

fn find_unescaped(chars: &[char], from: usize, wanted: char) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == wanted {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// End of a link target `(...)`, allowing balanced parentheses inside it.
fn find_link_end(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits a list marker off the start of a line: kind, ordinal, the rest.
fn split_marker(text: &str) -> Option<(MarkerKind, u32, &str)> {
    let bytes = text.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if (1..=3).contains(&digits) {
        let after = &text[digits..];
        let n: u32 = text[..digits].parse().ok()?;
        if let Some(rest) = after.strip_prefix('.') {
            // "1. Foo" and "1.Foo" are items; "1.02" and "10 Menit" are not.
            if rest.starts_with(' ') || rest.starts_with(|c: char| c.is_alphabetic()) {
                return Some((MarkerKind::NumberDot, n, rest.trim_start()));
            }
            if rest.is_empty() {
                return Some((MarkerKind::NumberDot, n, ""));
            }
        }
        if let Some(rest) = after.strip_prefix(')')
            && (rest.starts_with(' ') || rest.is_empty())
        {
            return Some((MarkerKind::NumberParen, n, rest.trim_start()));
        }
        return None;
    }
    let mut chars = text.chars();
    let first = chars.next()?;
    if matches!(first, '-' | '•' | '*' | '·' | '▪' | '●' | '○' | '–' | '\u{f0b7}' | '►' | '➢') {
        let rest = chars.as_str();
        if rest.starts_with(' ') {
            return Some((MarkerKind::Bullet, 0, rest.trim_start()));
        }
        return None;
    }
    if first.is_ascii_alphabetic() {
        let second = chars.next()?;
        let rest = chars.as_str();
        if (second == '.' || second == ')') && (rest.starts_with(' ') || rest.is_empty()) {
            let ordinal = u32::from(first.to_ascii_lowercase() as u8 - b'a' + 1);
            let kind = match (first.is_ascii_lowercase(), second) {
                (true, '.') => MarkerKind::LowerDot,
                (true, _) => MarkerKind::LowerParen,
                (false, _) => MarkerKind::UpperDot,
            };
            return Some((kind, ordinal, rest.trim_start()));
        }
    }
    None
}

/// Recognises a section heading, with or without a `#`, a list marker or a Roman numeral in
/// front ("A. PERSYARATAN", "II. Prosedur").
fn heading_of(line: &Line) -> Option<Section> {
    if line.text.is_empty() || line.text.chars().count() > 80 {
        return None;
    }
    if let Some(section) = Section::from_heading(&fold(&line.text)) {
        return Some(section);
    }
    let roman = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"];
    let (head, rest) = line.text.split_once(['.', ')'])?;
    let head = head.trim().to_lowercase();
    let is_marker = (!head.is_empty() && head.len() <= 2 && head.chars().all(|c| c.is_ascii_digit()))
        || (head.len() == 1 && head.chars().all(|c| c.is_ascii_alphabetic()))
        || roman.contains(&head.as_str());
    if is_marker { Section::from_heading(&fold(rest)) } else { None }
}

/// A section's content: paragraphs before the first item, the items, notes after them.
#[derive(Debug, Default)]
struct Block {
    intro: Vec<(usize, String)>,
    items: Vec<Item>,
    notes: Vec<(usize, String)>,
}

fn is_note_start(text: &str) -> bool {
    let f = fold(text);
    ["catatan", "keterangan", "ket ", "note", "nb "].iter().any(|p| f.starts_with(p) || f == p.trim())
}

/// Parses a section's lines into paragraphs and a tree of items.
fn parse_block(lines: &[Line]) -> Block {
    let mut block = Block::default();
    // Path of open items as indices: stack[d] is the index in the children list at depth d.
    let mut levels: Vec<MarkerKind> = Vec::new();
    let mut open_depth = 0usize; // how many items are open (0 = none)
    let mut previous_blank = true;
    let mut previous_hard_break = false;
    let mut in_notes = false;

    fn item_at(items: &mut [Item], depth: usize) -> &mut Item {
        let mut cur = items.last_mut().expect("open item");
        for _ in 1..depth {
            cur = cur.children.last_mut().expect("open child");
        }
        cur
    }

    for line in lines {
        if line.is_blank() {
            previous_blank = true;
            previous_hard_break = false;
            continue;
        }
        if let Some((kind, ordinal, rest)) = split_marker(&line.text).filter(|_| !in_notes) {
            let depth = match levels.iter().position(|&k| k == kind) {
                Some(d) if d <= open_depth => d,
                _ => open_depth.min(levels.len()),
            };
            levels.truncate(depth);
            levels.push(kind);
            let item = Item { line: line.no, kind, ordinal, text: rest.to_string(), children: Vec::new() };
            if depth == 0 {
                block.items.push(item);
            } else {
                item_at(&mut block.items, depth).children.push(item);
            }
            open_depth = depth + 1;
        } else if in_notes || (open_depth > 0 && previous_blank && is_note_start(&line.text)) {
            // A note after the list closes it.
            if in_notes && !previous_blank {
                if let Some(last) = block.notes.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(&line.text);
                }
            } else {
                block.notes.push((line.no, line.text.clone()));
            }
            in_notes = true;
            open_depth = 0;
        } else if open_depth > 0 {
            // A wrapped line, or text under an item: it continues the deepest open item.
            let item = item_at(&mut block.items, open_depth);
            if !item.text.is_empty() {
                item.text.push(' ');
            }
            item.text.push_str(&line.text);
        } else if !previous_blank && previous_hard_break && !block.intro.is_empty() {
            let last = block.intro.last_mut().expect("intro");
            last.1.push(' ');
            last.1.push_str(&line.text);
        } else if !previous_blank && !block.intro.is_empty() && !ends_sentence(&block.intro.last().expect("intro").1) {
            // A paragraph wrapped without a hard break.
            let last = block.intro.last_mut().expect("intro");
            last.1.push(' ');
            last.1.push_str(&line.text);
        } else {
            block.intro.push((line.no, line.text.clone()));
        }
        previous_blank = false;
        previous_hard_break = line.hard_break;
    }
    block
}

fn ends_sentence(text: &str) -> bool {
    text.ends_with(['.', ':', ';', '!', '?'])
}

/// Splits inline sub-steps off a text: "Mekanisme : a. OA mengisi F.1.02 b. OA melampirkan KK"
/// gives ("Mekanisme :", ["OA mengisi F.1.02", "OA melampirkan KK"]). Markers must run a, b, c...
/// (or 1), 2), 3)...) in order, each preceded by a space, with at least two of them.
fn split_inline(text: &str) -> (String, Vec<String>) {
    for style in [InlineStyle::Letter, InlineStyle::NumberParen] {
        let positions = inline_markers(text, style);
        if positions.len() >= 2 {
            let head = text[..positions[0].0].trim().to_string();
            let mut parts = Vec::new();
            for (k, &(_, body)) in positions.iter().enumerate() {
                let end = positions.get(k + 1).map_or(text.len(), |p| p.0);
                let part = text[body..end].trim().trim_end_matches([';', ',']).trim().to_string();
                if !part.is_empty() {
                    parts.push(part);
                }
            }
            return (head, parts);
        }
    }
    (text.to_string(), Vec::new())
}

#[derive(Clone, Copy)]
enum InlineStyle {
    Letter,
    NumberParen,
}

/// Positions (marker start, body start) of a run of inline markers in order.
fn inline_markers(text: &str, style: InlineStyle) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut expected = 1u32;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || bytes[i - 1] == b' ';
        if at_word_start {
            let hit = match style {
                InlineStyle::Letter => {
                    let want = b'a' + (expected as u8 - 1);
                    expected <= 26
                        && bytes[i] == want
                        && matches!(bytes.get(i + 1), Some(b'.') | Some(b')'))
                        && bytes.get(i + 2) == Some(&b' ')
                }
                InlineStyle::NumberParen => {
                    let want = expected.to_string();
                    text[i..].starts_with(&want)
                        && bytes.get(i + want.len()) == Some(&b')')
                        && bytes.get(i + want.len() + 1) == Some(&b' ')
                }
            };
            if hit {
                let marker_len = match style {
                    InlineStyle::Letter => 2,
                    InlineStyle::NumberParen => expected.to_string().len() + 1,
                };
                // The first marker must not open the text: then it is a list line, not inline.
                if !(found.is_empty() && i == 0) {
                    found.push((i, i + marker_len + 1));
                    expected += 1;
                    i += marker_len + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    found
}

struct Reader {
    lines: Vec<Line>,
    warnings: Vec<ImportWarning>,
}

struct SectionText {
    section: Section,
    heading: String,
    line: usize,
    lines: Vec<Line>,
}

impl Reader {
    fn warn(&mut self, line: Option<usize>, section: Option<Section>, message: impl Into<String>) {
        self.warnings.push(ImportWarning { line, section, message: message.into() });
    }

    fn read(mut self) -> Result<Imported, ImportError> {
        let headings: Vec<(usize, Section)> =
            self.lines.iter().enumerate().filter_map(|(i, l)| heading_of(l).map(|s| (i, s))).collect();
        let Some(&(first_heading, _)) = headings.first() else {
            return Err(error(None, None, ImportErrorKind::NoSections));
        };

        // Header: letterhead, title, SK number.
        let header: Vec<Line> = self.lines[..first_heading].to_vec();
        let (title, sk_number, letterhead) = self.read_header(&header)?;
        let issuer = parse_issuer(&letterhead);
        if issuer.agency.is_empty() {
            self.warn(None, None, "no letterhead before the title: the issuing office is unknown");
        }

        // Body: drop repeated letterheads and page numbers.
        let mut body: Vec<Line> = self.lines[first_heading..].to_vec();
        let removed = remove_repeats(&mut body, &letterhead);
        if removed > 0 {
            self.warn(None, None, format!("removed the letterhead repeated at {removed} page break(s)"));
        }

        let sections = self.split_sections(&body);
        for required in [Section::Requirements, Section::Procedure, Section::CompletionTime] {
            if !sections.iter().any(|s| s.section == required) {
                return Err(error(None, Some(required), ImportErrorKind::MissingSection(required)));
            }
        }
        for optional in [Section::Fee, Section::Products, Section::Complaints] {
            if !sections.iter().any(|s| s.section == optional) {
                self.warn(None, Some(optional), "the section is missing");
            }
        }

        let mut standard = ServiceStandard {
            kind: ServiceKind::classify(&title),
            title,
            sk_number,
            issuer,
            requirements: Vec::new(),
            requirement_notes: Vec::new(),
            procedure: Vec::new(),
            procedure_notes: Vec::new(),
            completion: None,
            fee: Fee { kind: FeeKind::Unstated, text: String::new() },
            products: Vec::new(),
            complaints_intro: None,
            complaints: Vec::new(),
            other_sections: Vec::new(),
        };

        for s in sections {
            if s.lines.iter().all(Line::is_blank) {
                self.warn(Some(s.line), Some(s.section), "the section is empty");
                continue;
            }
            let block = parse_block(&s.lines);
            match s.section {
                Section::Requirements => self.requirements(&mut standard, block),
                Section::Procedure => self.procedure(&mut standard, block),
                Section::CompletionTime => standard.completion = self.completion(&s, block)?,
                Section::Fee => standard.fee = fee(&s.lines),
                Section::Products => standard.products = list_texts(block),
                Section::Complaints => self.complaints(&mut standard, block),
                Section::Other => {
                    let text = block_text(&block);
                    standard.other_sections.push((s.heading, text));
                }
            }
        }
        if standard.fee.kind == FeeKind::AsStated {
            self.warn(None, Some(Section::Fee), "no plain amount found in the fee; the text is kept as published");
        }
        Ok(Imported { standard, warnings: self.warnings })
    }

    fn read_header(&mut self, header: &[Line]) -> Result<(String, Option<String>, Vec<Line>), ImportError> {
        let sk_index = header.iter().position(|l| {
            let f = fold(&l.text);
            f.starts_with("no sk") || f.starts_with("nomor sk") || f.starts_with("no surat keputusan")
        });
        let sk_number = sk_index.and_then(|i| {
            let text = &header[i].text;
            let value = text.split_once(':').map_or("", |(_, v)| v).trim();
            (!value.is_empty() && value != "-").then(|| value.to_string())
        });
        let before_sk = &header[..sk_index.unwrap_or(header.len())];

        // A Markdown level-1 heading is the title; otherwise the last paragraph before the SK
        // number (or before the first section).
        let (title_start, title_end) = if let Some(i) = before_sk.iter().position(|l| l.level == 1) {
            (i, i + 1)
        } else {
            let Some(end) = before_sk.iter().rposition(|l| !l.is_blank()) else {
                return Err(error(header.first().map(|l| l.no), None, ImportErrorKind::NoTitle));
            };
            let start = before_sk[..=end].iter().rposition(Line::is_blank).map_or(0, |b| b + 1);
            (start, end + 1)
        };
        let title =
            squash(&before_sk[title_start..title_end].iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join(" "));
        if title.is_empty() || title.chars().count() > 300 {
            return Err(error(before_sk.get(title_start).map(|l| l.no), None, ImportErrorKind::NoTitle));
        }
        let letterhead: Vec<Line> = before_sk[..title_start].iter().filter(|l| !l.is_blank()).cloned().collect();
        Ok((title, sk_number, letterhead))
    }

    fn split_sections(&mut self, body: &[Line]) -> Vec<SectionText> {
        let mut sections: Vec<SectionText> = Vec::new();
        for line in body {
            if let Some(section) = heading_of(line) {
                let heading = line.text.trim_end_matches(':').trim().to_string();
                if section != Section::Other && sections.iter().any(|s| s.section == section) {
                    self.warn(Some(line.no), Some(section), "the heading appears twice; the parts were joined");
                    // Move the earlier part to the end so that following lines append to it.
                    let index = sections.iter().position(|s| s.section == section).expect("found");
                    let part = sections.remove(index);
                    sections.push(part);
                    continue;
                }
                sections.push(SectionText { section, heading, line: line.no, lines: Vec::new() });
            } else if let Some(current) = sections.last_mut() {
                current.lines.push(line.clone());
            }
        }
        // Restore published order for the interpretation (joined parts sit at their first line).
        sections.sort_by_key(|s| s.line);
        sections
    }

    fn requirements(&mut self, standard: &mut ServiceStandard, block: Block) {
        let listed = !block.items.is_empty();
        let items = if listed { block.items } else { lines_as_items(&block.intro) };
        let items = self.drop_repeated_lists(items, Section::Requirements);
        for item in items {
            let (text, mut details) = split_inline(&item.text);
            details.extend(item.child_texts());
            if text.is_empty() && details.is_empty() {
                continue;
            }
            standard.requirements.push(Requirement { text: if text.is_empty() { item.text } else { text }, details });
        }
        let mut notes: Vec<(usize, String)> = if listed { block.intro } else { Vec::new() };
        notes.extend(block.notes);
        standard.requirement_notes.extend(notes.into_iter().map(|(_, n)| n).filter(|n| !is_bare_label(n)));
    }

    fn procedure(&mut self, standard: &mut ServiceStandard, block: Block) {
        let listed = !block.items.is_empty();
        // Without list markers the lines are the steps; with them, text around the list is notes.
        let mut notes: Vec<(usize, String)> = if listed { block.intro.clone() } else { Vec::new() };
        notes.extend(block.notes);
        standard.procedure_notes.extend(notes.into_iter().map(|(_, t)| t).filter(|t| !is_bare_label(t)));
        let items = if listed { block.items } else { lines_as_items(&block.intro) };
        let items = self.drop_repeated_lists(items, Section::Procedure);
        for item in items {
            let (text, mut sub_steps) = split_inline(&item.text);
            sub_steps.extend(item.child_texts());
            standard.procedure.push(ProcedureStep { text, sub_steps });
        }
    }

    /// Splits a list where its numbering starts again at 1 and drops a run that repeats an
    /// earlier one (typically the same list again in capitals), keeping the mixed-case copy.
    fn drop_repeated_lists(&mut self, items: Vec<Item>, section: Section) -> Vec<Item> {
        let mut runs: Vec<Vec<Item>> = Vec::new();
        for item in items {
            let restart = item.ordinal == 1
                && runs.last().and_then(|r| r.last()).is_some_and(|prev| prev.kind == item.kind && prev.ordinal >= 1);
            if runs.is_empty() || restart {
                runs.push(Vec::new());
            }
            runs.last_mut().expect("run").push(item);
        }
        let mut kept: Vec<Vec<Item>> = Vec::new();
        for run in runs {
            if let Some(index) = kept.iter().position(|k| is_same_list(k, &run)) {
                let line = run.first().map(|i| i.line);
                self.warn(line, Some(section), "the list is printed twice (once in capitals); one copy was kept");
                if all_shouting(&kept[index]) && !all_shouting(&run) {
                    kept[index] = run;
                }
                continue;
            }
            kept.push(run);
        }
        kept.into_iter().flatten().collect()
    }

    fn completion(&mut self, s: &SectionText, block: Block) -> Result<Option<Completion>, ImportError> {
        let mut texts: Vec<(usize, String)> = block.intro;
        texts.extend(block.items.iter().map(|i| (i.line, i.all_text())));
        texts.extend(block.notes);
        texts.sort_by_key(|(line, _)| *line);
        let Some(first) = texts.first().cloned() else {
            self.warn(Some(s.line), Some(Section::CompletionTime), "no completion time is stated");
            return Ok(None);
        };
        let Some(index) = texts.iter().position(|(_, t)| parse_completion_time(t).is_some()) else {
            return Err(error(Some(first.0), Some(Section::CompletionTime), ImportErrorKind::CompletionTime(first.1)));
        };
        let (time, range) = parse_completion_time(&texts[index].1).expect("found above");
        let line_text = &texts[index].1;
        let stated = line_text[range.clone()].trim_end_matches(['.', ',', ';']).to_string();
        let rest_of_line = format!("{} {}", &line_text[..range.start], &line_text[range.end..]);
        let rest_of_line =
            squash(rest_of_line.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '.' | '-')));
        let mut condition: Vec<String> = Vec::new();
        if !rest_of_line.is_empty() {
            condition.push(rest_of_line);
        }
        condition.extend(texts.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, (_, t))| t.clone()));
        Ok(Some(Completion { time, stated, condition: (!condition.is_empty()).then(|| condition.join("\n\n")) }))
    }

    fn complaints(&mut self, standard: &mut ServiceStandard, block: Block) {
        let intro: Vec<String> = block.intro.iter().map(|(_, t)| t.clone()).collect();
        if !intro.is_empty() && !block.items.is_empty() {
            standard.complaints_intro = Some(intro.join("\n\n"));
        }
        let items = if block.items.is_empty() { lines_as_items(&block.intro) } else { block.items };
        // Items that only name a group ("a. Pengaduan langsung:") and hold the channels.
        let grouped = items.iter().all(|i| !i.children.is_empty() && i.text.trim_end().ends_with(':'))
            || items.iter().all(|i| {
                matches!(i.kind, MarkerKind::LowerDot | MarkerKind::UpperDot | MarkerKind::LowerParen)
                    && !i.children.is_empty()
            });
        for item in items {
            if grouped {
                let group = item.text.trim_end_matches([':', ' ']).to_string();
                for child in &item.children {
                    standard.complaints.push(channel(Some(group.clone()), child));
                }
            } else {
                standard.complaints.push(channel(None, &item));
            }
        }
        for (_, note) in block.notes {
            let intro = standard.complaints_intro.get_or_insert_with(String::new);
            if !intro.is_empty() {
                intro.push_str("\n\n");
            }
            intro.push_str(&note);
        }
    }
}

fn is_bare_label(text: &str) -> bool {
    text.trim_end().ends_with(':') && text.split_whitespace().count() <= 3
}

fn all_shouting(items: &[Item]) -> bool {
    items.iter().all(|i| is_shouting(&i.text))
}

fn is_same_list(a: &[Item], b: &[Item]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    let total: f64 = a.iter().zip(b).map(|(x, y)| word_similarity(&x.all_text(), &y.all_text())).sum();
    total / a.len() as f64 >= 0.6
}

/// Unnumbered lists: each paragraph line is an item.
fn lines_as_items(intro: &[(usize, String)]) -> Vec<Item> {
    intro
        .iter()
        .filter(|(_, t)| !is_bare_label(t))
        .enumerate()
        .map(|(i, (line, text))| Item {
            line: *line,
            kind: MarkerKind::Bullet,
            ordinal: i as u32 + 1,
            text: text.clone(),
            children: Vec::new(),
        })
        .collect()
}

fn list_texts(block: Block) -> Vec<String> {
    let items = if block.items.is_empty() { lines_as_items(&block.intro) } else { block.items };
    items.iter().map(Item::all_text).filter(|t| !t.is_empty()).collect()
}

fn block_text(block: &Block) -> String {
    let mut parts: Vec<String> = block.intro.iter().map(|(_, t)| t.clone()).collect();
    parts.extend(block.items.iter().map(Item::all_text));
    parts.extend(block.notes.iter().map(|(_, t)| t.clone()));
    parts.join("\n")
}

fn fee(lines: &[Line]) -> Fee {
    let text = lines.iter().filter(|l| !l.is_blank()).map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
    let folded = fold(&text);
    if text.is_empty() {
        return Fee { kind: FeeKind::Unstated, text };
    }
    let free_words = [
        "tidak dipungut biaya",
        "tidak dipungut",
        "gratis",
        "tidak ada biaya",
        "tanpa biaya",
        "bebas biaya",
        "tidak dikenakan biaya",
        "tidak berbayar",
        "nihil",
    ];
    if free_words.iter().any(|w| folded.contains(w)) {
        return Fee { kind: FeeKind::Free, text };
    }
    match rupiah_amount(&text) {
        Some(0) => Fee { kind: FeeKind::Free, text },
        Some(n) => Fee { kind: FeeKind::Rupiah(n), text },
        None if folded == "0" || folded == "rp 0" => Fee { kind: FeeKind::Free, text },
        None => Fee { kind: FeeKind::AsStated, text },
    }
}

/// Finds "Rp 50.000", "Rp. 5.000,-", "Rp50000" and returns the amount in rupiah.
fn rupiah_amount(text: &str) -> Option<u64> {
    let lower = text.to_lowercase();
    let at = lower.find("rp")?;
    let rest = &lower[at + 2..];
    let rest = rest.trim_start_matches(['.', ' ']);
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '.' => {}
            _ => break,
        }
    }
    if digits.is_empty() || digits.len() > 15 { None } else { digits.parse().ok() }
}

/// Removes repeated letterheads (at page breaks) and page-number lines from the body.
fn remove_repeats(body: &mut Vec<Line>, letterhead: &[Line]) -> usize {
    let head: Vec<String> = letterhead.iter().map(|l| fold(&l.text)).filter(|f| !f.is_empty()).collect();
    let mut removed_blocks = 0;
    let mut drop = vec![false; body.len()];
    let mut i = 0;
    while i < body.len() {
        let f = fold(&body[i].text);
        if f.starts_with("halaman ") && f.split(' ').nth(1).is_some_and(|w| w.chars().all(|c| c.is_ascii_digit())) {
            drop[i] = true;
            i += 1;
            continue;
        }
        if !head.is_empty() && f == head[0] {
            // Match the following non-blank lines against the rest of the letterhead.
            let mut matched = vec![i];
            let mut h = 1;
            let mut j = i + 1;
            while j < body.len() && h < head.len() {
                if body[j].is_blank() {
                    j += 1;
                    continue;
                }
                if fold(&body[j].text) == head[h] {
                    matched.push(j);
                    h += 1;
                    j += 1;
                } else {
                    break;
                }
            }
            if matched.len() == head.len() || matched.len() >= 2 {
                for m in &matched {
                    drop[*m] = true;
                }
                removed_blocks += 1;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    let mut k = 0;
    body.retain(|_| {
        let keep = !drop[k];
        k += 1;
        keep
    });
    removed_blocks
}

#[cfg(test)]
mod tests;
