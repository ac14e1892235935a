//! Printable documents (receipts, rejection slips, forms) as a small block model, rendered to
//! PDF with the standard Helvetica fonts. Pure: bytes in memory, no files, no devices.
//!
//! The standard fonts need no embedding, which keeps a receipt around 3 KB and lets any printer
//! or viewer render it; their WinAnsi encoding covers Indonesian text. Characters outside it
//! are replaced (never dropped silently: a `?` shows where).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// One block of a document, laid out top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A large bold line.
    Title(String),
    /// A bold line.
    Heading(String),
    /// A paragraph, wrapped to the page width.
    Text(String),
    /// A label and its value on one line (the value wraps under itself).
    Field(String, String),
    /// A numbered item: number, text.
    Item(String, String),
    /// A QR code of the given text, with a caption under it.
    Qr {
        /// Encoded text.
        payload: String,
        /// Caption.
        caption: String,
    },
    /// A horizontal rule.
    Rule,
    /// Vertical space.
    Space,
}

/// A document to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Title in the PDF's metadata.
    pub title: String,
    /// Lines at the top of every page (office letterhead).
    pub letterhead: Vec<String>,
    /// The content.
    pub blocks: Vec<Block>,
    /// Footer on every page (printed at, by).
    pub footer: String,
}

/// Why a document could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The QR payload is too long for a QR code.
    #[error("the QR payload does not fit in a QR code")]
    QrTooLong,
}

const PAGE_W: f32 = 595.0; // A4 portrait, points
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.5;
const LINE: f32 = 14.5;
const FONT: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text in WinAnsi (Windows-1252) bytes; unmappable characters become `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            '\u{20AC}' => 0x80,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\t' | '\n' | '\r' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Approximate advance width of Helvetica glyphs in 1/1000 em (enough to wrap lines; exact
/// metrics would only tighten the right margin).
fn glyph_width(b: u8, bold: bool) -> f32 {
    let w = match b {
        b'i' | b'j' | b'l' | b'.' | b',' | b':' | b';' | b'\'' | b'!' | b'|' => 250.0,
        b' ' | b'f' | b't' | b'r' | b'I' | b'(' | b')' | b'[' | b']' | b'/' | b'-' => 320.0,
        b'm' | b'w' | b'M' | b'W' | b'@' => 850.0,
        b'A'..=b'Z' | b'0'..=b'9' => 660.0,
        _ => 556.0,
    };
    if bold { w * 1.06 } else { w }
}

fn text_width(bytes: &[u8], size: f32, bold: bool) -> f32 {
    bytes.iter().map(|&b| glyph_width(b, bold)).sum::<f32>() * size / 1000.0
}

/// Splits text into lines no wider than `width` points, at spaces where possible.
fn wrap(text: &str, size: f32, bold: bool, width: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in win_ansi(text).split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_vec();
        let candidate_width = |line: &Vec<u8>, word: &[u8]| {
            text_width(line, size, bold) + text_width(b" ", size, bold) + text_width(word, size, bold)
        };
        if !line.is_empty() && candidate_width(&line, &word) > width {
            lines.push(std::mem::take(&mut line));
        }
        // A word longer than the line is cut.
        while text_width(&word, size, bold) > width && word.len() > 1 {
            let mut cut = word.len();
            while cut > 1 && text_width(&word[..cut], size, bold) > width {
                cut -= 1;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word[..cut].to_vec());
            word = word[cut..].to_vec();
        }
        if !line.is_empty() {
            line.push(b' ');
        }
        line.extend_from_slice(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

struct Layout {
    pages: Vec<Content>,
    y: f32,
    letterhead: Vec<String>,
    footer: String,
}

impl Layout {
    fn new(letterhead: Vec<String>, footer: String) -> Self {
        let mut layout = Layout { pages: Vec::new(), y: 0.0, letterhead, footer };
        layout.new_page();
        layout
    }

    fn current(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a page always exists")
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
        let head = self.letterhead.clone();
        for (i, line) in head.iter().enumerate() {
            let (size, bold) = if i == 0 { (12.0, true) } else { (9.5, false) };
            self.text_line(&win_ansi(line), MARGIN, size, bold);
            self.y -= size + 3.0;
        }
        if !head.is_empty() {
            self.y -= 4.0;
            let y = self.y;
            self.current().set_line_width(1.2).move_to(MARGIN, y).line_to(PAGE_W - MARGIN, y).stroke();
            self.y -= 18.0;
        }
        let footer = win_ansi(&self.footer);
        let number = self.pages.len();
        let c = self.current();
        c.begin_text().set_font(FONT, 8.0).next_line(MARGIN, MARGIN - 24.0).show(Str(&footer)).end_text();
        let page = format!("{number}");
        c.begin_text()
            .set_font(FONT, 8.0)
            .next_line(PAGE_W - MARGIN - 10.0, MARGIN - 24.0)
            .show(Str(page.as_bytes()))
            .end_text();
    }

    fn need(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn text_line(&mut self, bytes: &[u8], x: f32, size: f32, bold: bool) {
        let y = self.y - size;
        self.current()
            .begin_text()
            .set_font(if bold { BOLD } else { FONT }, size)
            .next_line(x, y)
            .show(Str(bytes))
            .end_text();
    }

    fn paragraph(&mut self, text: &str, x: f32, size: f32, bold: bool) {
        for line in wrap(text, size, bold, PAGE_W - MARGIN - x) {
            self.need(size + 4.0);
            self.text_line(&line, x, size, bold);
            self.y -= size + 4.0;
        }
    }

    fn qr(&mut self, payload: &str, caption: &str) -> Result<(), RenderError> {
        let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
            .map_err(|_| RenderError::QrTooLong)?;
        let modules = code.width();
        let size = 130.0_f32;
        let cell = size / modules as f32;
        self.need(size + 30.0);
        let top = self.y - 4.0;
        let colors = code.to_colors();
        let c = self.current();
        c.save_state().set_fill_gray(0.0);
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (x, y) = ((i % modules) as f32, (i / modules) as f32);
                c.rect(MARGIN + x * cell, top - (y + 1.0) * cell, cell, cell);
            }
        }
        c.fill_nonzero().restore_state();
        self.y = top - size - 6.0;
        self.paragraph(caption, MARGIN, 8.0, false);
        Ok(())
    }
}

/// Renders a document to PDF bytes.
pub fn render(doc: &Document) -> Result<Vec<u8>, RenderError> {
    let mut layout = Layout::new(doc.letterhead.clone(), doc.footer.clone());
    for block in &doc.blocks {
        match block {
            Block::Title(t) => {
                layout.need(30.0);
                layout.paragraph(t, MARGIN, 15.0, true);
                layout.y -= 6.0;
            }
            Block::Heading(t) => {
                layout.need(LINE * 2.0);
                layout.y -= 4.0;
                layout.paragraph(t, MARGIN, 11.5, true);
            }
            Block::Text(t) => layout.paragraph(t, MARGIN, BODY, false),
            Block::Field(label, value) => {
                layout.need(LINE);
                let y = layout.y;
                layout.text_line(&win_ansi(label), MARGIN, BODY, false);
                layout.y = y;
                let value = if value.trim().is_empty() { "-" } else { value };
                layout.paragraph(value, MARGIN + 150.0, BODY, true);
            }
            Block::Item(number, text) => {
                layout.need(LINE);
                let y = layout.y;
                layout.text_line(&win_ansi(number), MARGIN + 6.0, BODY, true);
                layout.y = y;
                layout.paragraph(text, MARGIN + 28.0, BODY, false);
            }
            Block::Qr { payload, caption } => layout.qr(payload, caption)?,
            Block::Rule => {
                layout.need(12.0);
                layout.y -= 5.0;
                let y = layout.y;
                layout.current().set_line_width(0.5).move_to(MARGIN, y).line_to(PAGE_W - MARGIN, y).stroke();
                layout.y -= 7.0;
            }
            Block::Space => layout.y -= LINE,
        }
    }
    Ok(assemble(&doc.title, layout.pages))
}

fn assemble(title: &str, pages: Vec<Content>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 10;
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(first_page + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(TextStr(title)).producer(TextStr("Simpul"));
    for (i, content) in pages.into_iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(tree).contents(content_id);
        page.resources().fonts().pair(FONT, font).pair(BOLD, bold);
        page.finish();
        // Content streams of a receipt are a few KB: left uncompressed, which also keeps them
        // readable in tests and by printers' own PDF interpreters.
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

/// One scanned page as a JPEG, for [`scans_pdf`].
#[derive(Clone, Copy)]
pub struct JpegPage<'a> {
    /// The JPEG bytes, embedded as they are (no re-encoding).
    pub jpeg: &'a [u8],
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Resolution it was scanned at, which gives the page its paper size.
    pub dpi: u32,
    /// One grey channel (else RGB).
    pub grey: bool,
}

/// Width, height and colour components of a baseline or progressive JPEG, read from its
/// start-of-frame marker; `None` for bytes that are not such a JPEG.
pub fn jpeg_frame(bytes: &[u8]) -> Option<(u32, u32, u8)> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let f = bytes.get(i + 4..i + 4 + 6)?;
            let height = u32::from(u16::from_be_bytes([f[1], f[2]]));
            let width = u32::from(u16::from_be_bytes([f[3], f[4]]));
            return (width > 0 && height > 0).then_some((width, height, f[5]));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// Puts JPEG pages (a feeder's scan) into one PDF, one page each at its paper size.
pub fn scans_pdf(title: &str, pages: &[JpegPage<'_>]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let ids: Vec<(Ref, Ref, Ref)> =
        (0..pages.len() as i32).map(|i| (Ref::new(10 + 3 * i), Ref::new(11 + 3 * i), Ref::new(12 + 3 * i))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(p, _, _)| *p)).count(pages.len() as i32);
    pdf.document_info(info).title(TextStr(title)).producer(TextStr("Simpul"));
    for (page, (page_id, content_id, image_id)) in pages.iter().zip(ids) {
        let dpi = page.dpi.max(1) as f32;
        let (w, h) = (page.width as f32 * 72.0 / dpi, page.height as f32 * 72.0 / dpi);
        let mut image = pdf.image_xobject(image_id, page.jpeg);
        image.filter(pdf_writer::Filter::DctDecode);
        image.width(page.width as i32).height(page.height as i32).bits_per_component(8);
        if page.grey {
            image.color_space().device_gray();
        } else {
            image.color_space().device_rgb();
        }
        image.finish();
        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, w, h)).parent(tree).contents(content_id);
        p.resources().x_objects().pair(Name(b"Im"), image_id);
        p.finish();
        let mut content = Content::new();
        content.save_state().transform([w, 0.0, 0.0, h, 0.0, 0.0]).x_object(Name(b"Im")).restore_state();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(blocks: Vec<Block>) -> Document {
        Document {
            title: "Tanda terima".into(),
            letterhead: vec!["KECAMATAN KUTA".into(), "Jl. Raya Kuta".into()],
            blocks,
            footer: "Dicetak 21-11-2026 10:00 WITA".into(),
        }
    }

    #[test]
    fn jpeg_frames_are_read_and_junk_is_not() {
        // SOI, APP0 of length 4, SOF0: precision 8, height 2, width 3, 1 component.
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xC0, 0x00, 0x0B, 8, 0, 2, 0, 3, 1, 1, 0x11, 0];
        assert_eq!(jpeg_frame(&jpeg), Some((3, 2, 1)));
        assert_eq!(jpeg_frame(b"%PDF-1.4"), None);
        assert_eq!(jpeg_frame(&jpeg[..12]), None);
        assert_eq!(jpeg_frame(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00]), None);
        let pdf = scans_pdf("Pindaian", &[JpegPage { jpeg: &jpeg, width: 3, height: 2, dpi: 300, grey: true }; 2]);
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(String::from_utf8_lossy(&pdf).matches("/DCTDecode").count(), 2);
    }

    #[test]
    fn renders_a_pdf_with_the_text_in_it() {
        let pdf = render(&sample(vec![
            Block::Title("TANDA TERIMA".into()),
            Block::Field("Nomor".into(), "510302-20261121-0007".into()),
            Block::Qr { payload: "SIMPUL1.abc".into(), caption: "Pindai untuk memeriksa".into() },
        ]))
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(TANDA TERIMA) Tj"));
        assert!(text.contains("(510302-20261121-0007) Tj"));
        assert!(text.contains("/Helvetica-Bold"));
        assert!(text.contains("WinAnsiEncoding"));
    }

    #[test]
    fn long_documents_flow_onto_more_pages() {
        let blocks = (0..200).map(|i| Block::Item(format!("{i}."), "Fotokopi Kartu Keluarga".into())).collect();
        let pdf = render(&sample(blocks)).unwrap();
        let text = String::from_utf8_lossy(&pdf);
        let count: usize =
            text.split("/Count ").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
        assert!(count >= 4, "200 items on {count} page(s)");
        assert_eq!(text.matches("(199.) Tj").count(), 1);
    }

    #[test]
    fn text_outside_win_ansi_is_marked_not_lost() {
        assert_eq!(win_ansi("Né – 名"), vec![b'N', 0xE9, b' ', 0x96, b' ', b'?']);
    }

    #[test]
    fn wrapping_keeps_every_word_and_cuts_overlong_ones() {
        let text = "a ".repeat(300) + &"x".repeat(400);
        let lines = wrap(&text, 10.0, false, 200.0);
        assert!(lines.iter().all(|l| text_width(l, 10.0, false) <= 200.0));
        let joined: usize = lines.iter().map(|l| l.iter().filter(|&&b| b != b' ').count()).sum();
        assert_eq!(joined, 700);
    }

    #[test]
    fn a_payload_too_long_for_a_qr_code_is_an_error() {
        let err = render(&sample(vec![Block::Qr { payload: "x".repeat(5000), caption: String::new() }]));
        assert_eq!(err, Err(RenderError::QrTooLong));
    }

    proptest::proptest! {
        #[test]
        fn any_text_renders(s in "\\PC{0,300}") {
            let pdf = render(&sample(vec![Block::Text(s.clone()), Block::Field(s.clone(), s)])).unwrap();
            proptest::prop_assert!(pdf.starts_with(b"%PDF-"));
        }
    }
}
