//! The live preview (`STREAM`): a `multipart/x-mixed-replace` answer split into its frames,
//! each bounded, whatever size the chunks arrive in.

/// Why a preview stream could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamProblem {
    /// The answer is not `multipart/x-mixed-replace` with a boundary.
    #[error("the preview is not a multipart/x-mixed-replace stream with a boundary")]
    NotMultipart,
    /// A frame (or the bytes before the next boundary) passed the size limit.
    #[error("a preview frame is larger than {0} bytes")]
    TooLarge(usize),
    /// A part is not an image the page can show, or its bytes are not what it claims.
    #[error("a preview frame is not a JPEG or PNG image")]
    NotAnImage,
    /// A part's headers cannot be read.
    #[error("a preview frame's headers cannot be read")]
    BadHeaders,
}

/// One preview frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewFrame {
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    /// The image.
    pub bytes: Vec<u8>,
}

/// Splits a `multipart/x-mixed-replace` preview (the answer to `STREAM`) into its frames as
/// the bytes arrive, whatever the chunking. Each frame and whatever waits for the next
/// boundary is bounded by a size limit, so an endless part cannot fill memory.
#[derive(Clone, Debug)]
pub struct FrameSplitter {
    delimiter: Vec<u8>,
    /// For a boundary that begins with `--`: the boundary itself, which some devices use as the
    /// delimiter (against RFC 2046) where the standard one is `--` and the boundary.
    alternative: Option<Vec<u8>>,
    pub(crate) buffer: Vec<u8>,
    limit: usize,
    ended: bool,
}

impl FrameSplitter {
    /// A splitter for an answer of `content_type`, each frame at most `limit` bytes.
    pub fn new(content_type: &str, limit: usize) -> Result<FrameSplitter, StreamProblem> {
        let mut params = content_type.split(';');
        let essence = params.next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("multipart/x-mixed-replace") {
            return Err(StreamProblem::NotMultipart);
        }
        let boundary = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
            .map(|(_, v)| v.trim().trim_matches('"'))
            // A boundary is 1-70 characters (RFC 2046).
            .filter(|b| !b.is_empty() && b.len() <= 70 && b.bytes().all(|c| c.is_ascii_graphic() || c == b' '))
            .ok_or(StreamProblem::NotMultipart)?;
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let alternative = (boundary.starts_with("--") && boundary.len() > 2).then(|| boundary.as_bytes().to_vec());
        Ok(FrameSplitter { delimiter, alternative, buffer: Vec::new(), limit, ended: false })
    }

    /// Whether the closing boundary was seen.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Takes the next bytes of the answer; returns the frames they completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<PreviewFrame>, StreamProblem> {
        let mut frames = Vec::new();
        if self.ended {
            return Ok(frames);
        }
        self.buffer.extend_from_slice(chunk);
        while let Some(frame) = self.next_frame()? {
            frames.push(frame);
        }
        // Headers of a few hundred bytes besides the frame itself.
        if self.buffer.len() > self.limit + 4096 {
            return Err(StreamProblem::TooLarge(self.limit));
        }
        Ok(frames)
    }

    fn next_frame(&mut self) -> Result<Option<PreviewFrame>, StreamProblem> {
        if self.ended {
            return Ok(None);
        }
        // Which delimiter the device uses is settled by the first one seen.
        let mut found = find(&self.buffer, &self.delimiter);
        if found.is_some() {
            self.alternative = None;
        } else if let Some(at) = self.alternative.as_ref().and_then(|alternative| find(&self.buffer, alternative)) {
            self.delimiter = self.alternative.take().unwrap_or_default();
            found = Some(at);
        }
        let Some(start) = found else {
            // Keep only a tail that could still begin a delimiter.
            let keep = self.delimiter.len().min(self.buffer.len());
            self.buffer.drain(..self.buffer.len() - keep);
            return Ok(None);
        };
        let after = start + self.delimiter.len();
        if self.buffer.len() < after + 2 {
            return Ok(None);
        }
        if &self.buffer[after..after + 2] == b"--" {
            self.ended = true;
            self.buffer.clear();
            return Ok(None);
        }
        let Some(headers_end) = find(&self.buffer[after..], b"\r\n\r\n").map(|i| after + i) else {
            if self.buffer.len() - after > 4096 {
                return Err(StreamProblem::BadHeaders);
            }
            return Ok(None);
        };
        let headers = std::str::from_utf8(&self.buffer[after..headers_end]).map_err(|_| StreamProblem::BadHeaders)?;
        let (mut mime, mut length) = (None, None);
        for line in headers.split("\r\n").map(str::trim).filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or(StreamProblem::BadHeaders)?;
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-type") {
                mime = Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
            } else if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().map_err(|_| StreamProblem::BadHeaders)?);
            }
        }
        let body_start = headers_end + 4;
        let body_end = match length {
            Some(n) if n > self.limit => return Err(StreamProblem::TooLarge(self.limit)),
            Some(n) => {
                if self.buffer.len() < body_start + n {
                    return Ok(None);
                }
                body_start + n
            }
            // Without a length the frame runs up to the next delimiter's line break.
            None => {
                let mut marker = b"\r\n".to_vec();
                marker.extend_from_slice(&self.delimiter);
                match find(&self.buffer[body_start..], &marker) {
                    Some(i) => body_start + i,
                    None if self.buffer.len() - body_start > self.limit => {
                        return Err(StreamProblem::TooLarge(self.limit));
                    }
                    None => return Ok(None),
                }
            }
        };
        let bytes = self.buffer[body_start..body_end].to_vec();
        self.buffer.drain(..body_end);
        let mime = match mime.as_deref() {
            Some("image/jpeg") if bytes.starts_with(&[0xff, 0xd8, 0xff]) => "image/jpeg",
            Some("image/png") if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => "image/png",
            _ => return Err(StreamProblem::NotAnImage),
        };
        Ok(Some(PreviewFrame { mime, bytes }))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
