//! The importer's units of text: a cleaned line of the input, and a list item (with its marker
//! and nested items) as the list parser builds them.

/// One cleaned line of the input.
#[derive(Clone, Debug)]
pub(super) struct Line {
    /// 1-based line number in the file.
    pub(super) no: usize,
    /// Text without Markdown decoration, trimmed.
    pub(super) text: String,
    /// Markdown heading level (number of leading `#`), 0 for none.
    pub(super) level: usize,
    /// The raw line ended with two spaces: a Markdown hard break, the next line continues it.
    pub(super) hard_break: bool,
}

impl Line {
    pub(super) fn is_blank(&self) -> bool {
        self.text.is_empty()
    }
}

/// The kind of a list marker. Different kinds nest inside each other in the order they appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MarkerKind {
    NumberDot,
    NumberParen,
    LowerDot,
    LowerParen,
    UpperDot,
    Bullet,
}

/// One list item with its nested items.
#[derive(Clone, Debug)]
pub(super) struct Item {
    pub(super) line: usize,
    pub(super) kind: MarkerKind,
    pub(super) ordinal: u32,
    pub(super) text: String,
    pub(super) children: Vec<Item>,
}

impl Item {
    /// The item's text followed by all nested texts, for classification.
    pub(super) fn all_text(&self) -> String {
        let mut s = self.text.clone();
        for c in &self.children {
            s.push(' ');
            s.push_str(&c.all_text());
        }
        s
    }

    /// The item's children, each flattened to one string.
    pub(super) fn child_texts(&self) -> Vec<String> {
        self.children.iter().map(Item::all_text).collect()
    }
}
